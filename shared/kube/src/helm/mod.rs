//! The helm CLI runner (Helm 4).
//!
//! Why a subprocess and not a library: helm is Go; the functions' images
//! carry the same binary an operator uses by hand, so what the functions do
//! can always be reproduced with the printed command line.
//!
//! Every operation is bounded: a concurrency cap per process (above it,
//! [`Error::Busy`] so the caller answers 429 and the broker retries later), a
//! time limit per subprocess (SIGTERM first so helm records the release as
//! failed instead of leaving it `pending-*`, SIGKILL after a grace period),
//! stderr turned into a one-line reason, and a duration for the metric.

mod process;
mod reason;
mod release;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::{HistogramOpts, HistogramVec};
use tokio::sync::Semaphore;

use self::process::{Finished, run_bounded};
pub use self::process::{HELM_DRIVER, HELM_ENV_ALLOWLIST};
pub use self::reason::human_reason;
pub use self::release::{ReleaseInfo, ReleaseState, ReleaseStatus, Revision};
use crate::{Error, Result, StoreId};

/// The metric name the functions expose for helm durations.
pub const DURATION_METRIC: &str = "storefleet_helm_operation_duration_seconds";

/// A histogram for [`Helm::with_duration_histogram`]: labels `operation`
/// (`upgrade_install`, `uninstall`, `rollback`, `status`, `history`) and
/// `outcome` (`ok`, `error`, `timeout`). The caller registers it in its registry.
pub fn duration_histogram() -> prometheus::Result<HistogramVec> {
    HistogramVec::new(
        HistogramOpts::new(DURATION_METRIC, "Duration of helm CLI operations").buckets(vec![
            0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
        ]),
        &["operation", "outcome"],
    )
}

/// How helm is run. `from_env`-style parsing stays in the functions' config;
/// this takes plain values.
#[derive(Debug, Clone)]
pub struct HelmConfig {
    /// `STOREFLEET_HELM_BIN` (a name looked up on `PATH`, or a path).
    pub bin: PathBuf,
    /// `STOREFLEET_STORE_CHART`.
    pub chart: PathBuf,
    /// `STOREFLEET_STORE_VALUES`, each passed with `-f` in order.
    pub values_files: Vec<PathBuf>,
    /// `STOREFLEET_MAX_HELM_IN_FLIGHT`.
    pub max_in_flight: usize,
    /// Passed as `--kubeconfig` when set; otherwise helm infers it like
    /// kube-rs does (`KUBECONFIG`, `~/.kube/config`, in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// Bound of `upgrade --install` and `rollback` (no `--wait`: rendering and
    /// applying only, plus hooks).
    pub install_timeout: Duration,
    /// Bound of `uninstall --wait` (waits for the release's objects to go).
    pub uninstall_timeout: Duration,
    /// Bound of `status` and `history`.
    pub query_timeout: Duration,
    /// Between SIGTERM and SIGKILL when a bound is reached.
    pub stop_grace: Duration,
    /// A release `pending-*` for longer than this was left by a helm that
    /// crashed or was killed (every helm of ours ends within its bound), and
    /// is recovered; a younger one belongs to a helm still running.
    pub stuck_after: Duration,
}

impl HelmConfig {
    pub fn new(
        bin: impl Into<PathBuf>,
        chart: impl Into<PathBuf>,
        values_files: Vec<PathBuf>,
    ) -> Self {
        Self {
            bin: bin.into(),
            chart: chart.into(),
            values_files,
            max_in_flight: 4,
            kubeconfig: None,
            install_timeout: Duration::from_secs(180),
            uninstall_timeout: Duration::from_secs(300),
            query_timeout: Duration::from_secs(30),
            stop_grace: Duration::from_secs(10),
            stuck_after: Duration::from_secs(600),
        }
    }

    /// Split `STOREFLEET_STORE_VALUES` (a comma list).
    pub fn parse_values_list(list: &str) -> Vec<PathBuf> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(PathBuf::from)
            .collect()
    }
}

