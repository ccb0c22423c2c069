//! The delete-store function: see the crate docs of `delete_store`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("delete-store: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> storefleet_shared::Result<()> {
    storefleet_shared::cli::run(
        "delete-store",
        delete_store::NEEDS_SINK,
        delete_store::app_from_env,
    )
    .await
}
