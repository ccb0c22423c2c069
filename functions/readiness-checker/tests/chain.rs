//! The event chain end to end: the real local-broker binary routing by a
//! copy of `knative/`, the four real function binaries, a real PostgreSQL
//! and — under `make test-chain` — the test cluster's kube-apiserver and the
//! real helm installing the fixture chart (`shared/kube/fixtures/chart`).
//!
//! Tests that need the cluster say `skipped` and pass when
//! `STOREFLEET_TEST_KUBECONFIG` is unset (plain `cargo test`); the
//! dead-letter path needs no cluster and always runs.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

mod chain_support;
mod otlp_receiver;

use std::time::Duration;

use chain_support::{Chain, Kube, Options, cleanup_namespace, kube, namespace_exists, sample};
use k8s_openapi::api::core::v1::Secret;
use serde_json::json;
use sqlx::PgPool;

const READY_WITHIN: Duration = Duration::from_secs(90);
const DELETED_WITHIN: Duration = Duration::from_secs(120);

/// create → requested → installed → ready → delete → deleted, through the
/// gateway and the Broker; the activity log, the cluster, the credentials
/// route and the metrics agree at each step.
#[sqlx::test(migrations = "../../migrations")]
async fn a_store_is_created_becomes_ready_and_is_deleted(pool: PgPool) {
    let Some(kube) = kube("a_store_is_created_becomes_ready_and_is_deleted").await else {
        return;
    };
    let chain = Chain::start(pool, Some(&kube), Options::default()).await;
    let id = chain.create_store("Chain shop").await;
    chain.wait_for(&id, "ready", READY_WITHIN).await;

    let kinds = chain.kinds(&id).await;
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("requested"),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "installed").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("ready"), "{kinds:?}");
    assert!(namespace_exists(&kube.client, &id).await);
    let upgrades: Vec<String> = chain
        .helm_calls()
        .into_iter()
        .filter(|c| c.starts_with("upgrade"))
        .collect();
    assert_eq!(upgrades.len(), 1, "{upgrades:?}");
    assert!(
        upgrades[0].contains(&format!("upgrade --install store-{id} "))
            && upgrades[0].contains(&format!("--namespace store-{id}"))
            && upgrades[0].contains(&format!("--set storeId={id}"))
            && upgrades[0].contains("--set existingSecret=store-credentials")
            && !upgrades[0].contains("--wait"),
        "{upgrades:?}"
    );

    // the API shows it ready, with the provisioning time
    let (status, store) = chain.api("GET", &format!("/api/stores/{id}"), None).await;
    assert_eq!(status, 200, "{store}");
    assert_eq!(store["status"], "ready");
    assert!(
        store["provisioning_seconds"].as_f64().unwrap() > 0.0,
        "{store}"
    );

    // the credentials route reads the store's Secret
    let (status, credentials) = chain
        .api("GET", &format!("/api/stores/{id}/credentials"), None)
        .await;
    assert_eq!(status, 200, "{credentials}");
    assert!(
        credentials["admin_user"]
            .as_str()
            .is_some_and(|user| user.starts_with("admin-")),
        "{credentials}"
    );
    assert_eq!(credentials["admin_password"].as_str().unwrap().len(), 32);

    // metrics: the provisioning histogram, stores by status, events handled, helm durations
    let checker = chain.metrics("readiness-checker").await;
    assert_eq!(
        sample(
            &checker,
            "storefleet_provisioning_duration_seconds_count",
            &[("outcome", "ready")]
        ),
        1.0,
        "{checker}"
    );
    assert_eq!(
        sample(&checker, "storefleet_stores", &[("status", "ready")]),
        1.0,
        "{checker}"
    );
    let creator = chain.metrics("create-store").await;
    assert_eq!(
        sample(
            &creator,
            "storefleet_events_handled_total",
            &[
                ("type", "io.storefleet.store.requested"),
                ("outcome", "done")
            ]
        ),
        1.0,
        "{creator}"
    );
    assert!(
        sample(
            &creator,
            "storefleet_helm_operation_duration_seconds_count",
            &[("operation", "upgrade_install"), ("outcome", "ok")]
        ) >= 1.0,
        "{creator}"
    );

    // delete
    let (status, body) = chain
        .api("DELETE", &format!("/api/stores/{id}"), None)
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "deleting");
    chain.wait_for(&id, "deleted", DELETED_WITHIN).await;
    assert!(
        !namespace_exists(&kube.client, &id).await,
        "the namespace is gone"
    );
    let kinds = chain.kinds(&id).await;
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("deleted"),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"uninstalled".to_owned()), "{kinds:?}");
    assert!(
        chain.helm_calls().iter().any(|c| c.starts_with(&format!(
            "uninstall store-{id} --namespace store-{id} --wait --cascade foreground"
        ))),
        "{:?}",
        chain.helm_calls()
    );
    let (status, _) = chain.api("GET", &format!("/api/stores/{id}"), None).await;
    assert_eq!(status, 404, "a deleted store is left out");
    let deleter = chain.metrics("delete-store").await;
    assert_eq!(
        sample(
            &deleter,
            "storefleet_events_handled_total",
            &[
                ("type", "io.storefleet.store.delete-requested"),
                ("outcome", "done")
            ]
        ),
        1.0,
        "{deleter}"
    );
}

