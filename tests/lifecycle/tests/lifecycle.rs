//! A store's life through the real function binaries and the local broker
//! (docs/lifecycle-tests.md): create → ready → delete → deleted, and the
//! failure paths. Every function acts as its own ServiceAccount.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::DeleteParams;
use storefleet_lifecycle::checks::{self, in_order, kinds};
use storefleet_lifecycle::cluster::Cluster;
use storefleet_lifecycle::database::Database;
use storefleet_lifecycle::platform::{Options, Platform, StoreChart};
use storefleet_lifecycle::wait::until;

const READY_WITHIN: Duration = Duration::from_secs(120);
const DELETED_WITHIN: Duration = Duration::from_secs(180);

async fn setup(test: &str) -> Option<(Cluster, Database)> {
    let cluster = Cluster::connect(test).await.unwrap()?;
    let db = Database::fresh().await.unwrap();
    Some((cluster, db))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_is_created_becomes_ready_and_is_deleted_without_leftovers() {
    let test = "create_ready_delete";
    let Some((cluster, db)) = setup(test).await else {
        return;
    };
    // The sweep is slowed to once an hour here: `ready` must come from the
    // event path (store.installed and the ApiServerSource emulation).
    let mut options = Options::new(StoreChart::selected());
    options.ping_schedule = "@every 1h".into();
    options.recorded = Some("readiness-checker");
    let platform = Platform::start(&cluster, &db, test, options).await.unwrap();

    let store = platform.create_store("Lifecycle shop").await.unwrap();
    let id = store["id"].as_str().unwrap().to_owned();
    assert_eq!(store["status"], "provisioning");
    assert_eq!(store["namespace"], format!("store-{id}"));

    let ready = platform
        .wait_for_status(&id, "ready", READY_WITHIN)
        .await
        .unwrap();
    assert!(ready["ready_at"].is_string(), "ready_at is set: {ready}");
    assert!(ready["failure_reason"].is_null());

    checks::store_namespace_is_labelled(&cluster.admin, &id)
        .await
        .unwrap();
    checks::credentials_and_binding(&cluster.admin, &id)
        .await
        .unwrap();
    // list-stores' credentials route, through its reader binding only.
    let credentials = platform.credentials(&id).await.unwrap();
    assert!(
        credentials["admin_user"]
            .as_str()
            .is_some_and(|user| user.starts_with("admin-")),
        "{credentials}"
    );
    assert!(
        credentials["admin_password"]
            .as_str()
            .is_some_and(|p| !p.is_empty())
    );
    let release = checks::helm_release(&cluster, &id)
        .unwrap()
        .expect("a helm release");
    assert_eq!(release["info"]["status"], "deployed", "{release}");
    let pods = checks::pods_admitted_and_ready(&cluster.admin, &id)
        .await
        .unwrap();
    assert!(pods >= 1);
    let volumes = checks::bound_volumes(&cluster.admin, &id).await.unwrap();
    assert!(!volumes.is_empty(), "the store's database volume is bound");

    // The ApiServerSource emulation delivers the store's changes (its
    // Deployments, StatefulSets and Pods) to readiness-checker — eventually:
    // its watch of a new store namespace is refused until the source's
    // binding there exists, and is retried with a back-off; like Knative's
    // adapter it sends nothing for what a new watch first lists. The
    // fixture chart's StatefulSet can be ready, and never change again,
    // before that (its pods and Deployment go on changing), so only
    // helm/store's is required.
    let ours = format!("/namespaces/store-{id}/");
    let resources: &[&str] = if platform.chart.is_store_chart {
        &["/deployments/", "/statefulsets/", "/pods/"]
    } else {
        &["/deployments/", "/pods/"]
    };
    let delivered = || -> Vec<(String, String)> {
        platform
            .deliveries()
            .into_iter()
            .filter(|(ty, subject)| {
                ty.starts_with("dev.knative.apiserver.resource.") && subject.contains(&ours)
            })
            .collect()
    };
    let all_kinds = until(
        "an ApiServerSource event of each kind",
        Duration::from_secs(60),
        Duration::from_millis(200),
        async || {
            let seen = delivered();
            resources
                .iter()
                .all(|kind| seen.iter().any(|(_, subject)| subject.contains(kind)))
                .then_some(())
        },
    )
    .await;
    assert!(
        all_kinds.is_ok(),
        "not every kind {resources:?} of store-{id} reached readiness-checker: {:?}",
        delivered()
    );

    let log = kinds(&platform.events(&id).await.unwrap());
    assert!(
        in_order(&log, &["requested", "installed", "ready"]),
        "activity log: {log:?}"
    );
    assert!(!log.contains(&"failed".to_owned()), "activity log: {log:?}");

    let deleting = platform.delete_store(&id).await.unwrap();
    assert_eq!(deleting["status"], "deleting");
    // No sweep runs here: `deleted` must come from delete-store or the
    // Namespace delete event of the ApiServerSource.
    let deleted = platform
        .wait_for_status(&id, "deleted", DELETED_WITHIN)
        .await;
    let deleted = match deleted {
        Ok(store) => store,
        Err(err) => panic!("{err:#}"),
    };
    assert_eq!(deleted["status"], "deleted");
    assert!(checks::helm_release(&cluster, &id).unwrap().is_none());
    checks::nothing_left(
        &cluster.admin,
        std::slice::from_ref(&id),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let log = platform.db_event_kinds(&id).await.unwrap();
    assert!(
        in_order(
            &log,
            &[
                "requested",
                "installed",
                "ready",
                "delete-requested",
                "deleted"
            ]
        ),
        "activity log: {log:?}"
    );
    drop(platform);
    db.remove().await.unwrap();
}

/// A values file for the store chart, written into the test's directory.
fn values_file(platform_dir: &std::path::Path, name: &str, yaml: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(platform_dir).unwrap();
    let path = platform_dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_never_becomes_ready_fails_the_store_with_the_reason() {
    let test = "never_ready";
    let Some((cluster, db)) = setup(test).await else {
        return;
    };
    let mut chart = StoreChart::selected();
    let dir = storefleet_lifecycle::repo_root().join("target/lifecycle/values");
    chart.values.push(values_file(
        &dir,
        &format!("never-ready-{}.yaml", storefleet_lifecycle::random_suffix()),
        &chart.never_ready_values(),
    ));
    let platform = Platform::start(&cluster, &db, test, Options::new(chart))
        .await
        .unwrap();
    let id = platform.create_store("Never ready").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed = platform
        .wait_for_status(&id, "failed", READY_WITHIN)
        .await
        .unwrap();
    let reason = failed["failure_reason"].as_str().unwrap_or_default();
    // a fixed sentence: the kubelet's ImagePullBackOff and the image are logged
    assert!(
        reason.contains("its image cannot be pulled") && !reason.contains("ImagePullBackOff"),
        "failure_reason: {reason:?}"
    );
    let log = kinds(&platform.events(&id).await.unwrap());
    assert!(
        in_order(&log, &["requested", "installed", "failed"]),
        "activity log: {log:?}"
    );
    // A failed store can still be deleted, leaving nothing behind.
    platform.delete_store(&id).await.unwrap();
    platform
        .wait_for_status(&id, "deleted", DELETED_WITHIN)
        .await
        .unwrap();
    checks::nothing_left(
        &cluster.admin,
        std::slice::from_ref(&id),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    drop(platform);
    db.remove().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_still_provisioning_at_the_timeout_fails() {
    let test = "timeout";
    let Some((cluster, db)) = setup(test).await else {
        return;
    };
    // The workloads stay waiting (pods held Running but not Ready by a
    // test stage, never a failure reason), so only the timeout can end it.
    let mut chart = StoreChart::selected();
    let dir = storefleet_lifecycle::repo_root().join("target/lifecycle/values");
    chart.values.push(values_file(
        &dir,
        &format!("held-{}.yaml", storefleet_lifecycle::random_suffix()),
        &chart.held_values(),
    ));
    cluster.ensure_hold_stage().unwrap();
    let options = Options::new(chart).env("STOREFLEET_PROVISIONING_TIMEOUT_SECONDS", "8");
    let platform = Platform::start(&cluster, &db, test, options).await.unwrap();
    let id = platform.create_store("Too slow").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed = platform
        .wait_for_status(&id, "failed", READY_WITHIN)
        .await
        .unwrap();
    let reason = failed["failure_reason"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        reason.contains("not ready within 8 s"),
        "failure_reason: {reason:?}"
    );
    platform.delete_store(&id).await.unwrap();
    platform
        .wait_for_status(&id, "deleted", DELETED_WITHIN)
        .await
        .unwrap();
    drop(platform);
    db.remove().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_failing_fails_the_store_with_helms_reason() {
    let test = "helm_fails";
    let Some((cluster, db)) = setup(test).await else {
        return;
    };
    // Values the API server rejects: helm renders, the apply fails.
    let mut chart = StoreChart::selected();
    let dir = storefleet_lifecycle::repo_root().join("target/lifecycle/values");
    chart.values.push(values_file(
        &dir,
        &format!("helm-fails-{}.yaml", storefleet_lifecycle::random_suffix()),
        &chart.rejected_values(),
    ));
    let platform = Platform::start(&cluster, &db, test, Options::new(chart))
        .await
        .unwrap();
    let id = platform.create_store("Helm fails").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed = platform
        .wait_for_status(&id, "failed", READY_WITHIN)
        .await
        .unwrap();
    let reason = failed["failure_reason"].as_str().unwrap_or_default();
    assert!(!reason.is_empty(), "a failed store says why: {failed}");
    let log = kinds(&platform.events(&id).await.unwrap());
    assert!(
        in_order(&log, &["requested", "failed"]),
        "activity log: {log:?}"
    );
    platform.delete_store(&id).await.unwrap();
    platform
        .wait_for_status(&id, "deleted", DELETED_WITHIN)
        .await
        .unwrap();
    checks::nothing_left(
        &cluster.admin,
        std::slice::from_ref(&id),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    drop(platform);
    db.remove().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_deleted_behind_storefleets_back_is_noticed_by_the_sweep() {
    let test = "namespace_vanished";
    let Some((cluster, db)) = setup(test).await else {
        return;
    };
    let platform = Platform::start(&cluster, &db, test, Options::new(StoreChart::selected()))
        .await
        .unwrap();
    let id = platform.create_store("Vanishing").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    platform
        .wait_for_status(&id, "ready", READY_WITHIN)
        .await
        .unwrap();
    // Someone deletes the namespace with kubectl, not through Storefleet.
    Api::<Namespace>::all(cluster.admin.clone())
        .delete(&format!("store-{id}"), &DeleteParams::default())
        .await
        .unwrap();
    let failed = platform
        .wait_for_status(&id, "failed", READY_WITHIN)
        .await
        .unwrap();
    let reason = failed["failure_reason"].as_str().unwrap_or_default();
    // shared/src/reasons.rs NAMESPACE_VANISHED; the namespace's name is logged
    assert!(
        reason.contains("removed from the cluster while it was ready"),
        "failure_reason: {reason:?}"
    );
    // Deleting it now ends cleanly.
    platform.delete_store(&id).await.unwrap();
    platform
        .wait_for_status(&id, "deleted", DELETED_WITHIN)
        .await
        .unwrap();
    checks::nothing_left(
        &cluster.admin,
        std::slice::from_ref(&id),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    drop(platform);
    db.remove().await.unwrap();
}
