//! `--run NAME=PATH`: the broker starts a function binary the way Knative
//! would run its container: `PORT`, `K_SERVICE`, `K_SINK` (when a
//! SinkBinding names the Service), the rest of the environment inherited,
//! restarted with a growing delay when it exits (like CrashLoopBackOff).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::watch;

use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct Process {
    pub name: String,
    pub path: PathBuf,
    pub port: u16,
    pub env: BTreeMap<String, String>,
}

/// A free loopback port, chosen by the OS. (Another process could take it
/// before the function binds it; the restart loop covers that rare case.)
pub fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}

/// Keeps `process` running until `stop` turns true; then kills it.
pub async fn supervise(process: Process, mut stop: watch::Receiver<bool>) -> Result<()> {
    let mut delay = Duration::from_millis(500);
    loop {
        let mut child = Command::new(&process.path)
            .envs(&process.env)
            .env("PORT", process.port.to_string())
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
        tracing::info!(function = %process.name, port = process.port, pid = child.id(), "started");
        let started = tokio::time::Instant::now();
        tokio::select! {
            status = child.wait() => {
                tracing::warn!(function = %process.name, ?status, "exited; restarting in {:?}", delay);
            }
            _ = stop.changed() => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Ok(());
            }
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
