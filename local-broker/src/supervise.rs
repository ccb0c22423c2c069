//! `--run NAME=PATH`: the broker starts a function binary the way Knative
//! would run its container: `PORT`, `K_SERVICE`, `K_SINK` (when a
//! SinkBinding names the Service), the rest of the environment inherited,
//! restarted with a growing delay when it exits (like CrashLoopBackOff).
//! The function's address is held by the broker ([`HeldAddress`]); the
//! function binds port 0 and writes the port it got to
//! `STOREFLEET_BOUND_ADDRESS_FILE`, and the held address forwards there.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::watch;

use crate::held::{HeldAddress, read_bound};
use crate::{Error, Result};

pub struct Process {
    pub name: String,
    pub path: PathBuf,
    /// The function's address, held by the broker for its whole run.
    pub address: Arc<HeldAddress>,
    /// Where the function writes the port it bound (a file of its own).
    pub bound_file: PathBuf,
    pub env: BTreeMap<String, String>,
}

/// Keeps `process` running until `stop` turns true; then kills it.
pub async fn supervise(process: Process, mut stop: watch::Receiver<bool>) -> Result<()> {
    let mut delay = Duration::from_millis(500);
    loop {
        let _ = std::fs::remove_file(&process.bound_file);
        let mut child = Command::new(&process.path)
            .envs(&process.env)
            .env("PORT", "0")
            .env(
                storefleet_shared::server::BOUND_ADDRESS_FILE,
                &process.bound_file,
            )
            // loopback only, like the broker itself (Knative binds all
            // interfaces of the pod; a developer's machine must not)
            .env("STOREFLEET_LISTEN_ADDRESS", "127.0.0.1")
            .env("K_SERVICE", &process.name)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| Error::Spawn {
                name: process.name.clone(),
                path: process.path.clone(),
                source,
            })?;
        tracing::info!(function = %process.name, address = %process.address.addr(), pid = child.id(), "started");
        let started = tokio::time::Instant::now();
        // once the function says which port it bound, its address forwards there
        let forward = async {
            loop {
                if let Some(bound) = read_bound(&process.bound_file, None) {
                    process.address.forward_to(Some(bound));
                    tracing::info!(function = %process.name, %bound, "listening");
                    return std::future::pending::<()>().await;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::select! {
            status = child.wait() => {
                process.address.forward_to(None);
                tracing::warn!(function = %process.name, ?status, "exited; restarting in {:?}", delay);
            }
            _ = stop.changed() => {
                process.address.forward_to(None);
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Ok(());
            }
            () = forward => unreachable!("forwarding never ends"),
        }
        // A process that ran for a while starts over with a short delay.
        if started.elapsed() > Duration::from_secs(30) {
            delay = Duration::from_millis(500);
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return Ok(()),
        }
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}
