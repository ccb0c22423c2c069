//! The Kubernetes actions against a real kube-apiserver and the real helm
//! binary (the test cluster of docs/test-cluster.md).
//!
//! Gated on `STOREFLEET_TEST_KUBECONFIG` (set by `make test-kube`): without it
//! every test prints that it skipped and passes, so `cargo test --workspace`
//! works on a machine without a cluster. Never point it at a cluster you care
//! about: the tests create and delete `store-<random>` namespaces.
//! `STOREFLEET_TEST_HELM_BIN` names the helm binary (default: `scripts/tool helm`).

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};
use rand::Rng;
use storefleet_kube::actions::{StoreActions, TornDown};
use storefleet_kube::helm::{Helm, HelmConfig, Recovery, ReleaseState, StoreRelease, Uninstalled};
use storefleet_kube::names::{STORE_ADMIN_SECRET_NAME, STORE_SECRET_NAME, StoreId};
use storefleet_kube::namespace::{self, NamespaceDeletion, NamespaceState};
use storefleet_kube::readiness::{self, ReadinessPolicy, Verdict};
use storefleet_kube::{Engine, Error, rbac, secret};

const GATE: &str = "STOREFLEET_TEST_KUBECONFIG";

struct Cluster {
    client: Client,
    kubeconfig: PathBuf,
    helm_bin: PathBuf,
}

async fn cluster(test: &str) -> Option<Cluster> {
    let Some(kubeconfig) = std::env::var_os(GATE).map(PathBuf::from) else {
        // Straight to stderr, past libtest's capture, so the skip is visible.
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: {GATE} is not set (run `make test-kube` for the real-cluster tests)"
        );
        return None;
    };
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::read_from(&kubeconfig).expect("read the test kubeconfig"),
        &KubeConfigOptions::default(),
    )
    .await
    .expect("load the test kubeconfig");
    let client = Client::try_from(config).expect("build a client");
    let helm_bin = std::env::var_os("STOREFLEET_TEST_HELM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let out = std::process::Command::new(repo_root().join("scripts/tool"))
                .arg("helm")
                .stderr(Stdio::inherit())
                .output()
                .expect("run scripts/tool helm");
            assert!(out.status.success(), "scripts/tool helm failed");
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        });
    Some(Cluster {
        client,
        kubeconfig,
        helm_bin,
    })
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture_chart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/chart")
}

fn random_id() -> StoreId {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let id: String = (0..8)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect();
    StoreId::parse(&id).unwrap()
}

fn helm_for(cluster: &Cluster, chart: &Path, values: Vec<PathBuf>) -> Helm {
    let mut config = HelmConfig::new(&cluster.helm_bin, chart, values);
    config.kubeconfig = Some(cluster.kubeconfig.clone());
    Helm::new(config)
}

