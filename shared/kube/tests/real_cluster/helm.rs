//! The real helm: install, observe, uninstall; a helm killed, timed out or
//! stopped by SIGTERM leaves a release the next run recovers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::Api;
use storefleet_kube::actions::{StoreActions, TornDown};
use storefleet_kube::helm::{Helm, Recovery, ReleaseState, StoreRelease, Uninstalled};
use storefleet_kube::names::StoreId;
use storefleet_kube::namespace::{self, NamespaceDeletion};
use storefleet_kube::readiness::{self, ReadinessPolicy, Verdict};
use storefleet_kube::{Engine, Error, rbac, secret};

use crate::support::*;

/// Provision the way create-store does, with real helm, then tear down the
/// way delete-store does.
async fn provision_observe_teardown(cluster: &Cluster, chart: &Path, values: Vec<PathBuf>) {
    let client = &cluster.client;
    let id = StoreId::random();
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
    let id = StoreId::random();
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
