//! PostgreSQL down is a dependency outage, not a bug: every route that needs
//! the database answers `503` + `Retry-After` (never `500`), with a detail
//! that names no SQL. Against a real PostgreSQL whose database is dropped
//! under the running pool, and a pool pointed at a port nobody listens on.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use storefleet_shared::testing::{assert_problem, config, context, read_json, request, user};
use tower::ServiceExt;

/// The routes of the three API functions that query the database first thing.
fn routers(
    pool: &PgPool,
) -> Vec<(
    &'static str,
    &'static str,
    Option<&'static str>,
    axum::Router,
)> {
    let ctx = || context(pool.clone(), config(&[]));
    let list = list_stores::app(list_stores::State {
        ctx: ctx(),
        credentials: std::sync::Arc::new(list_stores::KubeCredentials::default()),
    });
    vec![
        ("GET", "/api/me", None, list.clone()),
        ("GET", "/api/stores", None, list.clone()),
        ("GET", "/api/stores/abcd1234/events", None, list.clone()),
        ("POST", "/api/users", Some(r#"{"name":"bob"}"#), list),
        (
            "POST",
            "/api/stores",
            Some(r#"{"type":"woocommerce","name":"Shop"}"#),
            create_store::app(ctx()),
        ),
        (
            "DELETE",
            "/api/stores/abcd1234",
            None,
            delete_store::app(ctx()),
        ),
    ]
}

async fn assert_all_unavailable(pool: &PgPool, token: &str) {
    for (method, path, body, app) in routers(pool) {
        let (status, headers, problem) = read_json(
            app.oneshot(request(method, path, Some(token), body))
                .await
                .unwrap(),
        )
        .await;
        assert_problem(status, &headers, &problem, 503, "unavailable");
        assert_eq!(
            headers.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("5"),
            "{method} {path}"
        );
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("database"), "{method} {path}: {detail}");
        for internal in ["sqlx", "SQLSTATE", "127.0.0.1", "storefleet_outage", "pool"] {
            assert!(!detail.contains(internal), "{method} {path}: {detail}");
        }
    }
}

/// A pool that gives up quickly (the functions wait 5 s).
fn quick_pool(options: sqlx::postgres::PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy_with(options)
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_database_dropped_under_the_pool_is_503(admin: PgPool) {
    let name = format!("storefleet_outage_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let pool = quick_pool(admin.connect_options().as_ref().clone().database(&name));
    storefleet_shared::db::migrate(&pool).await.unwrap();
    let (_, token) = user(&pool, "admin", 5, true).await;
    // the same request works while the database is there
    let (status, _, body) = read_json(
        routers(&pool)[0]
            .3
            .clone()
            .oneshot(request("GET", "/api/me", Some(&token), None))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // the pool's open connections are terminated, new ones find no database
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    assert_all_unavailable(&pool, &token).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_database_nobody_answers_for_is_503(admin: PgPool) {
    // a port that was just free: connections are refused
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = admin
        .connect_options()
        .as_ref()
        .clone()
        .host("127.0.0.1")
        .port(port);
    assert_all_unavailable(&quick_pool(options), "sft_any-token").await;
}
