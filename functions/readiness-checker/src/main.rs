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
    storefleet_shared::cli::run(
        "readiness-checker",
        readiness_checker::NEEDS_SINK,
        readiness_checker::app_from_env,
    )
    .await
}
