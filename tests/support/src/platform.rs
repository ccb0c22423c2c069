//! The running platform of one test: the function binaries and the local
//! broker (the Knative stand-in) reading a copy of `knative/`, each its own
//! process behind a held address ([`crate::addresses`]).
//!
//! Every function gets what Knative and the platform chart give its
//! container — `PORT`, `K_SERVICE`, `K_SINK` (the broker's `default`
//! Broker), the deliveries' OIDC issuer (the broker), loopback only — and
//! the environment its suite adds. Every process logs into
//! `<dir>/logs/<name>.log`. Processes can be killed and restarted: their
//! addresses stay.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use storefleet_shared::server::BOUND_ADDRESS_FILE;

use crate::addresses::{self, HeldAddress, wait_bound};
use crate::process::Process;

/// How long a process may take to bind, say which port, and answer `/healthz`.
pub const STARTS_WITHIN: Duration = Duration::from_secs(60);

pub const BROKER: &str = "local-broker";

struct Function {
    address: HeldAddress,
    bound_file: PathBuf,
    env: Vec<(String, String)>,
    /// Where the broker delivers to: the function's address, or a proxy in
    /// front of it.
    delivered_at: String,
    process: Option<Process>,
}

struct Broker {
    gateway: HeldAddress,
    ingress: HeldAddress,
    bound_file: PathBuf,
    manifests: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    process: Option<Process>,
}

pub struct Platform {
    dir: PathBuf,
    bin_dir: PathBuf,
    functions: BTreeMap<String, Function>,
    broker: Broker,
    http: reqwest::Client,
}

impl Platform {
    /// Holds the addresses of the broker and of `functions` (binaries in
    /// `bin_dir`); starts nothing yet: set the environment, then
    /// [`Platform::start`].
    pub fn new(
        dir: &Path,
        bin_dir: &Path,
        manifests: &Path,
        functions: &[&str],
    ) -> anyhow::Result<Platform> {
        std::fs::create_dir_all(dir.join("logs"))?;
        std::fs::create_dir_all(dir.join("bound"))?;
        for name in functions.iter().copied().chain([BROKER]) {
            let bin = bin_dir.join(name);
            if !bin.exists() {
                bail!(
                    "{} is missing: build it first (cargo build -p {name}; the suite's make target does)",
                    bin.display()
                );
            }
        }
        let mut held = BTreeMap::new();
        for name in functions {
            let address = addresses::hold()?;
            held.insert(
                (*name).to_owned(),
                Function {
                    delivered_at: address.url(),
                    address,
                    bound_file: dir.join("bound").join(name),
                    env: Vec::new(),
                    process: None,
                },
            );
        }
        Ok(Platform {
            dir: dir.to_owned(),
            bin_dir: bin_dir.to_owned(),
            functions: held,
            broker: Broker {
                gateway: addresses::hold()?,
                ingress: addresses::hold()?,
                bound_file: dir.join("bound").join(BROKER),
                manifests: manifests.to_owned(),
                args: Vec::new(),
                env: Vec::new(),
                process: None,
            },
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
        })
    }

    /// The local broker's gateway: the API and the dashboard, as a browser
    /// reaches them. No trailing slash.
    pub fn gateway_url(&self) -> String {
        self.broker.gateway.url()
    }

    /// The broker ingress: the functions' `K_SINK` is its `/broker/default`,
    /// and it is the issuer of the deliveries' tokens. No trailing slash.
    pub fn ingress_url(&self) -> String {
        self.broker.ingress.url()
    }

    /// A function's own address (no trailing slash).
    pub fn function_url(&self, name: &str) -> anyhow::Result<String> {
        Ok(self.function(name)?.address.url())
    }

    /// The names of the functions, in order.
    pub fn function_names(&self) -> impl Iterator<Item = &str> {
        self.functions.keys().map(String::as_str)
    }

    fn function(&self, name: &str) -> anyhow::Result<&Function> {
        self.functions
            .get(name)
            .with_context(|| format!("no function {name}"))
    }

    fn function_mut(&mut self, name: &str) -> anyhow::Result<&mut Function> {
        self.functions
            .get_mut(name)
            .with_context(|| format!("no function {name}"))
    }

    /// One function's environment (after Knative's, in this order).
    pub fn env(&mut self, name: &str, key: &str, value: &str) -> anyhow::Result<()> {
        self.function_mut(name)?
            .env
            .push((key.to_owned(), value.to_owned()));
        Ok(())
    }