async fn until<T>(what: &str, limit: Duration, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
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

async fn delete_and_wait(client: &Client, id: &StoreId) {
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
async fn prepared_store(client: &Client) -> StoreRelease {
    let id = random_id();
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
async fn hanging_helm(cluster: &Cluster, helm: &Helm, id: &StoreId) -> tokio::process::Child {
    let child = tokio::process::Command::new(&cluster.helm_bin)
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

async fn admin_password(client: &Client, id: &StoreId) -> Vec<u8> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &id.namespace());
    let secret = secrets.get(STORE_ADMIN_SECRET_NAME).await.unwrap();
    secret.data.unwrap()["wordpress-admin-password"].0.clone()
}

#[tokio::test]
async fn namespace_secret_and_binding_on_a_real_apiserver() {
    let Some(cluster) = cluster("namespace_secret_and_binding_on_a_real_apiserver").await else {
        return;
    };
    // Every log line of the test, down to TRACE (kube's HTTP layer included),
    // is kept to check that no Secret value reaches a log.
    let logs = CapturedLogs::default();
    let _logging = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(logs.clone())
            .finish(),
    );
    let client = &cluster.client;
    let id = random_id();

    // Applying twice converges; the labels are what docs/development.md says.
    namespace::apply_store_namespace(client, &id, Engine::WooCommerce)
        .await
        .unwrap();
    let ns = namespace::apply_store_namespace(client, &id, Engine::WooCommerce)
        .await
        .unwrap();
    let labels = ns.metadata.labels.unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "storefleet");
    assert_eq!(labels["storefleet.io/store-id"], id.as_str());
    assert_eq!(labels["storefleet.io/engine"], "woocommerce");
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
    assert_eq!(labels["pod-security.kubernetes.io/warn"], "restricted");
    assert_eq!(labels["pod-security.kubernetes.io/audit"], "restricted");
    let managers: Vec<_> = ns
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .filter_map(|f| f.manager)
        .collect();
    assert!(managers.contains(&"storefleet".to_owned()), "{managers:?}");

    // Created once; the second attempt (a retried event) rotates nothing.
    assert_eq!(
        secret::ensure_store_secret(client, &id, "owner@example.com")
            .await
            .unwrap(),
        secret::SecretOutcome::Created
    );
    let first = admin_password(client, &id).await;
    assert_eq!(
        secret::ensure_store_secret(client, &id, "owner@example.com")
            .await
            .unwrap(),
        secret::SecretOutcome::AlreadyExisted
    );
    assert_eq!(
        admin_password(client, &id).await,
        first,
        "the password was rotated"
    );
    let credentials = secret::read_credentials(client, &id).await.unwrap();
    assert!(credentials.admin_user.starts_with("admin-"));
    assert_eq!(
        credentials.admin_password.expose().as_bytes(),
        first.as_slice()
    );

    let subjects = rbac::parse_subjects("storefleet/create-store,storefleet/delete-store").unwrap();
    rbac::apply_store_role_binding(client, &id, &subjects)
        .await
        .unwrap();
    rbac::apply_store_role_binding(client, &id, &subjects)
        .await
        .unwrap();
    let readers = rbac::parse_reader_subjects("storefleet/list-stores").unwrap();
    for _ in 0..2 {
        let reader = rbac::apply_store_reader_binding(client, &id, &readers)
            .await
            .unwrap()
            .expect("a reader binding for a non-empty subject list");
        assert_eq!(reader.role_ref.name, "storefleet-store-reader");
    }

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &id.namespace());
    let mut data = secrets.get(STORE_SECRET_NAME).await.unwrap().data.unwrap();
    data.extend(
        secrets
            .get(STORE_ADMIN_SECRET_NAME)
            .await
            .unwrap()
            .data
            .unwrap(),
    );
    let values: Vec<String> = data
        .into_iter()
        .filter(|(key, _)| key.contains("password") || key.contains("key") || key.contains("salt"))
        .map(|(_, value)| String::from_utf8(value.0).unwrap())
        .collect();
    assert_eq!(values.len(), 11);

    delete_and_wait(client, &id).await;
    let err = secret::read_credentials(client, &id).await.unwrap_err();
    assert!(matches!(err, Error::CredentialsUnavailable { .. }), "{err}");

    let logs = logs.text();
    assert!(
        logs.lines().count() > 10,
        "the capture caught nothing:\n{logs}"
    );
    for value in values {
        assert!(!logs.contains(&value), "a Secret value reached the logs");
    }
}

/// A `tracing_subscriber` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    fn text(&self) -> String {
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

#[tokio::test]
async fn foreign_namespaces_are_never_deleted() {
    let Some(cluster) = cluster("foreign_namespaces_are_never_deleted").await else {
        return;
    };
    let client = &cluster.client;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for labels in [
        None,
        Some([("app.kubernetes.io/managed-by", "someone-else")]),
        Some([("storefleet.io/store-id", "zzzz9999")]),
    ] {
        let id = random_id();
        let foreign = Namespace {
            metadata: ObjectMeta {
                name: Some(id.namespace()),
                labels: labels.map(|l| {
                    l.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                }),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        namespaces
            .create(&PostParams::default(), &foreign)
            .await
            .unwrap();
        let err = namespace::delete_store_namespace(client, &id)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::ForeignNamespace { .. }),
            "{labels:?}: {err}"
        );
        let actions = StoreActions {
            client: client.clone(),
            helm: helm_for(&cluster, &fixture_chart(), vec![]),
            subjects: vec![],
            reader_subjects: vec![],
            deleter_subjects: vec![],
            checker_subjects: vec![],
            watcher_subjects: vec![],
        };
        let err = actions.teardown(&id).await.unwrap_err();
        assert!(
            matches!(err, Error::ForeignNamespace { .. }),
            "{labels:?}: {err}"
        );
        let still_there = namespaces.get(&id.namespace()).await.unwrap();
        assert!(
            still_there.metadata.deletion_timestamp.is_none(),
            "{labels:?}: it was deleted"
        );
        // Unlabelled too: Storefleet never leaves one behind, so it is not ours.
        let err = namespace::apply_store_namespace(client, &id, Engine::WooCommerce)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::ForeignNamespace { .. }),
            "{labels:?}: apply relabelled it: {err}"
        );
        namespaces
            .delete(&id.namespace(), &DeleteParams::default())
            .await
            .unwrap();
    }
}

