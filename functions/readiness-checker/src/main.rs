//! The readiness-checker function: see the crate docs of `readiness_checker`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("readiness-checker: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> storefleet_shared::Result<()> {
    let ctx = storefleet_shared::context::start("readiness-checker", readiness_checker::NEEDS_SINK)
        .await?;
    let port = ctx.config.port;
    let app = readiness_checker::app_from_env(ctx).await?;
    storefleet_shared::server::serve(app, port).await
}
