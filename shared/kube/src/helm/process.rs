//! One bounded helm subprocess.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// helm's storage driver for release records (see [`run_bounded`]); stores
/// installed before it was `configmap` are converted by
/// `scripts/migrate-helm-releases` (docs/production.md).
pub const HELM_DRIVER: &str = "configmap";

/// The only variables of our environment a helm child gets: where to find
/// itself and the cluster (in-cluster config reads KUBERNETES_SERVICE_*),
/// its writable directories (the root filesystem is read-only) and a proxy
/// if the cluster needs one. Everything else — DATABASE_URL if it was set,
/// the bootstrap token, K_SINK and the rest — stays out of helm, its plugins
/// and post-renderers, and `/proc/<pid>/environ`.
pub const HELM_ENV_ALLOWLIST: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "KUBECONFIG",
    "KUBERNETES_SERVICE_HOST",
    "KUBERNETES_SERVICE_PORT",
    "HELM_CACHE_HOME",
    "HELM_CONFIG_HOME",
    "HELM_DATA_HOME",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
];

/// A helm that exited by itself.
#[derive(Debug)]
pub(crate) struct Finished {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Run `bin args…`; `Ok(None)` when it had to be stopped at `timeout`.
///
/// On timeout helm gets SIGTERM first: Helm 4's upgrade/install cancel their
/// context on SIGTERM and mark the release `failed`, which a later
/// `upgrade --install` can proceed from, whereas a SIGKILLed helm leaves the
/// release `pending-*`. After `grace` it is killed. `kill_on_drop` covers the
/// caller's future being dropped (a cancelled request): the child never
/// outlives it.
pub(crate) async fn run_bounded(
    bin: &Path,
    args: &[OsString],
    timeout: Duration,
    grace: Duration,
) -> std::io::Result<Option<Finished>> {
    let mut child = Command::new(bin)
        .args(args)
        .env_clear()
        .envs(
            HELM_ENV_ALLOWLIST
                .iter()
                .filter_map(|name| std::env::var_os(name).map(|value| (name, value))),
        )
        // No colour codes in stderr; nothing read from our stdin.
        .env("NO_COLOR", "1")
        // Release records in ConfigMaps, not helm's default Secrets: the store
        // chart gets only the *name* of its Secret (existingSecret), so a
        // record holds no secret value, and the functions need no read access
        // to Secrets at all (helm/platform/templates/rbac-store-manager.yaml).
        // Set here, not inherited, because the RBAC depends on it.
        .env("HELM_DRIVER", HELM_DRIVER)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    // Read both pipes while waiting, or a chatty helm blocks on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stdout_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).await.map(|_| buf)
    });
    let stderr_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        stderr.read_to_end(&mut buf).await.map(|_| buf)
    });

    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => status?,
        Err(_) => {
            if let Some(pid) = child.id() {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
            }
            if tokio::time::timeout(grace, child.wait()).await.is_err() {
                let _ = child.kill().await;
            }
            stdout_task.abort();
            stderr_task.abort();
            return Ok(None);
        }
    };
    let stdout = stdout_task.await.map_err(std::io::Error::other)??;
    let stderr = stderr_task.await.map_err(std::io::Error::other)??;
    Ok(Some(Finished {
        success: status.success(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }))
}
