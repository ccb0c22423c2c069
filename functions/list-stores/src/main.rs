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
    storefleet_shared::cli::run(
        "list-stores",
        list_stores::NEEDS_SINK,
        list_stores::app_from_env,
    )
    .await
}