/// What create-store passes to the chart: its interface with the functions.
#[derive(Debug, Clone)]
pub struct StoreRelease {
    pub id: StoreId,
    /// The storefront host (`STOREFLEET_STORE_HOST_PATTERN` with the id).
    pub host: String,
}

/// A finished helm operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmRun {
    /// Wall time of the whole operation, recovery included.
    pub duration: Duration,
    /// Set when a release left `pending-*` by a crashed helm was cleared first.
    pub recovered: Option<Recovery>,
}

/// How a stuck release was cleared before the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// `pending-upgrade`/`pending-rollback` with an earlier revision: rolled back to it.
    RolledBack { from: ReleaseState },
    /// `pending-install` (nothing to roll back to): uninstalled, then installed afresh.
    Uninstalled { from: ReleaseState },
}

/// What `uninstall` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uninstalled {
    Removed,
    /// There was no such release (already uninstalled, or never installed).
    NotFound,
}

/// The helm runner. Cheap to clone; clones share the concurrency cap.
#[derive(Clone)]
pub struct Helm {
    config: Arc<HelmConfig>,
    permits: Arc<Semaphore>,
    durations: Option<HistogramVec>,
}

impl Helm {
    pub fn new(config: HelmConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
        Self {
            config: Arc::new(config),
            permits,
            durations: None,
        }
    }

    /// Record every subprocess' duration in `histogram` (see [`duration_histogram`]).
    pub fn with_duration_histogram(mut self, histogram: HistogramVec) -> Self {
        self.durations = Some(histogram);
        self
    }

    pub fn config(&self) -> &HelmConfig {
        &self.config
    }

