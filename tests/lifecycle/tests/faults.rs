//! Faults the chain must survive (docs/lifecycle-tests.md): a function
//! killed mid-provisioning, every event delivered twice, the broker
//! restarted with events in flight. Each ends in the same state as a run
//! without the fault.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use storefleet_lifecycle::checks::{self, in_order, kinds};
use storefleet_lifecycle::cluster::Cluster;
use storefleet_lifecycle::database::Database;
use storefleet_lifecycle::platform::{Options, Platform, StoreChart};
use storefleet_lifecycle::wait::until;

const CONVERGED_WITHIN: Duration = Duration::from_secs(240);

async fn setup(test: &str) -> Option<(Cluster, Database)> {
    let cluster = Cluster::connect(test).await.unwrap()?;
    let db = Database::fresh().await.unwrap();
    Some((cluster, db))
}

/// Delete the store and check that nothing is left.
async fn delete_cleanly(platform: &Platform, cluster: &Cluster, id: &str) {
    platform.delete_store(id).await.unwrap();
    platform
        .wait_for_status(id, "deleted", CONVERGED_WITHIN)
        .await
        .unwrap();
    checks::nothing_left(&cluster.admin, &[id.to_owned()], Duration::from_secs(60))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_store_killed_mid_provisioning_and_restarted_converges() {
    let test = "kill_create_store";
    let Some((cluster, db)) = setup(test).await else {
        return;
    };
    let mut platform = Platform::start(&cluster, &db, test, Options::new(StoreChart::selected()))
        .await
        .unwrap();
    let id = platform.create_store("Killed midway").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The moment create-store has begun (its namespace exists), kill it
    // with its helm: no chance to finish or record anything.
    let namespaces: Api<Namespace> = Api::all(cluster.admin.clone());
    until(
        "create-store to begin provisioning",
        Duration::from_secs(30),
        Duration::from_millis(20),
        async || {
            namespaces
                .get_opt(&format!("store-{id}"))
                .await
                .ok()?
                .map(|_| ())
        },
    )
    .await
    .unwrap();
    platform.kill_function("create-store");
    let at_kill = checks::helm_release(&cluster, &id)
        .ok()
        .flatten()
        .map(|r| r["info"]["status"].as_str().unwrap_or("?").to_owned());
    eprintln!("{test}: create-store killed; helm release then: {at_kill:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    platform.start_function("create-store").await.unwrap();

    let ready = platform
        .wait_for_status(&id, "ready", CONVERGED_WITHIN)
        .await;
    if let Err(err) = &ready {
        panic!("did not converge (helm release at the kill: {at_kill:?}): {err:#}");
    }
    let release = checks::helm_release(&cluster, &id)
        .unwrap()
        .expect("a release");
    assert_eq!(release["info"]["status"], "deployed");
    checks::credentials_and_binding(&cluster.admin, &id)
        .await
        .unwrap();
    delete_cleanly(&platform, &cluster, &id).await;
    drop(platform);
    db.remove().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_delivered_twice_ends_in_the_same_state() {
    let test = "twice";
    let Some((cluster, db)) = setup(test).await else {
        return;
    };
    let mut options = Options::new(StoreChart::selected());
    options.duplicate_deliveries = true;
    let platform = Platform::start(&cluster, &db, test, options).await.unwrap();
    let id = platform.create_store("Twice").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    platform
        .wait_for_status(&id, "ready", CONVERGED_WITHIN)
        .await
        .unwrap();
    let release = checks::helm_release(&cluster, &id)
        .unwrap()
        .expect("a release");
    assert_eq!(release["info"]["status"], "deployed");
    delete_cleanly(&platform, &cluster, &id).await;
    // Each step happened once, however often its event arrived.
    let log = platform.db_event_kinds(&id).await.unwrap();
    for kind in [
        "requested",
        "installed",
        "ready",
        "delete-requested",
        "deleted",
    ] {
        let n = log.iter().filter(|k| *k == kind).count();
        assert_eq!(
            n, 1,
            "{kind} appears {n} times in the activity log: {log:?}"
        );
    }
    assert!(!log.contains(&"failed".to_owned()), "activity log: {log:?}");
    drop(platform);
    db.remove().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_loses_events_in_flight_and_the_sweep_recovers() {
    let test = "broker_restart";
    let Some((cluster, db)) = setup(test).await else {
        return;
    };
    let mut options = Options::new(StoreChart::selected());
    options.holdable = Some("create-store");
    let mut platform = Platform::start(&cluster, &db, test, options).await.unwrap();
    // store.requested will be in flight (held before create-store) when
    // the broker dies: lost, as an InMemoryChannel dispatcher loses it.
    platform.hold_events(true);
    let id = platform.create_store("Lost event").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    platform.kill_broker();
    platform.hold_events(false);
    let namespaces: Api<Namespace> = Api::all(cluster.admin.clone());
    assert!(
        namespaces
            .get_opt(&format!("store-{id}"))
            .await
            .unwrap()
            .is_none(),
        "the held event must not have reached create-store"
    );
    platform.start_broker().await.unwrap();

    platform
        .wait_for_status(&id, "ready", CONVERGED_WITHIN)
        .await
        .unwrap();
    let log = kinds(&platform.events(&id).await.unwrap());
    assert!(
        in_order(&log, &["requested", "redriven", "installed", "ready"]),
        "the sweep re-drove the lost step: {log:?}"
    );
    delete_cleanly(&platform, &cluster, &id).await;
    drop(platform);
    db.remove().await.unwrap();
}
