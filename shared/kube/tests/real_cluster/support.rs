//! What every real-cluster test needs: the gated cluster, ids, a helm for
//! it, bounded waiting, and the store's first steps.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use storefleet_kube::helm::{Helm, HelmConfig, ReleaseState, StoreRelease};
use storefleet_kube::names::{STORE_ADMIN_SECRET_NAME, StoreId};
use storefleet_kube::namespace::{self, NamespaceDeletion, NamespaceState};
use storefleet_kube::{Engine, secret};

pub const GATE: &str = "STOREFLEET_TEST_KUBECONFIG";

/// The test cluster of `make test-kube` (`helm`: the real helm).
pub use storefleet_test_support::cluster::TestCluster as Cluster;

pub async fn cluster(test: &str) -> Option<Cluster> {
    storefleet_test_support::cluster::gated(GATE, test, "test-kube").await
}

pub use storefleet_test_support::repo_root;

pub fn fixture_chart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/chart")
}

pub fn helm_for(cluster: &Cluster, chart: &Path, values: Vec<PathBuf>) -> Helm {
    let mut config = HelmConfig::new(&cluster.helm, chart, values);
    config.kubeconfig = Some(cluster.kubeconfig.clone());
    Helm::new(config)
}

pub async fn until<T>(what: &str, limit: Duration, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub async fn delete_and_wait(client: &Client, id: &StoreId) {
    let first = namespace::delete_store_namespace(client, id).await.unwrap();
    assert!(matches!(
        first,
        NamespaceDeletion::Deleting | NamespaceDeletion::Gone
    ));
    until(
        "the namespace to be gone",
        Duration::from_secs(120),
        async || {
            (namespace::store_namespace_state(client, id).await.unwrap() == NamespaceState::Absent)
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        namespace::delete_store_namespace(client, id).await.unwrap(),
        NamespaceDeletion::Gone,
        "a repeated delete is harmless"
    );
}

/// A new store id with its namespace and Secret in place (create-store's
/// first two steps).
pub async fn prepared_store(client: &Client) -> StoreRelease {
    let id = StoreId::random();
    namespace::apply_store_namespace(client, &id, Engine::WooCommerce)
        .await
        .unwrap();
    secret::ensure_store_secret(client, &id, "owner@example.com")
        .await
        .unwrap();
    StoreRelease {
        host: format!("{id}.localhost"),
        id,
    }
}

/// A helm that hangs in the fixture chart's pre-install hook, and the moment
/// its release is recorded `pending-install`.
pub async fn hanging_helm(cluster: &Cluster, helm: &Helm, id: &StoreId) -> tokio::process::Child {
    let child = tokio::process::Command::new(&cluster.helm)
        // The runner's storage driver, so the runner sees this release.
        .env("HELM_DRIVER", storefleet_kube::helm::HELM_DRIVER)
        .args(["upgrade", "--install", &id.release()])
        .arg(fixture_chart())
        .args([
            "--namespace",
            &id.namespace(),
            "--set",
            &format!("storeId={id}"),
        ])
        .args([
            "--set",
            "ingress.host=x.localhost",
            "--set",
            "existingSecret=store-credentials",
        ])
        .args([
            "--set",
            "hangingHook=true",
            "--timeout",
            "300s",
            "--kubeconfig",
        ])
        .arg(&cluster.kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    until(
        "the release to be pending-install",
        Duration::from_secs(60),
        async || {
            let history = helm.history(id).await.unwrap();
            history
                .last()
                .is_some_and(|r| r.status == ReleaseState::PendingInstall)
                .then_some(())
        },
    )
    .await;
    child
}

pub async fn admin_password(client: &Client, id: &StoreId) -> Vec<u8> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &id.namespace());
    let secret = secrets.get(STORE_ADMIN_SECRET_NAME).await.unwrap();
    secret.data.unwrap()["wordpress-admin-password"].0.clone()
}

/// A `tracing_subscriber` writer that keeps everything in memory.
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
