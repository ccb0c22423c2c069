//! Ping events do not multiply sweeps (issue 11 item 15): N ping events with
//! fresh ids — a forger's, or a PingSource's redeliveries — run one sweep per
//! `STOREFLEET_SWEEP_INTERVAL_SECONDS`, on a real PostgreSQL. A sweep counts
//! where it records its tick: a swept ping is in `processed_events`, an
//! ignored one is not.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::future::join_all;
use sqlx::PgPool;
use storefleet_shared::testing;
use tower::ServiceExt;

const PING_SOURCE: &str = "/apis/v1/namespaces/storefleet/pingsources/storefleet-sweep";

fn ping() -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/events")
        .header("ce-specversion", "1.0")
        .header("ce-id", uuid::Uuid::new_v4().to_string())
        .header("ce-source", PING_SOURCE)
        .header("ce-type", "dev.knative.sources.ping")
        .header("authorization", testing::delivery_authorization())
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap()
}

fn app(pool: &PgPool, interval: &str) -> axum::Router {
    readiness_checker::app(testing::context(
        pool.clone(),
        testing::config(&[("STOREFLEET_SWEEP_INTERVAL_SECONDS", interval)]),
    ))
}

/// Send `n` ping events at once; their answers.
async fn pings(app: &axum::Router, n: usize) -> Vec<StatusCode> {
    join_all((0..n).map(|_| app.clone().oneshot(ping())))
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect()
}

async fn sweeps(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM processed_events WHERE source = $1")
        .bind(PING_SOURCE)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn many_ping_events_run_one_sweep_per_interval(pool: PgPool) {
    let app = app(&pool, "3600");
    let answers = pings(&app, 20).await;
    // all acknowledged (the broker must not retry them), one swept
    assert!(
        answers.iter().all(|s| *s == StatusCode::ACCEPTED),
        "{answers:?}"
    );
    assert_eq!(sweeps(&pool).await, 1);
    // later ones within the interval sweep nothing either
    pings(&app, 5).await;
    assert_eq!(sweeps(&pool).await, 1);

    // once the interval has passed, the next ping sweeps again
    sqlx::query("UPDATE sweep_claim SET claimed_at = now() - interval '2 hours'")
        .execute(&pool)
        .await
        .unwrap();
    pings(&app, 5).await;
    assert_eq!(sweeps(&pool).await, 2);
}

/// The counting above can see more than one sweep: with no interval every
/// ping sweeps.
#[sqlx::test(migrations = "../../migrations")]
async fn with_no_interval_every_ping_sweeps(pool: PgPool) {
    let app = app(&pool, "0");
    for _ in 0..4 {
        pings(&app, 1).await;
    }
    assert_eq!(sweeps(&pool).await, 4);
}

/// A sweep that could not finish (the cluster does not answer: 503, the
/// broker retries the tick) gives its claim back, so the retry sweeps.
#[sqlx::test(migrations = "../../migrations")]
async fn a_failed_sweep_gives_its_claim_back(pool: PgPool) {
    // a cluster that refuses connections: the sweep of a provisioning store fails
    let refusing = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    let ctx = testing::context(
        pool.clone(),
        testing::config(&[("STOREFLEET_SWEEP_INTERVAL_SECONDS", "3600")]),
    );
    ctx.cluster
        .use_client(kube::Client::try_from(refusing).unwrap())
        .unwrap();
    let (owner, _) = testing::user(&pool, "sweep-claim", 3, false).await;
    let id = storefleet_shared::domain::StoreId::random();
    sqlx::query(
        "INSERT INTO stores (id, owner_id, name, type, namespace, url, status)
         VALUES ($1, $2, 'Shop', 'woocommerce', 'store-' || $1, 'http://' || $1 || '.localhost', 'provisioning')",
    )
    .bind(&id)
    .bind(owner.id)
    .execute(&pool)
    .await
    .unwrap();
    let app = readiness_checker::app(ctx);
    for attempt in 0..2 {
        let answers = pings(&app, 1).await;
        // the retry is not "ignored" (202): it sweeps, and fails the same way
        assert_eq!(
            answers,
            vec![StatusCode::SERVICE_UNAVAILABLE],
            "attempt {attempt}"
        );
    }
    let claims: i64 = sqlx::query_scalar("SELECT count(*) FROM sweep_claim")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(claims, 0, "the failed sweeps gave their claims back");
}