    /// Every function's environment.
    pub fn env_all(&mut self, key: &str, value: &str) {
        for function in self.functions.values_mut() {
            function.env.push((key.to_owned(), value.to_owned()));
        }
    }

    /// The broker delivers `name`'s events to `url` (a proxy in front of
    /// [`Platform::function_url`]) instead of to the function itself.
    pub fn deliver_via(&mut self, name: &str, url: &str) -> anyhow::Result<()> {
        self.function_mut(name)?.delivered_at = url.to_owned();
        Ok(())
    }

    /// The broker's environment (it gets `PATH` and `HOME` and nothing else
    /// unless given here).
    pub fn broker_env(&mut self, key: &str, value: &str) {
        self.broker.env.push((key.to_owned(), value.to_owned()));
    }

    /// More arguments for the broker (`--no-apiserver-source`, ...).
    pub fn broker_arg(&mut self, arg: &str) {
        self.broker.args.push(arg.to_owned());
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/logs/<name>.log` (`local-broker` for the broker).
    pub fn log(&self, name: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{name}.log"))
    }

    /// The last `lines` of every process's log, for a failure message.
    pub fn tails(&self, lines: usize) -> String {
        let mut all = String::new();
        for name in std::iter::once(BROKER).chain(self.function_names()) {
            let log = self.log(name);
            all.push_str(&format!(
                "----- {name}: last lines of {}\n{}\n",
                log.display(),
                crate::tail(&log, lines)
            ));
        }
        all
    }

    /// Starts every function and the broker, and waits until each answers
    /// `/healthz` on its held address.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let names: Vec<String> = self.functions.keys().cloned().collect();
        for name in &names {
            self.spawn_function(name)?;
        }
        self.spawn_broker()?;
        for name in &names {
            self.serve_function(name).await?;
        }
        self.serve_broker().await
    }

    /// Start (or restart) one function and wait for its `/healthz`.
    pub async fn start_function(&mut self, name: &str) -> anyhow::Result<()> {
        self.spawn_function(name)?;
        self.serve_function(name).await
    }

    /// SIGKILL a function (and its helm): what an OOM kill or a node loss
    /// does. Its address refuses connections until it is started again.
    pub fn kill_function(&mut self, name: &str) {
        if let Some(function) = self.functions.get_mut(name) {
            function.address.forward_to(None);
            if let Some(process) = function.process.take() {
                process.kill();
            }
        }
    }

    pub async fn start_broker(&mut self) -> anyhow::Result<()> {
        self.spawn_broker()?;
        self.serve_broker().await
    }

    /// SIGKILL the local broker: its in-flight events are lost, as an
    /// InMemoryChannel dispatcher's are when it restarts. Its addresses
    /// refuse connections until it is started again.
    pub fn kill_broker(&mut self) {
        self.broker.gateway.forward_to(None);
        self.broker.ingress.forward_to(None);
        if let Some(process) = self.broker.process.take() {
            process.kill();
        }
    }

    /// The processes that exited although nobody stopped them.
    pub fn exited(&mut self) -> Vec<String> {
        let mut dead = Vec::new();
        for (name, function) in &mut self.functions {
            if let Some(status) = function.process.as_mut().and_then(Process::exited) {
                dead.push(format!("{name} exited: {status}"));
            }
        }
        if let Some(status) = self.broker.process.as_mut().and_then(Process::exited) {
            dead.push(format!("{BROKER} exited: {status}"));
        }
        dead
    }

    fn spawn_function(&mut self, name: &str) -> anyhow::Result<()> {
        let log = self.log(name);
        let bin = self.bin_dir.join(name);
        let ingress = self.ingress_url();
        let function = self.function_mut(name)?;
        if function.process.is_some() {
            bail!("{name} is already running");
        }
        let _ = std::fs::remove_file(&function.bound_file);
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            // what Knative gives the container (and the SinkBinding K_SINK)
            .env("PORT", "0")
            .env(BOUND_ADDRESS_FILE, &function.bound_file)
            .env("K_SERVICE", name)
            .env("K_SINK", format!("{ingress}/broker/default"))
            // the broker signs every delivery; the functions verify it
            .env("STOREFLEET_EVENTS_OIDC_ISSUER", &ingress)
            // loopback only, as in development
            .env("STOREFLEET_LISTEN_ADDRESS", "127.0.0.1")
            .envs(function.env.iter().map(|(k, v)| (k, v)));
        function.process = Some(Process::spawn(name, cmd, &log)?);
        Ok(())
    }

    async fn serve_function(&mut self, name: &str) -> anyhow::Result<()> {
        let log = self.log(name);
        let function = self.function_mut(name)?;
        let process = function
            .process
            .as_mut()
            .with_context(|| format!("{name} is not running"))?;
        forward_once_bound(
            name,
            process,
            &function.bound_file,
            None,
            &function.address,
            &log,
        )
        .await?;
        let url = format!("{}/healthz", function.address.url());
        self.healthy(name, &url).await
    }

    fn spawn_broker(&mut self) -> anyhow::Result<()> {
        if self.broker.process.is_some() {
            bail!("the local broker is already running");
        }
        let log = self.log(BROKER);
        let broker = &self.broker;
        let _ = std::fs::remove_file(&broker.bound_file);
        let mut cmd = Command::new(self.bin_dir.join(BROKER));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .envs(broker.env.iter().map(|(k, v)| (k, v)))
            .env(BOUND_ADDRESS_FILE, &broker.bound_file)
            .arg("--manifests")
            .arg(&broker.manifests)
            .args(["--listen", "127.0.0.1:0", "--ingress-listen", "127.0.0.1:0"])
            // the functions' K_SINK and the tokens' issuer: the held
            // address, not the port this run of the broker got
            .args(["--ingress-url", &broker.ingress.url()]);
        for (name, function) in &self.functions {
            cmd.arg("--function")
                .arg(format!("{name}={}", function.delivered_at));
        }
        cmd.args(&broker.args);
        self.broker.process = Some(Process::spawn(BROKER, cmd, &log)?);
        Ok(())
    }

    async fn serve_broker(&mut self) -> anyhow::Result<()> {
        let log = self.log(BROKER);
        let broker = &mut self.broker;
        let process = broker
            .process
            .as_mut()
            .context("the local broker is not running")?;
        for (held, listener) in [(&broker.gateway, "gateway"), (&broker.ingress, "ingress")] {
            forward_once_bound(
                BROKER,
                process,
                &broker.bound_file,
                Some(listener),
                held,
                &log,
            )
            .await?;
        }
        let url = format!("{}/healthz", self.broker.gateway.url());
        self.healthy(BROKER, &url).await
    }

    async fn healthy(&mut self, name: &str, url: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(answer) = self.http.get(url).send().await
                && answer.status().is_success()
            {
                return Ok(());
            }
            let process = match name {
                BROKER => self.broker.process.as_mut(),
                _ => self
                    .functions
                    .get_mut(name)
                    .and_then(|f| f.process.as_mut()),
            };
            if let Some(status) = process.and_then(Process::exited) {
                bail!(
                    "{name} exited ({status}) before answering {url}:\n{}",
                    crate::tail(&self.log(name), 30)
                );
            }
            if started.elapsed() > STARTS_WITHIN {
                bail!("{name} did not answer {url} within {STARTS_WITHIN:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits until `process` wrote the port it bound (its `listener`'s, when it
/// has several) to `bound_file`, then has `held` forward there.
async fn forward_once_bound(
    name: &str,
    process: &mut Process,
    bound_file: &Path,
    listener: Option<&str>,
    held: &HeldAddress,
    log: &Path,
) -> anyhow::Result<()> {
    let Some(bound) = wait_bound(bound_file, listener, STARTS_WITHIN, || process.running()).await
    else {
        bail!(
            "{name} did not say which port {} bound ({}) within {STARTS_WITHIN:?}:\n{}",
            listener.map_or("it".to_owned(), |l| format!("its {l}")),
            bound_file.display(),
            crate::tail(log, 30)
        );
    };
    held.forward_to(Some(bound));
    Ok(())
}

impl Drop for Platform {
    /// SIGTERM every process (SIGKILL after a grace period).
    fn drop(&mut self) {
        for function in self.functions.values_mut() {
            function.address.forward_to(None);
            if let Some(process) = function.process.take() {
                process.stop();
            }
        }
        self.broker.gateway.forward_to(None);
        self.broker.ingress.forward_to(None);
        if let Some(process) = self.broker.process.take() {
            process.stop();
        }
    }
}
