//! The running platform of one test: the four function binaries, each
//! authenticated as its own ServiceAccount, behind the local broker (the
//! Knative stand-in, which also emulates the ApiServerSource with the
//! source's own ServiceAccount), on a fresh database. The processes and
//! their held addresses are the shared test platform's (`tests/support`):
//! they can be killed and restarted to inject faults, and keep their
//! addresses. Every process's output goes to `target/lifecycle/<test>/logs/`,
//! and the tails are printed when a test fails.
//!
//! - [`chart`]: the store chart a test installs.
//! - `api`: the HTTP API as the dashboard calls it, and the database's view.

mod api;
mod chart;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::bail;
use storefleet_test_support::manifests;

pub use self::chart::StoreChart;
use crate::cluster::{APISERVER_SOURCE_SA, Cluster, FUNCTIONS};
use crate::database::Database;
use crate::proxy::{Deliveries, Mode, Proxy};

/// How a test wants the platform.
#[derive(Debug, Clone)]
pub struct Options {
    /// `STOREFLEET_STORE_CHART` and `STOREFLEET_STORE_VALUES`.
    pub chart: StoreChart,
    /// The PingSource schedule the local broker runs (production: every
    /// minute; tests run the same sweep more often so they finish sooner).
    pub ping_schedule: String,
    /// Put a proxy between the broker and every function that delivers each
    /// event twice, at the same time.
    pub duplicate_deliveries: bool,
    /// Put a proxy between the broker and this function that can hold its
    /// event deliveries ([`Platform::hold_events`]).
    pub holdable: Option<&'static str>,
    /// Put a proxy between the broker and this function that records the
    /// events delivered to it ([`Platform::deliveries`]).
    pub recorded: Option<&'static str>,
    /// Extra environment for the functions (after everything else).
    pub env: Vec<(String, String)>,
}

impl Options {
    pub fn new(chart: StoreChart) -> Self {
        Options {
            chart,
            ping_schedule: "@every 2s".into(),
            duplicate_deliveries: false,
            holdable: None,
            recorded: None,
            env: vec![
                // A lost event is redriven by the sweep after this long.
                ("STOREFLEET_REDRIVE_AFTER_SECONDS".into(), "5".into()),
                // the PingSource above ticks every 2 s
                ("STOREFLEET_SWEEP_INTERVAL_SECONDS".into(), "1".into()),
                // the suite polls every store at 10/s with one token (wait_for),
                // several stores at once: above the functions' per-token
                // default (10/s, burst 20), which its own polling is not testing
                ("STOREFLEET_RATE_LIMIT_PER_TOKEN".into(), "1000".into()),
                ("STOREFLEET_RATE_LIMIT_BURST".into(), "1000".into()),
            ],
        }
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }
}

pub struct Platform {
    pub dir: PathBuf,
    pub admin_token: String,
    pub broker_url: String,
    pub chart: StoreChart,
    database_url: String,
    processes: storefleet_test_support::Platform,
    _proxies: Vec<Proxy>,
    hold: Arc<AtomicBool>,
    deliveries: Deliveries,
    http: reqwest::Client,
}

/// Where the function binaries and local-broker are (`make test-lifecycle`
/// builds them): `STOREFLEET_LIFECYCLE_BIN_DIR`, else the workspace's
/// `target/debug`.
pub fn bin_dir() -> PathBuf {
    std::env::var_os("STOREFLEET_LIFECYCLE_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| crate::repo_root().join("target"))
                .join("debug")
        })
}