    /// The permit for one public operation; none left means "retry later".
    fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        self.permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Busy {
                limit: self.config.max_in_flight.max(1),
            })
    }

    /// The argv of `helm upgrade --install` for a store (no `--wait`: readiness
    /// is observed by the readiness-checker; no `--create-namespace`: the
    /// namespace is applied with Storefleet's labels before).
    pub fn upgrade_install_args(&self, store: &StoreRelease) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "upgrade".into(),
            "--install".into(),
            store.id.release().into(),
            self.config.chart.clone().into(),
            "--namespace".into(),
            store.id.namespace().into(),
        ];
        for file in &self.config.values_files {
            args.push("-f".into());
            args.push(file.clone().into());
        }
        args.extend([
            "--set".into(),
            format!("storeId={}", store.id).into(),
            // --set-string: a host is never a number or a bool, whatever it looks like.
            "--set-string".into(),
            format!("ingress.host={}", escape_set_value(&store.host)).into(),
            "--set".into(),
            "existingSecret=store-credentials".into(),
            "--set".into(),
            "existingAdminSecret=store-admin".into(),
            // helm's own bound (hooks), inside ours so helm ends first and records the outcome.
            "--timeout".into(),
            helm_duration(inner_timeout(
                self.config.install_timeout,
                self.config.stop_grace,
            ))
            .into(),
        ]);
        args
    }

    /// `helm upgrade --install` of the store chart, after clearing a release
    /// that a crashed helm left `pending-*` (see `docs/kubernetes-actions.md`).
    pub async fn upgrade_install(&self, store: &StoreRelease) -> Result<HelmRun> {
        let _permit = self.permit()?;
        let started = Instant::now();
        let release = store.id.release();
        // `history --max 1` rather than `status`: Helm 4's status JSON embeds
        // every live object of the release, which we neither need nor want in memory.
        let last = self.history_inner(&store.id, Some(1)).await?.pop();
        let recovered = match last {
            Some(last) if last.status.is_pending() => Some(self.recover(&store.id, &last).await?),
            _ => None,
        };
        let finished = self
            .run(
                "upgrade_install",
                &release,
                self.upgrade_install_args(store),
                self.config.install_timeout,
            )
            .await?;
        if !finished.success {
            if reason::is_operation_in_progress(&finished.stderr) {
                return Err(Error::ReleaseLocked { release });
            }
            return Err(Error::Helm {
                operation: "upgrade --install",
                release,
                reason: human_reason(&finished.stderr),
            });
        }
        Ok(HelmRun {
            duration: started.elapsed(),
            recovered,
        })
    }

    /// Clear a `pending-*` release, if it is old enough to be a crash's leftover.
    async fn recover(&self, id: &StoreId, last: &Revision) -> Result<Recovery> {
        let release = id.release();
        let age = last
            .updated
            .map(|at| (chrono::Utc::now() - at).to_std().unwrap_or_default());
        // No timestamp: treat as old, since nothing else can tell us it is live.
        if age.is_some_and(|age| age < self.config.stuck_after) {
            return Err(Error::ReleaseLocked { release });
        }
        let from = last.status.clone();
        tracing::warn!(release = %release, state = ?from, revision = last.revision,
            "helm release left pending by an interrupted helm; recovering");
        let (operation, args, timeout, recovery) =
            if last.revision > 1 && from != ReleaseState::PendingInstall {
                // `helm rollback` without a revision goes to the previous one; it
                // does not check for pending states (Helm 4 pkg/action/rollback.go).
                let args = vec![
                    "rollback".into(),
                    release.clone().into(),
                    "--namespace".into(),
                    id.namespace().into(),
                    "--timeout".into(),
                    helm_duration(inner_timeout(
                        self.config.install_timeout,
                        self.config.stop_grace,
                    ))
                    .into(),
                ];
                (
                    "rollback",
                    args,
                    self.config.install_timeout,
                    Recovery::RolledBack { from },
                )
            } else {
                // A first install never completed: there is nothing to roll back
                // to, so remove it and let the install start afresh.
                (
                    "uninstall",
                    self.uninstall_args(id),
                    self.config.uninstall_timeout,
                    Recovery::Uninstalled { from },
                )
            };
        let finished = self.run(operation, &release, args, timeout).await?;
        if !finished.success && !reason::is_release_not_found(&finished.stderr) {
            return Err(Error::Helm {
                operation,
                release,
                reason: human_reason(&finished.stderr),
            });
        }
        Ok(recovery)
    }

    fn uninstall_args(&self, id: &StoreId) -> Vec<OsString> {
        vec![
            "uninstall".into(),
            id.release().into(),
            "--namespace".into(),
            id.namespace().into(),
            // Wait for the release's objects to be gone, children first, so the
            // namespace deletion that follows has nothing left to orphan.
            "--wait".into(),
            "--cascade".into(),
            "foreground".into(),
            // No --ignore-not-found: Helm 4.3 then prints "uninstalled" even for
            // a release that was not there; "release: not found" on stderr is
            // how we tell the two apart (a repeated delete is still harmless).
            "--timeout".into(),
            helm_duration(inner_timeout(
                self.config.uninstall_timeout,
                self.config.stop_grace,
            ))
            .into(),
        ]
    }

    /// `helm uninstall --wait --cascade foreground`; "release not found" is success.
    pub async fn uninstall(&self, id: &StoreId) -> Result<(Uninstalled, HelmRun)> {
        let _permit = self.permit()?;
        let started = Instant::now();
        let release = id.release();
        let finished = self
            .run(
                "uninstall",
                &release,
                self.uninstall_args(id),
                self.config.uninstall_timeout,
            )
            .await?;
        let outcome = if finished.success {
            Uninstalled::Removed
        } else if reason::is_release_not_found(&finished.stderr) {
            Uninstalled::NotFound
        } else {
            return Err(Error::Helm {
                operation: "uninstall",
                release,
                reason: human_reason(&finished.stderr),
            });
        };
        Ok((
            outcome,
            HelmRun {
                duration: started.elapsed(),
                recovered: None,
            },
        ))
    }

    /// `helm status -o json`; `None` when there is no such release. Only the
    /// release's name, revision and state are kept (Helm 4's JSON also
    /// carries the live objects; they are parsed past, never logged).
    pub async fn status(&self, id: &StoreId) -> Result<Option<ReleaseStatus>> {
        let _permit = self.permit()?;
        let release = id.release();
        let args = vec![
            "status".into(),
            release.clone().into(),
            "--namespace".into(),
            id.namespace().into(),
            "-o".into(),
            "json".into(),
        ];
        let finished = self
            .run("status", &release, args, self.config.query_timeout)
            .await?;
        if !finished.success {
            if reason::is_release_not_found(&finished.stderr) {
                return Ok(None);
            }
            return Err(Error::Helm {
                operation: "status",
                release,
                reason: human_reason(&finished.stderr),
            });
        }
        serde_json::from_str(&finished.stdout)
            .map(Some)
            .map_err(|source| Error::HelmOutput {
                operation: "status",
                source,
            })
    }

    /// `helm history -o json`, oldest first; empty when there is no such release.
    pub async fn history(&self, id: &StoreId) -> Result<Vec<Revision>> {
        let _permit = self.permit()?;
        self.history_inner(id, None).await
    }

    async fn history_inner(&self, id: &StoreId, max: Option<u32>) -> Result<Vec<Revision>> {
        let release = id.release();
        let mut args: Vec<OsString> = vec![
            "history".into(),
            release.clone().into(),
            "--namespace".into(),
            id.namespace().into(),
            "-o".into(),
            "json".into(),
        ];
        if let Some(max) = max {
            args.push("--max".into());
            args.push(max.to_string().into());
        }
        let finished = self
            .run("history", &release, args, self.config.query_timeout)
            .await?;
        if !finished.success {
            if reason::is_release_not_found(&finished.stderr) {
                return Ok(Vec::new());
            }
            return Err(Error::Helm {
                operation: "history",
                release,
                reason: human_reason(&finished.stderr),
            });
        }
        serde_json::from_str(&finished.stdout).map_err(|source| Error::HelmOutput {
            operation: "history",
            source,
        })
    }

    /// Run one helm subprocess within `timeout`, recording its duration.
    /// Its span (`helm`, a child of the handler's) puts the trace id on
    /// helm's log lines; the arguments stay out of it (values may be long).
    #[tracing::instrument(name = "helm", skip(self, args, timeout), fields(otel.kind = "client"))]
    async fn run(
        &self,
        operation: &'static str,
        release: &str,
        mut args: Vec<OsString>,
        timeout: Duration,
    ) -> Result<Finished> {
        if let Some(kubeconfig) = &self.config.kubeconfig {
            args.push("--kubeconfig".into());
            args.push(kubeconfig.clone().into());
        }
        let started = Instant::now();
        tracing::debug!(operation, release, ?args, "running helm");
        let result = run_bounded(&self.config.bin, &args, timeout, self.config.stop_grace).await;
        let outcome = match &result {
            Ok(Some(finished)) if finished.success => "ok",
            Ok(Some(_)) => "error",
            Ok(None) => "timeout",
            Err(_) => "error",
        };
        let elapsed = started.elapsed();
        if let Some(histogram) = &self.durations {
            histogram
                .with_label_values(&[operation, outcome])
                .observe(elapsed.as_secs_f64());
        }
        tracing::info!(
            operation,
            release,
            outcome,
            seconds = elapsed.as_secs_f64(),
            "helm finished"
        );
        match result {
            Ok(Some(finished)) => Ok(finished),
            Ok(None) => Err(Error::HelmTimeout {
                operation,
                release: release.to_owned(),
                timeout,
            }),
            Err(source) => Err(Error::HelmSpawn {
                bin: self.config.bin.display().to_string(),
                source,
            }),
        }
    }
}

/// helm's own `--timeout`, a little inside our bound so it ends first.
fn inner_timeout(bound: Duration, grace: Duration) -> Duration {
    bound.saturating_sub(grace).max(Duration::from_secs(1))
}

/// Go duration syntax, whole seconds.
fn helm_duration(duration: Duration) -> String {
    format!("{}s", duration.as_secs().max(1))
}

/// `--set` splits on `,` and treats `\` specially; escape both so a host is
/// passed through as one literal value.
fn escape_set_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace(',', "\\,")
}

#[cfg(test)]
mod tests;