/// Provision the way create-store does, with real helm, then tear down the
/// way delete-store does.
async fn provision_observe_teardown(cluster: &Cluster, chart: &Path, values: Vec<PathBuf>) {
    let client = &cluster.client;
    let id = random_id();
    let store = StoreRelease {
        id: id.clone(),
        host: format!("{id}.localhost"),
    };
    let histogram = storefleet_kube::helm::duration_histogram().unwrap();
    let actions = StoreActions {
        client: client.clone(),
        helm: helm_for(cluster, chart, values).with_duration_histogram(histogram.clone()),
        subjects: rbac::parse_subjects("storefleet/create-store").unwrap(),
        reader_subjects: rbac::parse_reader_subjects("storefleet/list-stores").unwrap(),
        deleter_subjects: rbac::parse_deleter_subjects("storefleet/delete-store").unwrap(),
        checker_subjects: rbac::parse_checker_subjects("storefleet/readiness-checker").unwrap(),
        watcher_subjects: rbac::parse_watcher_subjects("storefleet/storefleet-apiserver-source")
            .unwrap(),
    };
    let helm = &actions.helm;

    let provisioned = actions
        .provision(&store, Engine::WooCommerce, "owner@example.com")
        .await
        .unwrap();
    assert_eq!(provisioned.secret, secret::SecretOutcome::Created);
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &id.namespace());
    for (binding, subject) in [
        ("storefleet-store-manager", "create-store"),
        ("storefleet-store-reader", "list-stores"),
    ] {
        let applied = bindings.get(binding).await.unwrap();
        assert_eq!(applied.role_ref.name, binding);
        let subjects = applied.subjects.unwrap_or_default();
        assert_eq!(
            subjects.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            [subject]
        );
    }
    eprintln!(
        "helm upgrade --install of {} took {:?}",
        chart.display(),
        provisioned.helm.duration
    );
    let status = helm.status(&id).await.unwrap().expect("the release exists");
    assert_eq!(status.info.status, ReleaseState::Deployed);
    assert_eq!(status.revision, 1);
    // A retried event converges: same Secret, a new helm revision, no error.
    let again = actions
        .provision(&store, Engine::WooCommerce, "owner@example.com")
        .await
        .unwrap();
    assert_eq!(again.secret, secret::SecretOutcome::AlreadyExisted);
    assert_eq!(helm.history(&id).await.unwrap().len(), 2);

    let policy = ReadinessPolicy::for_engine(Engine::WooCommerce);
    let verdict = until(
        "the store to be ready",
        Duration::from_secs(120),
        async || match readiness::observe(client, &id, &policy).await.unwrap() {
            Verdict::Progressing { detail, .. } => {
                eprintln!("waiting for {detail}");
                None
            }
            other => Some(other),
        },
    )
    .await;
    assert_eq!(verdict, Verdict::Ready);
    let observed = readiness::list_observed(client, &id).await.unwrap();
    assert!(!observed.deployments.is_empty() && !observed.stateful_sets.is_empty());
    assert!(observed.pods.len() >= 2, "{} pods", observed.pods.len());

    let torn = actions.teardown(&id).await.unwrap();
    assert_eq!(torn.release, Uninstalled::Removed);
    assert!(matches!(
        torn.namespace,
        NamespaceDeletion::Deleting | NamespaceDeletion::Gone
    ));
    assert_eq!(helm.status(&id).await.unwrap(), None);
    assert_eq!(
        histogram
            .with_label_values(&["upgrade_install", "ok"])
            .get_sample_count(),
        2
    );
    delete_and_wait(client, &id).await;
    // A repeated delete-requested event: nothing left, nothing fails.
    let torn = actions.teardown(&id).await.unwrap();
    assert_eq!(
        torn,
        TornDown {
            release: Uninstalled::NotFound,
            namespace: NamespaceDeletion::Gone
        }
    );
}

#[tokio::test]
async fn real_helm_installs_observes_and_uninstalls_the_fixture_chart() {
    let Some(cluster) =
        cluster("real_helm_installs_observes_and_uninstalls_the_fixture_chart").await
    else {
        return;
    };
    provision_observe_teardown(&cluster, &fixture_chart(), vec![]).await;
}

