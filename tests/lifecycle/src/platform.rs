//! The running platform of one test: the four function binaries, each
//! authenticated as its own ServiceAccount, behind the local broker (the
//! Knative stand-in, which also emulates the ApiServerSource with the
//! source's own ServiceAccount), on a fresh database. Processes can be
//! killed and restarted to inject faults; every process's output goes to
//! `target/lifecycle/<test>/logs/`, and the tails are printed when a test fails.
//!
//! Every address is held by the harness for the platform's life
//! ([`HeldAddress`]): a process binds port 0, says which port it got
//! (`STOREFLEET_BOUND_ADDRESS_FILE`), and its held address forwards there.
//! A killed process's address refuses connections until its restart; no
//! port is ever released and bound again, so no other process (or an
//! outgoing connection's ephemeral port) can take it in between.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use local_broker::held::{HeldAddress, wait_bound};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};
use sqlx::Connection;
use storefleet_shared::server::BOUND_ADDRESS_FILE;

use crate::cluster::{APISERVER_SOURCE_SA, Cluster, FUNCTIONS};
use crate::database::Database;
use crate::proxy::{Deliveries, Mode, Proxy};
use crate::wait::until;

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

/// The store chart the tests install.
#[derive(Debug, Clone)]
pub struct StoreChart {
    pub path: PathBuf,
    pub values: Vec<PathBuf>,
    /// Whether it is `helm/store` (true) or the lifecycle fixture chart.
    pub is_store_chart: bool,
}

impl StoreChart {
    /// `STOREFLEET_LIFECYCLE_STORE_CHART=store|fixture` (default: `store`
    /// when helm/store exists, else the fixture).
    pub fn selected() -> StoreChart {
        let root = crate::repo_root();
        let store = root.join("helm/store");
        let want = std::env::var("STOREFLEET_LIFECYCLE_STORE_CHART").unwrap_or_default();
        let use_store = match want.as_str() {
            "store" => true,
            "fixture" => false,
            _ => store.join("Chart.yaml").exists(),
        };
        if use_store {
            let local = store.join("values-local.yaml");
            StoreChart {
                values: if local.exists() { vec![local] } else { vec![] },
                path: store,
                is_store_chart: true,
            }
        } else {
            StoreChart {
                path: Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/store-chart"),
                values: vec![],
                is_store_chart: false,
            }
        }
    }
}

impl StoreChart {
    /// Values that keep the store's web pods in ImagePullBackOff (the test
    /// cluster's failure stage, docs/test-cluster.md).
    pub fn never_ready_values(&self) -> String {
        if self.is_store_chart {
            "wordpress:\n  image:\n    tag: 0.0.0-image-pull-backoff\n".into()
        } else {
            "failWith: ImagePullBackOff\n".into()
        }
    }

    /// Values that keep the web pods running but never Ready, with no
    /// failure reason (fixtures/stage-held-not-ready.yaml).
    pub fn held_values(&self) -> String {
        if self.is_store_chart {
            "wordpress:\n  image:\n    tag: 0.0.0-held-not-ready\n".into()
        } else {
            "failWith: HeldNotReady\n".into()
        }
    }

    /// Values that render but that the API server rejects (an invalid
    /// volume size), so `helm upgrade --install` fails.
    pub fn rejected_values(&self) -> String {
        if self.is_store_chart {
            "mysql:\n  persistence:\n    size: lots\n".into()
        } else {
            "storage: lots\n".into()
        }
    }
}

/// How long a process may take to bind its port and say which.
const STARTS_WITHIN: Duration = Duration::from_secs(60);

struct Process {
    name: String,
    child: Child,
}

impl Process {
    fn spawn(name: &str, mut cmd: Command, log: &Path) -> anyhow::Result<Process> {
        let out = OpenOptions::new().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        // Its own process group: killing it kills its helm children too, as
        // a container's end does.
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .with_context(|| format!("start {name} ({:?})", cmd.get_program()))?;
        Ok(Process {
            name: name.into(),
            child,
        })
    }

    /// Not exited yet.
    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn signal(&mut self, signal: Signal) {
        let _ = killpg(Pid::from_raw(self.child.id() as i32), signal);
    }