/// The same event delivered twice (same `source` and `id`) is handled once:
/// one helm install, one `installed` in the activity log, the second answered
/// as a duplicate.
#[sqlx::test(migrations = "../../migrations")]
async fn a_duplicate_event_is_handled_once(pool: PgPool) {
    let Some(kube) = kube("a_duplicate_event_is_handled_once").await else {
        return;
    };
    let chain = Chain::start(pool, Some(&kube), Options::default()).await;
    // a store whose request event the test sends itself (no HTTP route, no emit)
    let id = insert_store(&chain, "provisioning", "now()").await;
    for _ in 0..2 {
        chain
            .send(
                "dup-1",
                "io.storefleet.store.requested",
                "/test/duplicates",
                &id,
                json!({"store_id": id}),
            )
            .await;
        // the second after the first was handled
        chain.wait_for(&id, "ready", READY_WITHIN).await;
    }
    let handled = |outcome: &'static str| {
        let chain = &chain;
        async move {
            sample(
                &chain.metrics("create-store").await,
                "storefleet_events_handled_total",
                &[
                    ("type", "io.storefleet.store.requested"),
                    ("outcome", outcome),
                ],
            )
        }
    };
    let started = std::time::Instant::now();
    while handled("duplicate").await < 1.0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{}",
            chain.log_of("create-store")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(handled("done").await, 1.0);
    assert_eq!(handled("duplicate").await, 1.0);
    let kinds = chain.kinds(&id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "installed").count(),
        1,
        "{kinds:?}"
    );
    let upgrades = chain
        .helm_calls()
        .iter()
        .filter(|c| c.starts_with("upgrade"))
        .count();
    assert_eq!(upgrades, 1, "{:?}", chain.helm_calls());
    cleanup_namespace(&kube.client, &id).await;
}