/// Readiness on pod status written by the cluster (kwok's failure stages),
/// not by a fixture.
#[tokio::test]
async fn observe_reports_a_failing_pod_with_its_reason() {
    let Some(cluster) = cluster("observe_reports_a_failing_pod_with_its_reason").await else {
        return;
    };
    let client = &cluster.client;
    for (fail_with, expected, tenant) in [
        (
            "ImagePullBackOff",
            "cannot pull its image registry.invalid/web:1 (ImagePullBackOff)",
            readiness::Failure::Image(readiness::Part::Other),
        ),
        (
            "CrashLoopBackOff",
            "keeps crashing",
            readiness::Failure::Crashing(readiness::Part::Other),
        ),
    ] {
        let store = prepared_store(client).await;
        let id = store.id.clone();
        let values = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(values.path(), format!("failWith: {fail_with}\n")).unwrap();
        let helm = helm_for(&cluster, &fixture_chart(), vec![values.path().to_owned()]);
        helm.upgrade_install(&store).await.unwrap();
        let policy = ReadinessPolicy::for_engine(Engine::WooCommerce);
        let verdict =
            until(
                "a verdict",
                Duration::from_secs(120),
                async || match readiness::observe(client, &id, &policy).await.unwrap() {
                    Verdict::Progressing { .. } => None,
                    other => Some(other),
                },
            )
            .await;
        match verdict {
            Verdict::Failed { reason, detail } => {
                eprintln!("{fail_with}: {detail}");
                assert!(detail.contains(expected), "{detail:?} lacks {expected:?}");
                assert_eq!(reason, tenant, "{detail}");
                assert!(!reason.sentence().contains("registry.invalid"));
            }
            other => panic!("{fail_with}: expected Failed, got {other:?}"),
        }
        helm.uninstall(&id).await.unwrap();
        delete_and_wait(client, &id).await;
    }
}

#[tokio::test]
async fn real_helm_installs_the_store_chart() {
    let Some(cluster) = cluster("real_helm_installs_the_store_chart").await else {
        return;
    };
    let chart = repo_root().join("helm/store");
    if !chart.join("Chart.yaml").exists() {
        let _ = writeln!(
            std::io::stderr(),
            "real_helm_installs_the_store_chart: skipped: helm/store does not exist yet"
        );
        return;
    }
    let values = ["values-local.yaml"]
        .iter()
        .map(|f| chart.join(f))
        .filter(|f| f.exists())
        .collect();
    provision_observe_teardown(&cluster, &chart, values).await;
}

#[tokio::test]
async fn a_release_left_pending_install_by_a_killed_helm_is_recovered() {
    let Some(cluster) =
        cluster("a_release_left_pending_install_by_a_killed_helm_is_recovered").await
    else {
        return;
    };
    let client = &cluster.client;
    let store = prepared_store(client).await;
    let id = store.id.clone();

    // A helm that hangs in its pre-install hook, then dies by SIGKILL (an OOM
    // kill, a node loss): the release stays pending-install.
    let helm = helm_for(&cluster, &fixture_chart(), vec![]);
    let mut crashed = hanging_helm(&cluster, &helm, &id).await;
    crashed.kill().await.unwrap();

    // A young pending release may belong to a helm still running: left alone.
    let err = helm.upgrade_install(&store).await.unwrap_err();
    assert!(matches!(err, Error::ReleaseLocked { .. }), "{err}");

    // Once older than `stuck_after`, it is cleared and installed afresh.
    let mut config = helm.config().clone();
    config.stuck_after = Duration::ZERO;
    let helm = Helm::new(config);
    let run = helm.upgrade_install(&store).await.unwrap();
    assert_eq!(
        run.recovered,
        Some(Recovery::Uninstalled {
            from: ReleaseState::PendingInstall
        })
    );
    let status = helm.status(&id).await.unwrap().unwrap();
    assert_eq!(status.info.status, ReleaseState::Deployed);

    helm.uninstall(&id).await.unwrap();
    delete_and_wait(client, &id).await;
}

