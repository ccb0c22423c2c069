//! The create-store function: see the crate docs of `create_store`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("create-store: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> storefleet_shared::Result<()> {
    storefleet_shared::cli::run(
        "create-store",
        create_store::NEEDS_SINK,
        create_store::app_from_env,
    )
    .await
}