/// Events arriving late or out of order never move a store backwards: a
/// `requested` and an `installed` for a ready store, then — after the store
/// is deleted — a `requested`, an `installed` and an ApiServerSource update.
#[sqlx::test(migrations = "../../migrations")]
async fn late_events_never_move_a_store_backwards(pool: PgPool) {
    let Some(kube) = kube("late_events_never_move_a_store_backwards").await else {
        return;
    };
    let chain = Chain::start(pool, Some(&kube), Options::default()).await;
    let id = chain.create_store("Late shop").await;
    chain.wait_for(&id, "ready", READY_WITHIN).await;

    chain
        .send(
            "late-1",
            "io.storefleet.store.requested",
            "/test/late",
            &id,
            json!({"store_id": id}),
        )
        .await;
    chain
        .send(
            "late-2",
            "io.storefleet.store.installed",
            "/test/late",
            &id,
            json!({"store_id": id}),
        )
        .await;
    wait_handled(
        &chain,
        "create-store",
        "io.storefleet.store.requested",
        "ignored",
        1.0,
    )
    .await;
    // the route's installed event and the late one
    wait_handled(
        &chain,
        "readiness-checker",
        "io.storefleet.store.installed",
        "done",
        2.0,
    )
    .await;
    assert_eq!(chain.status(&id).await, "ready");
    assert_eq!(
        chain
            .helm_calls()
            .iter()
            .filter(|c| c.starts_with("upgrade"))
            .count(),
        1
    );

    let (status, _) = chain
        .api("DELETE", &format!("/api/stores/{id}"), None)
        .await;
    assert_eq!(status, 202);
    chain.wait_for(&id, "deleted", DELETED_WITHIN).await;

    chain
        .send(
            "late-3",
            "io.storefleet.store.requested",
            "/test/late",
            &id,
            json!({"store_id": id}),
        )
        .await;
    chain
        .send(
            "late-4",
            "io.storefleet.store.installed",
            "/test/late",
            &id,
            json!({"store_id": id}),
        )
        .await;
    chain
        .send(
            "late-5",
            "dev.knative.apiserver.resource.update",
            "/test/late",
            &format!("/apis/apps/v1/namespaces/store-{id}/deployments/web"),
            json!({"kind": "Deployment", "metadata": {"name": "web", "namespace": format!("store-{id}"),
                   "labels": {"storefleet.io/store-id": id}}}),
        )
        .await;
    wait_handled(
        &chain,
        "create-store",
        "io.storefleet.store.requested",
        "ignored",
        2.0,
    )
    .await;
    wait_handled(
        &chain,
        "readiness-checker",
        "io.storefleet.store.installed",
        "done",
        3.0,
    )
    .await;
    // the late update delivered (the broker logs each delivery with the event id)
    let started = std::time::Instant::now();
    while !chain
        .log_of("local-broker")
        .lines()
        .any(|line| line.contains("late-5") && line.contains("delivered"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{}",
            chain.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(chain.status(&id).await, "deleted");
    assert!(
        !namespace_exists(&kube.client, &id).await,
        "nothing re-created"
    );
    assert_eq!(
        chain
            .helm_calls()
            .iter()
            .filter(|c| c.starts_with("upgrade"))
            .count(),
        1,
        "no second install: {:?}",
        chain.helm_calls()
    );
}

/// A pod the cluster keeps in ImagePullBackOff: the ApiServerSource's pod
/// events reach the readiness-checker, whose verdict fails the store with a
/// reason a person understands; deleting the failed store still works.
#[sqlx::test(migrations = "../../migrations")]
async fn a_pod_that_cannot_pull_its_image_fails_the_store(pool: PgPool) {
    let Some(kube) = kube("a_pod_that_cannot_pull_its_image_fails_the_store").await else {
        return;
    };
    let (_values, store_values) = image_pull_backoff_values();
    let chain = Chain::start(
        pool,
        Some(&kube),
        Options {
            env: vec![store_values],
            ..Options::default()
        },
    )
    .await;
    let id = chain.create_store("Broken shop").await;
    chain.wait_for(&id, "failed", READY_WITHIN).await;
    let reason = chain.failure_reason(&id).await.unwrap();
    // the tenant reads a fixed sentence; the kubelet's words (the image, the
    // registry) are in the readiness-checker's log
    assert!(reason.contains("its image cannot be pulled"), "{reason}");
    for internal in ["ImagePullBackOff", "registry.invalid", "pod ", "web-"] {
        assert!(!reason.contains(internal), "{reason}");
    }
    assert!(
        chain
            .logs()
            .contains("cannot pull its image registry.invalid/web:1"),
        "the cause is logged"
    );
    let (_, store) = chain.api("GET", &format!("/api/stores/{id}"), None).await;
    assert_eq!(store["failure_reason"], reason.as_str());
    let checker = chain.metrics("readiness-checker").await;
    assert_eq!(
        sample(
            &checker,
            "storefleet_provisioning_duration_seconds_count",
            &[("outcome", "failed")]
        ),
        1.0,
        "{checker}"
    );
    delete_and_check_gone(&chain, &kube, &id).await;
}

/// The pod fails while helm has not returned yet (helm applied the release,
/// kwok put the pod in ImagePullBackOff and its event reached the
/// readiness-checker first). The verdict waits for create-store's step, so the
/// activity log reads requested → installed → failed, never `installed` after
/// `failed` (which once failed the lifecycle suite in a CI-like run).
#[sqlx::test(migrations = "../../migrations")]
async fn a_pod_failing_before_helm_returns_fails_the_store_after_its_install(pool: PgPool) {
    let Some(kube) =
        kube("a_pod_failing_before_helm_returns_fails_the_store_after_its_install").await
    else {
        return;
    };
    let (_values, store_values) = image_pull_backoff_values();
    let chain = Chain::start(
        pool,
        Some(&kube),
        Options {
            env: vec![store_values],
            helm_after_upgrade_delay: Some(10.0),
            ..Options::default()
        },
    )
    .await;
    let id = chain.create_store("Broken early shop").await;
    chain.wait_for(&id, "failed", READY_WITHIN).await;
    let kinds = chain.kinds(&id).await;
    let position = |kind: &str| kinds.iter().position(|k| k == kind);
    let (Some(installed), Some(failed)) = (position("installed"), position("failed")) else {
        panic!(
            "activity log lacks installed or failed: {kinds:?}\n{}",
            chain.logs()
        );
    };
    assert!(installed < failed, "activity log: {kinds:?}");
    let events = sqlx::query_scalar::<_, String>(
        "SELECT message FROM store_events WHERE store_id = $1 AND kind = 'waiting'",
    )
    .bind(&id)
    .fetch_all(&chain.pool)
    .await
    .unwrap();
    assert!(
        events
            .iter()
            .any(|m| m == storefleet_shared::reasons::WAITING_FOR_INSTALL),
        "the pod's failure reached the checker only after helm returned, so the test proved nothing: {events:?}"
    );
    let reason = chain.failure_reason(&id).await.unwrap();
    assert!(reason.contains("its image cannot be pulled"), "{reason}");
    delete_and_check_gone(&chain, &kube, &id).await;
}

/// A store that moved on while helm ran (here failed by hand, as the timeout
/// or the owner's delete would) is not recorded as installed, and no
/// `installed` event is announced for it.
#[sqlx::test(migrations = "../../migrations")]
async fn a_store_that_moved_on_while_helm_ran_is_not_recorded_as_installed(pool: PgPool) {
    let Some(kube) =
        kube("a_store_that_moved_on_while_helm_ran_is_not_recorded_as_installed").await
    else {
        return;
    };
    let chain = Chain::start(
        pool,
        Some(&kube),
        Options {
            helm_upgrade_delay: Some(4.0),
            ..Options::default()
        },
    )
    .await;
    let id = chain.create_store("Overtaken shop").await;
    // helm is sleeping before its upgrade once create-store called it
    let started = std::time::Instant::now();
    while !chain.helm_calls().iter().any(|c| c.starts_with("upgrade")) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "helm upgrade never ran\n{}",
            chain.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let moved = sqlx::query(
        "UPDATE stores SET status = 'failed', failure_reason = 'failed by the test' WHERE id = $1 AND status = 'provisioning'",
    )
    .bind(&id)
    .execute(&chain.pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(
        moved, 1,
        "the store was no longer provisioning while helm ran"
    );
    wait_handled(
        &chain,
        "create-store",
        "io.storefleet.store.requested",
        "done",
        1.0,
    )
    .await;
    let kinds = chain.kinds(&id).await;
    assert!(
        !kinds.contains(&"installed".to_owned()),
        "activity log: {kinds:?}"
    );
    assert_eq!(
        chain.failure_reason(&id).await.as_deref(),
        Some("failed by the test")
    );
    let checker = chain.metrics("readiness-checker").await;
    assert_eq!(
        sample(
            &checker,
            "storefleet_events_handled_total",
            &[
                ("type", "io.storefleet.store.installed"),
                ("outcome", "done")
            ]
        ),
        0.0,
        "{checker}"
    );
    // the failed store still deletes, leaving nothing behind
    delete_and_check_gone(&chain, &kube, &id).await;
}

/// `ready` needs the storefront too: with `STOREFLEET_STOREFRONT_CHECK_URL`
/// set, a store whose workloads are all available stays `provisioning`
/// (logging why) while the ingress answers 503 for its host, and becomes
/// `ready` once the storefront answers (found by the sweep, as no workload
/// changes any more).
#[sqlx::test(migrations = "../../migrations")]
async fn ready_waits_for_the_storefront_to_answer(pool: PgPool) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    let Some(kube) = kube("ready_waits_for_the_storefront_to_answer").await else {
        return;
    };
    // the ingress controller's Service, as the readiness-checker sees it
    let open = Arc::new(AtomicBool::new(false));
    let hosts = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    type Ingress = (Arc<AtomicBool>, Arc<std::sync::Mutex<Vec<String>>>);
    async fn ingress(
        State((open, hosts)): State<Ingress>,
        request: Request,
    ) -> axum::response::Response {
        let host = request
            .headers()
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        hosts.lock().unwrap().push(host);
        if !open.load(Ordering::SeqCst) {
            return (StatusCode::SERVICE_UNAVAILABLE, "no endpoints").into_response();
        }
        if request.uri().path() == "/wp-json/wc/store/v1/products" {
            ([("content-type", "application/json")], "[]").into_response()
        } else {
            r#"<html><body><ul class="products"><li class="product type-product">a product</li></ul></body></html>"#.into_response()
        }
    }
    let router = axum::Router::new()
        .fallback(ingress)
        .with_state((open.clone(), hosts.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let chain = Chain::start(
        pool,
        Some(&kube),
        Options {
            manifest_edits: vec![(r#"schedule: "* * * * *""#, r#"schedule: "@every 1s""#)],
            env: vec![(
                "STOREFLEET_STOREFRONT_CHECK_URL",
                format!("http://{address}"),
            )],
            ..Options::default()
        },
    )
    .await;
    let id = chain.create_store("Storefront shop").await;
    // workloads available, storefront closed: still provisioning, and it says why
    let started = std::time::Instant::now();
    loop {
        let waiting: Vec<String> = sqlx::query_scalar(
            "SELECT message FROM store_events WHERE store_id = $1 AND kind = 'waiting'",
        )
        .bind(&id)
        .fetch_all(&chain.pool)
        .await
        .unwrap();
        if waiting
            .iter()
            .any(|m| m == storefleet_shared::reasons::WAITING_FOR_STOREFRONT)
        {
            // the check's own words (the ingress address, the Host, the
            // status) are for the log, never the tenant's activity log
            for message in &waiting {
                for internal in [
                    address.to_string(),
                    "503".into(),
                    "Host".into(),
                    "GET".into(),
                ] {
                    assert!(!message.contains(&internal), "{message}");
                }
            }
            assert!(chain.logs().contains("answered 503"), "the cause is logged");
            break;
        }
        assert!(
            started.elapsed() < READY_WITHIN,
            "no storefront wait logged: {waiting:?}\n{}",
            chain.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(chain.status(&id).await, "provisioning");
    assert!(
        hosts
            .lock()
            .unwrap()
            .iter()
            .all(|h| *h == format!("{id}.localhost")),
        "the check sends the store's Host header"
    );
    open.store(true, Ordering::SeqCst);
    chain.wait_for(&id, "ready", READY_WITHIN).await;
    let message: String = sqlx::query_scalar(
        "SELECT message FROM store_events WHERE store_id = $1 AND kind = 'ready'",
    )
    .bind(&id)
    .fetch_one(&chain.pool)
    .await
    .unwrap();
    assert!(message.contains("the storefront answers"), "{message}");
    cleanup_namespace(&kube.client, &id).await;
}

/// Back-pressure: with one helm operation allowed at a time and each helm
/// slowed down, concurrent creates are answered 429, retried by the broker
/// with backoff, and all become ready.
#[sqlx::test(migrations = "../../migrations")]
async fn helm_back_pressure_answers_429_and_the_broker_retries(pool: PgPool) {
    let Some(kube) = kube("helm_back_pressure_answers_429_and_the_broker_retries").await else {
        return;
    };
    let chain = Chain::start(
        pool,
        Some(&kube),
        Options {
            env: vec![("STOREFLEET_MAX_HELM_IN_FLIGHT", "1".into())],
            helm_upgrade_delay: Some(1.5),
            ..Options::default()
        },
    )
    .await;
    let ids = futures::future::join_all((0..3).map(|n| {
        let chain = &chain;
        async move { chain.create_store(&format!("Busy shop {n}")).await }
    }))
    .await;
    for id in &ids {
        chain.wait_for(id, "ready", READY_WITHIN).await;
    }
    let creator = chain.metrics("create-store").await;
    assert!(
        sample(
            &creator,
            "storefleet_events_failed_total",
            &[("type", "io.storefleet.store.requested"), ("answer", "429")]
        ) >= 1.0,
        "no 429 was answered: {creator}"
    );
    assert_eq!(
        sample(
            &creator,
            "storefleet_events_handled_total",
            &[
                ("type", "io.storefleet.store.requested"),
                ("outcome", "done")
            ]
        ),
        3.0,
        "{creator}"
    );
    assert!(
        chain.log_of("local-broker").contains("429"),
        "the broker saw the 429s"
    );
    for id in &ids {
        cleanup_namespace(&kube.client, id).await;
    }
}

/// Secret values never reach a log: provision a store, read every value of
/// its Secret from the cluster, and search every process' log for them.
#[sqlx::test(migrations = "../../migrations")]
async fn secret_values_never_appear_in_the_logs(pool: PgPool) {
    let Some(kube) = kube("secret_values_never_appear_in_the_logs").await else {
        return;
    };
    let chain = Chain::start(pool, Some(&kube), Options::default()).await;
    let id = chain.create_store("Secret shop").await;
    chain.wait_for(&id, "ready", READY_WITHIN).await;
    let (status, credentials) = chain
        .api("GET", &format!("/api/stores/{id}/credentials"), None)
        .await;
    assert_eq!(status, 200, "{credentials}");
    let secrets: kube::Api<Secret> =
        kube::Api::namespaced(kube.client.clone(), &format!("store-{id}"));
    let mut data = secrets
        .get("store-credentials")
        .await
        .unwrap()
        .data
        .unwrap();
    data.extend(secrets.get("store-admin").await.unwrap().data.unwrap());
    let values: Vec<String> = data
        .into_iter()
        .filter(|(key, _)| key.contains("password") || key.contains("key") || key.contains("salt"))
        .map(|(_, value)| String::from_utf8(value.0).unwrap())
        .collect();
    assert_eq!(values.len(), 11, "3 passwords and 8 salts");
    assert!(values.contains(&credentials["admin_password"].as_str().unwrap().to_owned()));
    let logs = chain.logs();
    assert!(logs.len() > 10_000, "the processes logged at debug level");
    for value in &values {
        assert!(value.len() >= 32);
        assert!(
            !logs.contains(value.as_str()),
            "a Secret value is in the logs"
        );
    }
    let (status, _) = chain
        .api("DELETE", &format!("/api/stores/{id}"), None)
        .await;
    assert_eq!(status, 202);
    chain.wait_for(&id, "deleted", DELETED_WITHIN).await;
    let logs = chain.logs();
    for value in &values {
        assert!(
            !logs.contains(value.as_str()),
            "a Secret value is in the logs"
        );
    }
}

/// Dead letters: create-store cannot reach any cluster, answers 503, the
/// broker retries (delivery shortened in the test's copy of the manifests)
/// and then sends the event to readiness-checker's `/dead-letters`, where the
/// store becomes `failed` with the reason. Needs no cluster.
#[sqlx::test(migrations = "../../migrations")]
async fn exhausted_retries_fail_the_store_with_the_reason(pool: PgPool) {
    let chain = Chain::start(
        pool,
        None,
        Options {
            manifest_edits: vec![
                ("retry: 6", "retry: 2"),
                ("backoffDelay: PT0.5S", "backoffDelay: PT0.1S"),
            ],
            ..Options::default()
        },
    )
    .await;
    let id = chain.create_store("Unreachable shop").await;
    chain.wait_for(&id, "failed", Duration::from_secs(30)).await;
    let reason = chain.failure_reason(&id).await.unwrap();
    // a fixed sentence: the 503's detail ("the Kubernetes cluster is not
    // reachable: …" with kube-rs' error) stays in the log
    assert_eq!(
        reason,
        storefleet_shared::reasons::retries_exhausted(
            storefleet_shared::domain::Engine::WooCommerce,
            false
        )
    );
    let kinds = chain.kinds(&id).await;
    assert_eq!(kinds, vec!["requested", "failed"], "{kinds:?}");
    let creator = chain.metrics("create-store").await;
    assert_eq!(
        sample(
            &creator,
            "storefleet_events_failed_total",
            &[("type", "io.storefleet.store.requested"), ("answer", "503")]
        ),
        3.0,
        "the first attempt and two retries: {creator}"
    );
    let checker = chain.metrics("readiness-checker").await;
    assert_eq!(
        sample(
            &checker,
            "storefleet_events_handled_total",
            &[("type", "dead-letter"), ("outcome", "done")]
        ),
        1.0,
        "{checker}"
    );
    // the owner can still delete the failed store; with no cluster the
    // teardown fails the same way, and the store stays visible
    assert_eq!(chain.status(&id).await, "failed");
}

/// The sweep (PingSource, every second in the test's manifests): a store past
/// its provisioning timeout fails, a ready store whose namespace vanished
/// fails, and stores whose events were lost are re-driven — one provisioning
/// (becomes ready) and one deleting (becomes deleted).
#[sqlx::test(migrations = "../../migrations")]
async fn the_sweep_times_out_detects_vanished_namespaces_and_redrives(pool: PgPool) {
    let Some(kube) = kube("the_sweep_times_out_detects_vanished_namespaces_and_redrives").await
    else {
        return;
    };
    let chain = Chain::start(
        pool,
        Some(&kube),
        Options {
            manifest_edits: vec![(r#"schedule: "* * * * *""#, r#"schedule: "@every 1s""#)],
            env: vec![
                ("STOREFLEET_PROVISIONING_TIMEOUT_SECONDS", "600".into()),
                ("STOREFLEET_REDRIVE_AFTER_SECONDS", "2".into()),
            ],
            ..Options::default()
        },
    )
    .await;
    // provisioning for an hour, nothing in the cluster: timed out
    let stale = insert_store(&chain, "provisioning", "now() - interval '1 hour'").await;
    // ready, but its namespace does not exist
    let vanished = insert_store(&chain, "ready", "now() - interval '5 minutes'").await;
    // provisioning for a minute, its request event lost: re-driven
    let lost = insert_store(&chain, "provisioning", "now() - interval '1 minute'").await;

    chain
        .wait_for(&stale, "failed", Duration::from_secs(30))
        .await;
    let reason = chain.failure_reason(&stale).await.unwrap();
    assert!(reason.starts_with("not ready within 600 s"), "{reason}");
    chain
        .wait_for(&vanished, "failed", Duration::from_secs(30))
        .await;
    let reason = chain.failure_reason(&vanished).await.unwrap();
    assert_eq!(reason, storefleet_shared::reasons::NAMESPACE_VANISHED);
    chain.wait_for(&lost, "ready", READY_WITHIN).await;
    assert!(chain.kinds(&lost).await.contains(&"redriven".to_owned()));

    // its delete-requested lost: deleting with the namespace still there
    sqlx::query("UPDATE stores SET status = 'deleting', updated_at = now() - interval '1 minute' WHERE id = $1")
        .bind(&lost)
        .execute(&chain.pool)
        .await
        .unwrap();
    chain.wait_for(&lost, "deleted", DELETED_WITHIN).await;
    assert!(!namespace_exists(&kube.client, &lost).await);
    let kinds = chain.kinds(&lost).await;
    assert!(
        kinds.iter().filter(|k| *k == "redriven").count() >= 2,
        "{kinds:?}"
    );
}

/// One store's provisioning is one trace: the functions export OTLP to a
/// receiver in the test, and the spans of the `POST /api/stores` request,
/// create-store's step, the helm install and readiness-checker's `ready`
/// all carry the trace id of the caller's `traceparent`; every event emitted
/// about the store carries it too (the `emit` spans), and so do create-store's
/// log lines of the helm run.
#[sqlx::test(migrations = "../../migrations")]
async fn one_trace_from_post_to_ready(pool: PgPool) {
    let Some(kube) = kube("one_trace_from_post_to_ready").await else {
        return;
    };
    let (otlp, received) = otlp_receiver::start().await;
    let chain = Chain::start(
        pool,
        Some(&kube),
        Options {
            env: vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp),
                ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
            ],
            ..Options::default()
        },
    )
    .await;
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let answer = chain
        .http
        .post(format!("{}/api/stores", chain.broker))
        .bearer_auth(&chain.token)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({"type": "woocommerce", "name": "Traced shop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 202);
    let id = answer.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    chain.wait_for(&id, "ready", READY_WITHIN).await;

    let in_trace =
        |service: &str, name: &str, check: &dyn Fn(&otlp_receiver::ReceivedSpan) -> bool| {
            received.spans().iter().any(|s| {
                s.service == service && s.name == name && s.trace_id == trace_id && check(s)
            })
        };
    let expected: Vec<(&str, &str, otlp_receiver::SpanCheck)> = vec![
        ("create-store", "POST /api/stores", Box::new(|_| true)),
        (
            "create-store",
            "create-store.create",
            Box::new(|s| s.attribute("store_id") == Some(id.as_str())),
        ),
        (
            "create-store",
            "create-store.provision",
            Box::new(|s| s.attribute("store_id") == Some(id.as_str())),
        ),
        (
            "create-store",
            "helm",
            Box::new(|s| s.attribute("operation") == Some("upgrade_install")),
        ),
        (
            "readiness-checker",
            "emit",
            Box::new(|s| {
                s.attribute("event_type") == Some("io.storefleet.store.ready")
                    && s.attribute("store_id") == Some(id.as_str())
            }),
        ),
    ];
    let started = std::time::Instant::now();
    loop {
        let missing: Vec<String> = expected
            .iter()
            .filter(|(service, name, check)| !in_trace(service, name, check.as_ref()))
            .map(|(service, name, _)| format!("{service} {name}"))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not exported in trace {trace_id}: {missing:?}\nreceived: {:#?}",
            received.spans()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // every event emitted about the store so far carried the store's trace
    let emitted: Vec<_> = received
        .spans()
        .into_iter()
        .filter(|s| s.name == "emit" && s.attribute("store_id") == Some(id.as_str()))
        .collect();
    assert!(
        emitted.len() >= 3,
        "requested, installed, ready: {emitted:#?}"
    );
    assert!(
        emitted.iter().all(|s| s.trace_id == trace_id),
        "an event left the trace: {emitted:#?}"
    );
    // and helm's log lines name it
    let helm_line = chain
        .log_of("create-store")
        .lines()
        .find(|line| line.contains("\"helm finished\"") && line.contains("upgrade_install"))
        .map(str::to_owned)
        .expect("helm's log line");
    assert!(
        helm_line.contains(&format!("\"trace_id\":\"{trace_id}\"")),
        "{helm_line}"
    );
    delete_and_check_gone(&chain, &kube, &id).await;
}

/// Store values whose web pod the test cluster keeps in ImagePullBackOff: the
/// file (kept alive by the caller) and the `STOREFLEET_STORE_VALUES` entry.
fn image_pull_backoff_values() -> (tempfile::NamedTempFile, (&'static str, String)) {
    let values = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(values.path(), "failWith: ImagePullBackOff\n").unwrap();
    let chart_values = chain_support::repo_root().join("shared/kube/fixtures/chart/values.yaml");
    let entry = format!("{},{}", chart_values.display(), values.path().display());
    (values, ("STOREFLEET_STORE_VALUES", entry))
}

/// The owner deletes the store: `202`, then `deleted`, its namespace gone.
async fn delete_and_check_gone(chain: &Chain, kube: &Kube, id: &str) {
    let (status, _) = chain
        .api("DELETE", &format!("/api/stores/{id}"), None)
        .await;
    assert_eq!(status, 202);
    chain.wait_for(id, "deleted", DELETED_WITHIN).await;
    assert!(!namespace_exists(&kube.client, id).await);
}

/// Wait until `function` has handled `count` events of `ty` with `outcome`.
async fn wait_handled(chain: &Chain, function: &str, ty: &str, outcome: &str, count: f64) {
    let started = std::time::Instant::now();
    while sample(
        &chain.metrics(function).await,
        "storefleet_events_handled_total",
        &[("type", ty), ("outcome", outcome)],
    ) < count
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{function} did not handle {ty} ({outcome})\n{}",
            chain.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A store row written directly (its events are the test's to send).
async fn insert_store(chain: &Chain, status: &str, created_at: &str) -> String {
    let id = storefleet_shared::domain::StoreId::random();
    let owner: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE name = 'chain'")
        .fetch_one(&chain.pool)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO stores (id, owner_id, name, type, namespace, url, status, created_at, updated_at, ready_at)
         VALUES ($1, $2, 'Inserted shop', 'woocommerce', 'store-' || $1, 'http://' || $1 || '.localhost', $3,
                 {created_at}, {created_at}, CASE WHEN $3 = 'ready' THEN now() END)"
    )))
    .bind(&id)
    .bind(owner)
    .bind(status)
    .execute(&chain.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO store_events (store_id, kind, message) VALUES ($1, 'requested', 'inserted by the test')")
        .bind(&id)
        .execute(&chain.pool)
        .await
        .unwrap();
    id.to_string()
}
