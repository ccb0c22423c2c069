//! The list-stores function: see the crate docs of `list_stores`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("list-stores: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> storefleet_shared::Result<()> {
    let ctx = storefleet_shared::context::start("list-stores", list_stores::NEEDS_SINK).await?;
    let port = ctx.config.port;
    let app = list_stores::app_from_env(ctx).await?;
    storefleet_shared::server::serve(app, port).await
}