/// Why the runner's bounds leave no pending release behind: helm's own
/// `--timeout` sits inside the runner's bound, so helm normally gives up first
/// and records the release `failed`; and when the runner must stop helm, it
/// sends SIGTERM, on which Helm 4 cancels and also records `failed`.
#[tokio::test]
async fn a_helm_that_times_out_or_gets_sigterm_leaves_the_release_failed_not_pending() {
    let Some(cluster) =
        cluster("a_helm_that_times_out_or_gets_sigterm_leaves_the_release_failed_not_pending")
            .await
    else {
        return;
    };
    let client = &cluster.client;

    // 1. The runner with a short bound: helm's inner --timeout fires first.
    let store = prepared_store(client).await;
    let id = store.id.clone();
    let values = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(values.path(), "hangingHook: true\n").unwrap();
    let mut config = helm_for(&cluster, &fixture_chart(), vec![values.path().to_owned()])
        .config()
        .clone();
    config.install_timeout = Duration::from_secs(12);
    config.stop_grace = Duration::from_secs(6);
    let helm = Helm::new(config);
    let err = helm.upgrade_install(&store).await.unwrap_err();
    assert!(
        matches!(&err, Error::Helm { reason, .. } if reason.contains("failed pre-install")),
        "{err}"
    );
    let last = helm.history(&id).await.unwrap().pop().expect("a revision");
    assert_eq!(last.status, ReleaseState::Failed, "{}", last.description);
    helm.uninstall(&id).await.unwrap();
    delete_and_wait(client, &id).await;

    // 2. helm stopped by SIGTERM mid-install (what the runner sends at its bound).
    let id = random_id();
    namespace::apply_store_namespace(client, &id, Engine::WooCommerce)
        .await
        .unwrap();
    let mut running = hanging_helm(&cluster, &helm, &id).await;
    let pid = nix::unistd::Pid::from_raw(running.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(30), running.wait())
        .await
        .expect("helm ends after SIGTERM")
        .unwrap();
    assert!(!exit.success());
    let last = helm.history(&id).await.unwrap().pop().expect("a revision");
    eprintln!(
        "after SIGTERM the release is {:?}: {}",
        last.status, last.description
    );
    assert_eq!(
        last.status,
        ReleaseState::Failed,
        "SIGTERM should leave the release failed, not pending"
    );
    helm.uninstall(&id).await.unwrap();
    delete_and_wait(client, &id).await;
}

/// `make bench-kube`: the durations of the Kubernetes actions on the test
/// cluster, as a table (measured, never asserted). Ignored in `make test`.
#[tokio::test]
#[ignore = "a benchmark: run by `make bench-kube`"]
async fn bench_store_actions() {
    let Some(cluster) = cluster("bench_store_actions").await else {
        return;
    };
    let client = &cluster.client;
    let rounds: usize = std::env::var("STOREFLEET_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let histogram = storefleet_kube::helm::duration_histogram().unwrap();
    let helm = helm_for(&cluster, &fixture_chart(), vec![]).with_duration_histogram(histogram);
    let policy = ReadinessPolicy::for_engine(Engine::WooCommerce);
    let mut samples = Samples::default();
    for _ in 0..rounds {
        let id = random_id();
        let store = StoreRelease {
            id: id.clone(),
            host: format!("{id}.localhost"),
        };
        let s = &mut samples;
        timed(
            s,
            "1 apply namespace",
            namespace::apply_store_namespace(client, &id, Engine::WooCommerce),
        )
        .await
        .unwrap();
        timed(
            s,
            "2 create secret",
            secret::ensure_store_secret(client, &id, "owner@example.com"),
        )
        .await
        .unwrap();
        timed(s, "3 helm upgrade --install", helm.upgrade_install(&store))
            .await
            .unwrap();
        let ready = until("ready", Duration::from_secs(120), async || {
            (readiness::observe(client, &id, &policy).await.unwrap() == Verdict::Ready)
                .then_some(())
        });
        timed(s, "4 observe until ready", ready).await;
        timed(s, "5 helm uninstall --wait", helm.uninstall(&id))
            .await
            .unwrap();
        timed(
            s,
            "6 delete namespace until gone",
            delete_and_wait(client, &id),
        )
        .await;
    }
    println!("\n| step ({rounds} rounds, test cluster) | min | median | max |\n|---|---|---|---|");
    for (step, mut durations) in samples {
        durations.sort();
        println!(
            "| {step} | {:.0} ms | {:.0} ms | {:.0} ms |",
            durations[0].as_secs_f64() * 1000.0,
            durations[durations.len() / 2].as_secs_f64() * 1000.0,
            durations[durations.len() - 1].as_secs_f64() * 1000.0
        );
    }
}

type Samples = std::collections::BTreeMap<&'static str, Vec<Duration>>;

async fn timed<T>(samples: &mut Samples, step: &'static str, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = work.await;
    samples.entry(step).or_default().push(started.elapsed());
    out
}