    /// SIGKILL (no chance to finish anything), and reap.
    fn kill(mut self) {
        self.signal(Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// SIGTERM, then SIGKILL after a grace period.
    fn stop(mut self) {
        self.signal(Signal::SIGTERM);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                // the group may still hold a helm child
                self.signal(Signal::SIGKILL);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop on SIGTERM within 5s; killed", self.name);
        self.kill();
    }
}

struct Function {
    address: HeldAddress,
    bound_file: PathBuf,
    env: Vec<(String, String)>,
    process: Option<Process>,
}

/// The local broker's two addresses, held across its restarts.
struct BrokerAddresses {
    gateway: HeldAddress,
    ingress: HeldAddress,
    bound_file: PathBuf,
}

/// A loopback address the harness holds (port 0: the system's choice).
fn hold_address() -> anyhow::Result<HeldAddress> {
    HeldAddress::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &tokio::runtime::Handle::current(),
    )
    .context("hold a loopback address")
}

pub struct Platform {
    pub dir: PathBuf,
    pub admin_token: String,
    pub broker_url: String,
    pub chart: StoreChart,
    database_url: String,
    bin_dir: PathBuf,
    functions: BTreeMap<&'static str, Function>,
    broker_addresses: BrokerAddresses,
    broker_args: Vec<String>,
    broker_env: Vec<(String, String)>,
    broker: Option<Process>,
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

/// A copy of `knative/` for the local broker, identical but for the
/// PingSource schedule (tests run the same sweep more often).
fn knative_copy(into: &Path, ping_schedule: &str) -> anyhow::Result<PathBuf> {
    let dir = into.join("knative");
    std::fs::create_dir_all(&dir)?;
    let mut replaced = 0;
    for entry in std::fs::read_dir(crate::repo_root().join("knative"))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let text = if text.contains("kind: PingSource") {
            text.lines()
                .map(|line| {
                    let trimmed = line.trim_start();
                    if trimmed.starts_with("schedule:") {
                        replaced += 1;
                        let indent = &line[..line.len() - trimmed.len()];
                        format!("{indent}schedule: \"{ping_schedule}\"")
                    } else {
                        line.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        } else {
            text
        };
        std::fs::write(dir.join(path.file_name().expect("a file")), text)?;
    }
    if replaced == 0 {
        bail!("knative/ has no PingSource schedule to run faster");
    }
    Ok(dir)
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
        std::fs::create_dir_all(dir.join("logs"))?;
        let credentials = dir.join("kubeconfigs");
        // ≥ 32 random characters, as list-stores requires of a bootstrap token
        let admin_token: String = (0..4).map(|_| crate::random_suffix()).collect();
        std::fs::create_dir_all(dir.join("bound"))?;
        let broker_addresses = BrokerAddresses {
            gateway: hold_address()?,
            // the broker ingress has an address of its own (the functions' K_SINK)
            ingress: hold_address()?,
            bound_file: dir.join("bound/local-broker"),
        };
        let ingress_url = broker_addresses.ingress.url();
        let sink = format!("{ingress_url}/broker/default");
        let bin_dir = bin_dir();
        for name in FUNCTIONS
            .iter()
            .map(|f| f.to_string())
            .chain(["local-broker".into()])
        {
            let bin = bin_dir.join(&name);
            if !bin.exists() {
                bail!(
                    "{} is missing: build it first (make test-lifecycle does: cargo build -p {name})",
                    bin.display()
                );
            }
        }

        // The platform chart's migrations Job, as it runs in a cluster: the
        // functions get STOREFLEET_MIGRATE_ON_START=false from the ConfigMap.
        let migrate = tokio::process::Command::new(bin_dir.join("list-stores"))
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

        let mut functions = BTreeMap::new();
        let mut broker_args = vec![
            "--manifests".to_owned(),
            knative_copy(&dir, &options.ping_schedule)?
                .display()
                .to_string(),
            "--listen".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--ingress-listen".to_owned(),
            "127.0.0.1:0".to_owned(),
            // its K_SINK and tokens' issuer: the held address, not the port
            // this run of the broker got
            "--ingress-url".to_owned(),
            ingress_url.clone(),
        ];
        let mut proxies = Vec::new();
        let hold = Arc::new(AtomicBool::new(false));
        let deliveries = Deliveries::default();
        for function in FUNCTIONS {
            let address = hold_address()?;
            let bound_file = dir.join("bound").join(function);
            let kubeconfig = cluster
                .service_account_kubeconfig(function, &credentials)
                .await?;
            let mut env: Vec<(String, String)> = cluster
                .platform_config
                .iter()
                .filter(|(k, _)| k.as_str() != "STOREFLEET_STOREFRONT_CHECK_URL")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            env.extend([
                ("PORT".into(), "0".into()),
                (BOUND_ADDRESS_FILE.into(), bound_file.display().to_string()),
                ("STOREFLEET_LISTEN_ADDRESS".into(), "127.0.0.1".into()),
                ("K_SERVICE".into(), function.into()),
                ("K_SINK".into(), sink.clone()),
                // the local broker signs every delivery; the functions verify it
                ("STOREFLEET_EVENTS_OIDC_ISSUER".into(), ingress_url.clone()),
                ("DATABASE_URL".into(), db.url.clone()),
                ("KUBECONFIG".into(), kubeconfig.display().to_string()),
                (
                    "STOREFLEET_HELM_BIN".into(),
                    cluster.helm.display().to_string(),
                ),
                (
                    "STOREFLEET_STORE_CHART".into(),
                    options.chart.path.display().to_string(),
                ),
                (
                    "STOREFLEET_STORE_VALUES".into(),
                    options
                        .chart
                        .values
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                ("STOREFLEET_LOG_FORMAT".into(), "pretty".into()),
                (
                    "RUST_LOG".into(),
                    std::env::var("STOREFLEET_LIFECYCLE_RUST_LOG")
                        .unwrap_or_else(|_| "info".into()),
                ),
            ]);
            if function == "list-stores" {
                env.push((
                    "STOREFLEET_BOOTSTRAP_ADMIN_TOKEN".into(),
                    admin_token.clone(),
                ));
            }
            env.extend(options.env.iter().cloned());
            let target = address.url();
            let mode = if options.duplicate_deliveries {
                Some(Mode::Twice)
            } else if options.holdable == Some(function) {
                Some(Mode::Holdable(hold.clone()))
            } else if options.recorded == Some(function) {
                Some(Mode::Record(deliveries.clone()))
            } else {
                None
            };
            let delivered_to = match mode {
                Some(mode) => {
                    let proxy = Proxy::start(&target, mode).await?;
                    let url = proxy.url.clone();
                    proxies.push(proxy);
                    url
                }
                None => target,
            };
            broker_args.extend([
                "--function".to_owned(),
                format!("{function}={delivered_to}"),
            ]);
            functions.insert(
                function,
                Function {
                    address,
                    bound_file,
                    env,
                    process: None,
                },
            );
        }
        let source_kubeconfig = cluster
            .service_account_kubeconfig(APISERVER_SOURCE_SA, &credentials)
            .await?;
        let broker_env = vec![
            ("KUBECONFIG".into(), source_kubeconfig.display().to_string()),
            (
                "RUST_LOG".into(),
                std::env::var("STOREFLEET_LIFECYCLE_BROKER_LOG")
                    .unwrap_or_else(|_| "info,local_broker=debug".into()),
            ),
        ];

        let mut platform = Platform {
            dir,
            admin_token,
            broker_url: broker_addresses.gateway.url(),
            chart: options.chart.clone(),
            database_url: db.url.clone(),
            bin_dir,
            functions,
            broker_addresses,
            broker_args,
            broker_env,
            broker: None,
            _proxies: proxies,
            hold,
            deliveries,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
        };
        for function in FUNCTIONS {
            platform.start_function(function).await?;
        }
        platform.start_broker().await?;
        Ok(platform)
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{name}.log"))
    }

    /// Start (or restart) one function and wait for its `/healthz`.
    pub async fn start_function(&mut self, name: &str) -> anyhow::Result<()> {
        let log = self.log(name);
        let bin = self.bin_dir.join(name);
        let function = self
            .functions
            .get_mut(name)
            .with_context(|| format!("no function {name}"))?;
        if function.process.is_some() {
            bail!("{name} is already running");
        }
        let _ = std::fs::remove_file(&function.bound_file);
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .envs(function.env.iter().map(|(k, v)| (k, v)));
        let process = function.process.insert(Process::spawn(name, cmd, &log)?);
        let bound = wait_bound(&function.bound_file, None, STARTS_WITHIN, || {
            process.running()
        })
        .await;
        let Some(bound) = bound else {
            bail!(
                "{name} did not say which port it bound ({}) within {STARTS_WITHIN:?}:\n{}",
                function.bound_file.display(),
                tail(&log, 30)
            );
        };
        function.address.forward_to(Some(bound));
        let url = format!("{}/healthz", function.address.url());
        self.healthy(name, &url).await
    }

    /// SIGKILL a function (and its helm): what an OOM kill or a node loss does.
    pub fn kill_function(&mut self, name: &str) {
        if let Some(process) = self.functions.get_mut(name).and_then(|function| {
            // refused from now on, as a dead pod's address is
            function.address.forward_to(None);
            function.process.take()
        }) {
            process.kill();
        }
    }

    pub async fn start_broker(&mut self) -> anyhow::Result<()> {
        if self.broker.is_some() {
            bail!("the local broker is already running");
        }
        let addresses = &self.broker_addresses;
        let _ = std::fs::remove_file(&addresses.bound_file);
        let mut cmd = Command::new(self.bin_dir.join("local-broker"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .envs(self.broker_env.iter().map(|(k, v)| (k, v)))
            .env(BOUND_ADDRESS_FILE, &addresses.bound_file)
            .args(&self.broker_args);
        let log = self.log("local-broker");
        let process = self
            .broker
            .insert(Process::spawn("local-broker", cmd, &log)?);
        for (held, name) in [
            (&addresses.gateway, "gateway"),
            (&addresses.ingress, "ingress"),
        ] {
            let bound = wait_bound(&addresses.bound_file, Some(name), STARTS_WITHIN, || {
                process.running()
            })
            .await;
            let Some(bound) = bound else {
                bail!(
                    "local-broker did not say which port its {name} bound ({}) within {STARTS_WITHIN:?}:\n{}",
                    addresses.bound_file.display(),
                    tail(&log, 30)
                );
            };
            held.forward_to(Some(bound));
        }
        let url = format!("{}/healthz", self.broker_addresses.gateway.url());
        self.healthy("local-broker", &url).await
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

    /// SIGKILL the local broker: its in-flight events are lost, as an
    /// InMemoryChannel dispatcher's are when it restarts.
    pub fn kill_broker(&mut self) {
        // refused from now on, as a dead dispatcher's address is
        self.broker_addresses.gateway.forward_to(None);
        self.broker_addresses.ingress.forward_to(None);
        if let Some(process) = self.broker.take() {
            process.kill();
        }
    }

    async fn healthy(&mut self, name: &str, url: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(answer) = self.http.get(url).send().await
                && answer.status().is_success()
            {
                return Ok(());
            }
            let exited = match name {
                "local-broker" => self.broker.as_mut(),
                _ => self
                    .functions
                    .get_mut(name)
                    .and_then(|f| f.process.as_mut()),
            }
            .and_then(|p| p.child.try_wait().ok().flatten());
            if let Some(status) = exited {
                bail!(
                    "{name} exited ({status}) before answering {url}:\n{}",
                    tail(&self.log(name), 30)
                );
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("{name} did not answer {url} within 60s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // --- the HTTP API, through the local broker's gateway, as the dashboard calls it

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.broker_url))
            .bearer_auth(&self.admin_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await?;
        let status = answer.status();
        let text = answer.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, json))
    }

    /// `POST /api/stores` for a WooCommerce store; the store (202).
    pub async fn create_store(&self, name: &str) -> anyhow::Result<Value> {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/stores",
                Some(json!({"type": "woocommerce", "name": name})),
            )
            .await?;
        if status != reqwest::StatusCode::ACCEPTED {
            bail!("POST /api/stores answered {status}: {body}");
        }
        Ok(body)
    }

    /// `GET /api/stores/{id}`.
    pub async fn store(&self, id: &str) -> anyhow::Result<Value> {
        self.get_ok(&format!("/api/stores/{id}")).await
    }

    /// GET `path` through the gateway; an error unless it answered 2xx.
    async fn get_ok(&self, path: &str) -> anyhow::Result<Value> {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await?;
        if !status.is_success() {
            bail!("GET {path} answered {status}: {body}");
        }
        Ok(body)
    }

    /// `GET /api/stores/{id}/credentials`: list-stores reads the store's
    /// Secret with its own token (the per-store reader binding).
    pub async fn credentials(&self, id: &str) -> anyhow::Result<Value> {
        self.get_ok(&format!("/api/stores/{id}/credentials")).await
    }

    /// `GET /api/stores/{id}/events`: the activity log's event types... as
    /// the API returns them (objects), oldest first.
    pub async fn events(&self, id: &str) -> anyhow::Result<Vec<Value>> {
        let body = self.get_ok(&format!("/api/stores/{id}/events")).await?;
        Ok(body["events"].as_array().cloned().unwrap_or_default())
    }

    /// The store's status in PostgreSQL (the API hides deleted stores).
    pub async fn db_status(&self, id: &str) -> anyhow::Result<Option<String>> {
        let mut conn = sqlx::PgConnection::connect(&self.database_url).await?;
        Ok(
            sqlx::query_scalar("SELECT status FROM stores WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut conn)
                .await?,
        )
    }

    /// The kinds of the store's activity log in PostgreSQL, oldest first
    /// (readable after deletion, when the API answers 404).
    pub async fn db_event_kinds(&self, id: &str) -> anyhow::Result<Vec<String>> {
        let mut conn = sqlx::PgConnection::connect(&self.database_url).await?;
        Ok(
            sqlx::query_scalar("SELECT kind FROM store_events WHERE store_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut conn)
                .await?,
        )
    }

    /// `DELETE /api/stores/{id}` (202).
    pub async fn delete_store(&self, id: &str) -> anyhow::Result<Value> {
        let (status, body) = self
            .call(reqwest::Method::DELETE, &format!("/api/stores/{id}"), None)
            .await?;
        if status != reqwest::StatusCode::ACCEPTED {
            bail!("DELETE /api/stores/{id} answered {status}: {body}");
        }
        Ok(body)
    }

    /// Wait until the store has `status`; fail at once if it reaches a
    /// status from which `status` can no longer be reached.
    pub async fn wait_for_status(
        &self,
        id: &str,
        status: &str,
        limit: Duration,
    ) -> anyhow::Result<Value> {
        let mut last = Value::Null;
        let result = until(
            &format!("store {id} to be {status}"),
            limit,
            Duration::from_millis(100),
            async || {
                // A deleted store is gone from the API (404); its row stays.
                if status == "deleted"
                    && self.db_status(id).await.ok()?.as_deref() == Some("deleted")
                {
                    let (code, _) = self
                        .call(reqwest::Method::GET, &format!("/api/stores/{id}"), None)
                        .await
                        .ok()?;
                    return Some(if code == reqwest::StatusCode::NOT_FOUND {
                        Ok(json!({"id": id, "status": "deleted"}))
                    } else {
                        Err(anyhow::anyhow!(
                            "store {id} is deleted but GET /api/stores/{id} answers {code}"
                        ))
                    });
                }
                let store = self.store(id).await.ok()?;
                last = store.clone();
                let now = store["status"].as_str().unwrap_or_default();
                if now == status {
                    Some(Ok(store))
                } else if unreachable_from(now).contains(&status) {
                    Some(Err(anyhow::anyhow!(
                        "store {id} is {now}, expected {status}: {store}"
                    )))
                } else {
                    None
                }
            },
        )
        .await;
        match result {
            Ok(found) => found,
            Err(err) => Err(err.context(format!("last seen: {last}"))),
        }
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        for function in self.functions.values_mut() {
            if let Some(process) = function.process.take() {
                process.stop();
            }
        }
        if let Some(process) = self.broker.take() {
            process.stop();
        }
        if failed {
            for name in FUNCTIONS.iter().copied().chain(["local-broker"]) {
                eprintln!(
                    "----- {name}: last lines of {}\n{}",
                    self.log(name).display(),
                    tail(&self.log(name), 40)
                );
            }
        }
    }
}

/// The statuses a store in `status` can never reach any more (the guarded
/// transitions of docs/events.md: provisioning → ready | failed → deleting
/// → deleted; a ready store can still fail, e.g. when its namespace vanishes).
fn unreachable_from(status: &str) -> &'static [&'static str] {
    match status {
        "failed" => &["provisioning", "ready"],
        "deleting" => &["provisioning", "ready", "failed"],
        "deleted" => &["provisioning", "ready", "failed", "deleting"],
        "ready" => &["provisioning"],
        _ => &[],
    }
}

/// The last `lines` lines of a file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
