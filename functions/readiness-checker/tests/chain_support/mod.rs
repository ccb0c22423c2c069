//! The chain under test: the real local-broker binary reading a copy of
//! `knative/`, the four real function binaries, a real PostgreSQL database
//! (one per test, from `#[sqlx::test]`) and — when `STOREFLEET_TEST_KUBECONFIG`
//! names one — the test cluster's real kube-apiserver with the real helm.
//!
//! Every process logs (JSON, `debug`) into a file of the test's temporary
//! directory, so a test can read what was logged.

#![allow(dead_code)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cloudevents::binding::reqwest::RequestBuilderExt;
use cloudevents::{EventBuilder, EventBuilderV10};
use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;
use sqlx::PgPool;
use storefleet_shared::testing::database_url;

pub const GATE: &str = "STOREFLEET_TEST_KUBECONFIG";
pub const FUNCTIONS: [&str; 4] = [
    "create-store",
    "delete-store",
    "list-stores",
    "readiness-checker",
];

/// The test cluster, or `None` (and a visible note) when the gate is unset.
pub struct Kube {
    pub kubeconfig: PathBuf,
    pub helm: PathBuf,
    pub client: Client,
}

pub async fn kube(test: &str) -> Option<Kube> {
    let Some(kubeconfig) = std::env::var_os(GATE).map(PathBuf::from) else {
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: {GATE} is not set (run `make test-chain` for the chain on the test cluster)"
        );
        return None;
    };
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::read_from(&kubeconfig).expect("read the test kubeconfig"),
        &KubeConfigOptions::default(),
    )
    .await
    .expect("load the test kubeconfig");
    let client = Client::try_from(config).expect("kube client");
    let helm = std::env::var_os("STOREFLEET_TEST_HELM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let out = Command::new(repo_root().join("scripts/tool"))
                .arg("helm")
                .stderr(Stdio::inherit())
                .output()
                .expect("run scripts/tool helm");
            assert!(out.status.success(), "scripts/tool helm failed");
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        });
    Some(Kube {
        kubeconfig,
        helm,
        client,
    })
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The built binaries sit next to this crate's own.
fn binary(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_readiness-checker"))
        .parent()
        .unwrap()
        .join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build -p create-store -p delete-store -p list-stores -p local-broker` (make test-chain does)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How to set the chain up.
#[derive(Default)]
pub struct Options<'a> {
    /// Text replacements applied to the copy of `knative/*.yaml`.
    pub manifest_edits: Vec<(&'a str, &'a str)>,
    /// Environment of every function (after the defaults).
    pub env: Vec<(&'a str, String)>,
    /// Environment of one function.
    pub env_of: Vec<(&'a str, &'a str, String)>,
    /// Seconds the recording helm waits before each `upgrade`.
    pub helm_upgrade_delay: Option<f64>,
    /// Seconds the recording helm waits after each `upgrade` applied the
    /// release, before it returns.
    pub helm_after_upgrade_delay: Option<f64>,
}

pub struct Chain {
    pub dir: tempfile::TempDir,
    /// The local broker's gateway (the API).
    pub broker: String,
    /// The broker ingress's own listener (K_SINK, the tokens' issuer).
    pub ingress: String,
    pub urls: Vec<(&'static str, String)>,
    pub pool: PgPool,
    pub token: String,
    pub http: reqwest::Client,
    pub helm_log: PathBuf,
    children: Vec<(String, Child)>,
}

impl Drop for Chain {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for (_, child) in &mut self.children {
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Chain {
    pub async fn start(pool: PgPool, kube: Option<&Kube>, options: Options<'_>) -> Chain {
        let dir = tempfile::tempdir().unwrap();
        // the manifests, as production applies them, with the test's edits
        let manifests = dir.path().join("knative");
        std::fs::create_dir(&manifests).unwrap();
        for entry in std::fs::read_dir(repo_root().join("knative")).unwrap() {
            let path = entry.unwrap().path();
            let mut text = std::fs::read_to_string(&path).unwrap();
            for (from, to) in &options.manifest_edits {
                text = text.replace(from, to);
            }
            std::fs::write(manifests.join(path.file_name().unwrap()), text).unwrap();
        }
        let (_, token) = storefleet_shared::testing::user(&pool, "chain", 20, false).await;

        let broker_port = free_port();
        let broker = format!("http://127.0.0.1:{broker_port}");
        let ingress_port = free_port();
        let ingress = format!("http://127.0.0.1:{ingress_port}");
        let urls: Vec<(&'static str, String)> = FUNCTIONS
            .iter()
            .map(|name| (*name, format!("http://127.0.0.1:{}", free_port())))
            .collect();
        let log = |name: &str| {
            let file = std::fs::File::create(dir.path().join(format!("{name}.log"))).unwrap();
            (Stdio::from(file.try_clone().unwrap()), Stdio::from(file))
        };
        let helm_log = dir.path().join("helm-args.log");
        std::fs::write(&helm_log, "").unwrap();
        let kubeconfig = kube
            .map(|k| k.kubeconfig.clone())
            .unwrap_or_else(|| dir.path().join("no-cluster-kubeconfig"));
        let recording_helm = write_recording_helm(
            dir.path(),
            &helm_log,
            kube.map(|k| k.helm.as_path())
                .unwrap_or(Path::new("/bin/false")),
            &options,
        );
        let mut children = Vec::new();

        let mut cmd = Command::new(binary("local-broker"));
        cmd.arg("--manifests")
            .arg(&manifests)
            .arg("--listen")
            .arg(format!("127.0.0.1:{broker_port}"))
            .arg("--ingress-listen")
            .arg(format!("127.0.0.1:{ingress_port}"))
            .env("RUST_LOG", "info,local_broker=debug")
            .env("KUBECONFIG", &kubeconfig);
        for (name, url) in &urls {
            cmd.arg("--function").arg(format!("{name}={url}"));
        }
        if kube.is_none() {
            cmd.arg("--no-apiserver-source");
        }
        let (out, err) = log("local-broker");
        children.push((
            "local-broker".to_owned(),
            cmd.stdout(out)
                .stderr(err)
                .spawn()
                .expect("start local-broker"),
        ));

        for (name, url) in &urls {
            let port = url.rsplit(':').next().unwrap();
            let mut cmd = Command::new(binary(name));
            cmd.env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", dir.path())
                .env("PORT", port)
                .env("STOREFLEET_LISTEN_ADDRESS", "127.0.0.1")
                .env("DATABASE_URL", database_url(&pool))
                .env("K_SINK", format!("{ingress}/broker/default"))
                // the broker signs every delivery; the functions verify it
                .env("STOREFLEET_EVENTS_OIDC_ISSUER", &ingress)
                .env("K_SERVICE", name)
                .env("KUBECONFIG", &kubeconfig)
                .env(
                    "RUST_LOG",
                    "debug,hyper=info,h2=info,rustls=info,tower=info",
                )
                .env("STOREFLEET_LOG_FORMAT", "json")
                // the tests' PingSource ticks every second
                .env("STOREFLEET_SWEEP_INTERVAL_SECONDS", "1")
                .env("STOREFLEET_HELM_BIN", &recording_helm)
                .env(
                    "STOREFLEET_STORE_CHART",
                    repo_root().join("shared/kube/fixtures/chart"),
                )
                .env(
                    "STOREFLEET_STORE_VALUES",
                    repo_root().join("shared/kube/fixtures/chart/values.yaml"),
                )
                // helm keeps its cache and config in the test's directory
                .env("HELM_CACHE_HOME", dir.path().join("helm/cache"))
                .env("HELM_CONFIG_HOME", dir.path().join("helm/config"))
                .env("HELM_DATA_HOME", dir.path().join("helm/data"));
            for (key, value) in &options.env {
                cmd.env(key, value);
            }
            for (function, key, value) in &options.env_of {
                if function == name {
                    cmd.env(key, value);
                }
            }
            let (out, err) = log(name);
            children.push((
                (*name).to_owned(),
                cmd.stdout(out)
                    .stderr(err)
                    .spawn()
                    .unwrap_or_else(|e| panic!("start {name}: {e}")),
            ));
        }

        let mut chain = Chain {
            dir,
            broker,
            ingress,
            urls,
            pool,
            token,
            http: reqwest::Client::new(),
            helm_log,
            children,
        };
        let mut health: Vec<String> = vec![
            format!("{}/healthz", chain.broker),
            format!("{}/healthz", chain.ingress),
        ];
        health.extend(chain.urls.iter().map(|(_, url)| format!("{url}/healthz")));
        for url in health {
            let started = Instant::now();
            loop {
                if let Ok(answer) = chain.http.get(&url).send().await
                    && answer.status().is_success()
                {
                    break;
                }
                chain.assert_running();
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "{url} did not answer within 30 s\n{}",
                    chain.logs()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        chain
    }

    fn assert_running(&mut self) {
        let mut dead = Vec::new();
        for (name, child) in &mut self.children {
            if let Some(status) = child.try_wait().unwrap() {
                dead.push(format!("{name} exited: {status}"));
            }
        }
        assert!(dead.is_empty(), "{dead:?}\n{}", self.logs());
    }

    pub fn url(&self, function: &str) -> &str {
        &self
            .urls
            .iter()
            .find(|(name, _)| *name == function)
            .unwrap()
            .1
    }

    /// Every process' log, for failure messages and the secret grep.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for name in std::iter::once("local-broker").chain(FUNCTIONS) {
            let text = std::fs::read_to_string(self.dir.path().join(format!("{name}.log")))
                .unwrap_or_default();
            all.push_str(&format!("===== {name}\n{text}"));
        }
        all
    }

    pub fn log_of(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }

    pub fn helm_calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.helm_log)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// A request through the local broker's gateway with the test user's token.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.broker))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn create_store(&self, name: &str) -> String {
        let (status, body) = self
            .api(
                "POST",
                "/api/stores",
                Some(serde_json::json!({"type": "woocommerce", "name": name})),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Send a CloudEvent (binary mode) to the Broker's ingress, as a source would.
    pub async fn send(&self, id: &str, ty: &str, source: &str, subject: &str, data: Value) {
        let event = EventBuilderV10::new()
            .id(id)
            .ty(ty)
            .source(source)
            .subject(subject)
            .data("application/json", data)
            .build()
            .unwrap();
        let answer = self
            .http
            .post(format!("{}/broker/default", self.ingress))
            .event(event)
            .unwrap()
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 202, "the broker refused {ty}");
    }

    pub async fn status(&self, id: &str) -> String {
        sqlx::query_scalar("SELECT status FROM stores WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn failure_reason(&self, id: &str) -> Option<String> {
        sqlx::query_scalar("SELECT failure_reason FROM stores WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// The activity log's kinds, oldest first.
    pub async fn kinds(&self, id: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT kind FROM store_events WHERE store_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    /// Wait until the store has `status` (panics with the logs after `limit`).
    pub async fn wait_for(&self, id: &str, status: &str, limit: Duration) {
        let started = Instant::now();
        loop {
            let now = self.status(id).await;
            if now == status {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "store {id} is {now}, not {status}, after {limit:?}; activity {:?}; reason {:?}\n{}",
                self.kinds(id).await,
                self.failure_reason(id).await,
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// One function's `/metrics` text.
    pub async fn metrics(&self, function: &str) -> String {
        self.http
            .get(format!("{}/metrics", self.url(function)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// The sum of a metric's samples whose labels include `labels`.
pub fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metrics
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .filter(|line| {
            labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub async fn namespace_exists(client: &Client, id: &str) -> bool {
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client.clone());
    api.get_opt(&format!("store-{id}")).await.unwrap().is_some()
}

/// Delete a test store's namespace (cleanup after a test that leaves one).
pub async fn cleanup_namespace(client: &Client, id: &str) {
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client.clone());
    let _ = api
        .delete(&format!("store-{id}"), &Default::default())
        .await;
}

/// Writes the helm the functions run: the recording helm of
/// `tests/fixtures/recording-helm` with this test's settings. The settings are
/// written into the wrapper, not passed in the functions' environment, because
/// create-store and delete-store start helm from a cleared environment (an
/// allowlist, `shared/kube/src/helm/process.rs`) that a test must not widen.
fn write_recording_helm(dir: &Path, log: &Path, real: &Path, options: &Options<'_>) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let quote = |value: &std::ffi::OsStr| {
        let value = value.to_str().expect("test paths are UTF-8");
        assert!(!value.contains('\''), "no quote in {value}");
        format!("'{value}'")
    };
    let mut script = String::from("#!/usr/bin/env bash\n");
    script += &format!("export RECORDING_HELM_LOG={}\n", quote(log.as_os_str()));
    script += &format!("export RECORDING_HELM_REAL={}\n", quote(real.as_os_str()));
    if let Some(delay) = options.helm_upgrade_delay {
        script += &format!("export RECORDING_HELM_UPGRADE_DELAY={delay}\n");
    }
    if let Some(delay) = options.helm_after_upgrade_delay {
        script += &format!("export RECORDING_HELM_AFTER_UPGRADE_DELAY={delay}\n");
    }
    let fixture = repo_root().join("functions/readiness-checker/tests/fixtures/recording-helm");
    script += &format!("exec {} \"$@\"\n", quote(fixture.as_os_str()));
    let path = dir.join("recording-helm");
    std::fs::write(&path, script).expect("write the recording helm");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("make the recording helm executable");
    path
}