impl Platform {
    /// Start everything for test `test` on `db`, and wait until every
    /// process answers `/healthz`.
    pub async fn start(
        cluster: &Cluster,
        db: &Database,
        test: &str,
        options: Options,
    ) -> anyhow::Result<Platform> {
        let dir = crate::repo_root()
            .join("target/lifecycle")
            .join(format!("{test}-{}", crate::random_suffix()));
        let credentials = dir.join("kubeconfigs");
        // ≥ 32 random characters, as list-stores requires of a bootstrap token
        let admin_token: String = (0..4).map(|_| crate::random_suffix()).collect();
        std::fs::create_dir_all(&dir)?;
        let (production_schedule, test_schedule) =
            manifests::ping_schedule(&options.ping_schedule)?;
        let knative = manifests::copy(&dir, &[(&production_schedule, &test_schedule)])?;
        let mut processes =
            storefleet_test_support::Platform::new(&dir, &bin_dir(), &knative, &FUNCTIONS)?;

        // The platform chart's migrations Job, as it runs in a cluster: the
        // functions get STOREFLEET_MIGRATE_ON_START=false from the ConfigMap.
        let migrate = tokio::process::Command::new(bin_dir().join("list-stores"))
            .arg("migrate")
            .env("DATABASE_URL", &db.url)
            .output()
            .await?;
        if !migrate.status.success() {
            bail!(
                "list-stores migrate failed: {}",
                String::from_utf8_lossy(&migrate.stderr)
            );
        }

        let mut proxies = Vec::new();
        let hold = Arc::new(AtomicBool::new(false));
        let deliveries = Deliveries::default();
        let values = options
            .chart
            .values
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(",");
        let rust_log =
            std::env::var("STOREFLEET_LIFECYCLE_RUST_LOG").unwrap_or_else(|_| "info".into());
        for function in FUNCTIONS {
            let kubeconfig = cluster
                .service_account_kubeconfig(function, &credentials)
                .await?;
            // the settings a cluster gives the functions (envFrom the
            // platform chart's ConfigMap), but the storefront check
            for (key, value) in &cluster.platform_config {
                if key != "STOREFLEET_STOREFRONT_CHECK_URL" {
                    processes.env(function, key, value)?;
                }
            }
            for (key, value) in [
                ("DATABASE_URL", db.url.as_str()),
                ("KUBECONFIG", &kubeconfig.display().to_string()),
                ("STOREFLEET_HELM_BIN", &cluster.helm.display().to_string()),
                (
                    "STOREFLEET_STORE_CHART",
                    &options.chart.path.display().to_string(),
                ),
                ("STOREFLEET_STORE_VALUES", &values),
                ("STOREFLEET_LOG_FORMAT", "pretty"),
                ("RUST_LOG", &rust_log),
            ] {
                processes.env(function, key, value)?;
            }
            if function == "list-stores" {
                processes.env(function, "STOREFLEET_BOOTSTRAP_ADMIN_TOKEN", &admin_token)?;
            }
            for (key, value) in &options.env {
                processes.env(function, key, value)?;
            }
            let mode = if options.duplicate_deliveries {
                Some(Mode::Twice)
            } else if options.holdable == Some(function) {
                Some(Mode::Holdable(hold.clone()))
            } else if options.recorded == Some(function) {
                Some(Mode::Record(deliveries.clone()))
            } else {
                None
            };
            if let Some(mode) = mode {
                let proxy = Proxy::start(&processes.function_url(function)?, mode).await?;
                processes.deliver_via(function, &proxy.url)?;
                proxies.push(proxy);
            }
        }
        let source_kubeconfig = cluster
            .service_account_kubeconfig(APISERVER_SOURCE_SA, &credentials)
            .await?;
        processes.broker_env("KUBECONFIG", &source_kubeconfig.display().to_string());
        processes.broker_env(
            "RUST_LOG",
            &std::env::var("STOREFLEET_LIFECYCLE_BROKER_LOG")
                .unwrap_or_else(|_| "info,local_broker=debug".into()),
        );
        processes.start().await?;

        Ok(Platform {
            dir,
            admin_token,
            broker_url: processes.gateway_url(),
            chart: options.chart.clone(),
            database_url: db.url.clone(),
            processes,
            _proxies: proxies,
            hold,
            deliveries,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
        })
    }

    /// Start (or restart) one function and wait for its `/healthz`.
    pub async fn start_function(&mut self, name: &str) -> anyhow::Result<()> {
        self.processes.start_function(name).await
    }

    /// SIGKILL a function (and its helm): what an OOM kill or a node loss does.
    pub fn kill_function(&mut self, name: &str) {
        self.processes.kill_function(name);
    }

    pub async fn start_broker(&mut self) -> anyhow::Result<()> {
        self.processes.start_broker().await
    }

    /// SIGKILL the local broker: its in-flight events are lost, as an
    /// InMemoryChannel dispatcher's are when it restarts.
    pub fn kill_broker(&mut self) {
        self.processes.kill_broker();
    }

    /// Hold (or release) the event deliveries to the function of
    /// [`Options::holdable`]: held ones never reach it.
    pub fn hold_events(&self, on: bool) {
        self.hold.store(on, Ordering::SeqCst);
    }

    /// `(type, subject)` of the events delivered to the function of
    /// [`Options::recorded`], in arrival order.
    pub fn deliveries(&self) -> Vec<(String, String)> {
        self.deliveries.lock().expect("not poisoned").clone()
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.processes.tails(40));
        }
    }
}
