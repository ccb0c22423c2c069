//! The chain under test: the real local-broker binary reading a copy of
//! `knative/`, the four real function binaries, a real PostgreSQL database
//! (one per test, from `#[sqlx::test]`) and — when `STOREFLEET_TEST_KUBECONFIG`
//! names one — the test cluster's real kube-apiserver with the real helm.
//!
//! The processes and their addresses are the shared test platform's
//! (`tests/support`, docs/development.md "Test platform"); what is the
//! chain suite's own is here: the recording helm in front of the real one,
//! the fixture chart, a test user's token, reading the database.
//!
//! Every process logs (JSON, `debug`) into a file of the test's temporary
//! directory, so a test can read what was logged.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cloudevents::binding::reqwest::RequestBuilderExt;
use cloudevents::{EventBuilder, EventBuilderV10};
use kube::Client;
use serde_json::Value;
use sqlx::PgPool;
use storefleet_shared::testing::database_url;
pub use storefleet_test_support::FUNCTIONS;
use storefleet_test_support::Platform;

pub const GATE: &str = "STOREFLEET_TEST_KUBECONFIG";

/// The test cluster of `make test-chain` (`helm`: the real helm).
pub use storefleet_test_support::cluster::TestCluster as Kube;

/// The test cluster, or `None` (and a visible note) when the gate is unset.
pub async fn kube(test: &str) -> Option<Kube> {
    storefleet_test_support::cluster::gated(GATE, test, "test-chain").await
}

pub use storefleet_test_support::repo_root;

/// The built binaries sit next to this crate's own.
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_readiness-checker"))
        .parent()
        .unwrap()
        .to_owned()
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
    /// The local broker's gateway (the API).
    pub broker: String,
    /// The broker ingress's own address (K_SINK, the tokens' issuer).
    pub ingress: String,
    pub pool: PgPool,
    pub token: String,
    pub http: reqwest::Client,
    pub helm_log: PathBuf,
    platform: Platform,
    /// Last: removed after the processes writing into it stopped.
    pub dir: tempfile::TempDir,
}

impl Chain {
    pub async fn start(pool: PgPool, kube: Option<&Kube>, options: Options<'_>) -> Chain {
        let dir = tempfile::tempdir().unwrap();
        // the manifests, as production applies them, with the test's edits
        let manifests =
            storefleet_test_support::manifests::copy(dir.path(), &options.manifest_edits).unwrap();
        let (_, token) = storefleet_shared::testing::user(&pool, "chain", 20, false).await;

        let helm_log = dir.path().join("helm-args.log");
        std::fs::write(&helm_log, "").unwrap();
        let kubeconfig = kube
            .map(|k| k.kubeconfig.clone())
            .unwrap_or_else(|| dir.path().join("no-cluster-kubeconfig"));
        let kubeconfig = kubeconfig.to_str().unwrap();
        let recording_helm = write_recording_helm(
            dir.path(),
            &helm_log,
            kube.map(|k| k.helm.as_path())
                .unwrap_or(Path::new("/bin/false")),
            &options,
        );

        let mut platform = Platform::new(dir.path(), &bin_dir(), &manifests, &FUNCTIONS).unwrap();
        platform.broker_env("RUST_LOG", "info,local_broker=debug");
        platform.broker_env("KUBECONFIG", kubeconfig);
        if kube.is_none() {
            platform.broker_arg("--no-apiserver-source");
        }
        let chart = repo_root().join("shared/kube/fixtures/chart");
        let helm_home = dir.path().join("helm");
        for (key, value) in [
            ("HOME", dir.path().to_str().unwrap().to_owned()),
            ("DATABASE_URL", database_url(&pool)),
            ("KUBECONFIG", kubeconfig.to_owned()),
            (
                "RUST_LOG",
                "debug,hyper=info,h2=info,rustls=info,tower=info".to_owned(),
            ),
            ("STOREFLEET_LOG_FORMAT", "json".to_owned()),
            // the tests' PingSource ticks every second
            ("STOREFLEET_SWEEP_INTERVAL_SECONDS", "1".to_owned()),
            (
                "STOREFLEET_HELM_BIN",
                recording_helm.to_str().unwrap().to_owned(),
            ),
            ("STOREFLEET_STORE_CHART", chart.to_str().unwrap().to_owned()),
            (
                "STOREFLEET_STORE_VALUES",
                chart.join("values.yaml").to_str().unwrap().to_owned(),
            ),
            // helm keeps its cache and config in the test's directory
            (
                "HELM_CACHE_HOME",
                helm_home.join("cache").to_str().unwrap().to_owned(),
            ),
            (
                "HELM_CONFIG_HOME",
                helm_home.join("config").to_str().unwrap().to_owned(),
            ),
            (
                "HELM_DATA_HOME",
                helm_home.join("data").to_str().unwrap().to_owned(),
            ),
        ] {
            platform.env_all(key, &value);
        }
        for (key, value) in &options.env {
            platform.env_all(key, value);
        }
        for (function, key, value) in &options.env_of {
            platform.env(function, key, value).unwrap();
        }
        let started = platform.start().await;
        if let Err(e) = started {
            panic!("the chain did not start: {e:#}\n{}", platform.tails(60));
        }
        Chain {
            broker: platform.gateway_url(),
            ingress: platform.ingress_url(),
            pool,
            token,
            http: reqwest::Client::new(),
            helm_log,
            platform,
            dir,
        }
    }

    pub fn url(&self, function: &str) -> String {
        self.platform.function_url(function).unwrap()
    }

    /// Every process' log, for failure messages and the secret grep.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for name in std::iter::once("local-broker").chain(FUNCTIONS) {
            let text = std::fs::read_to_string(self.platform.log(name)).unwrap_or_default();
            all.push_str(&format!("===== {name}\n{text}"));
        }
        all
    }

    pub fn log_of(&self, name: &str) -> String {
        std::fs::read_to_string(self.platform.log(name)).unwrap_or_default()
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
