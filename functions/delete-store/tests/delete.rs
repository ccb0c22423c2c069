//! DELETE /api/stores/{id} against a real PostgreSQL.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use delete_store::app;
use sqlx::PgPool;
use storefleet_shared::testing::{
    assert_problem, config, context, read_json, request, table_counts, user,
};
use tower::ServiceExt;

async fn store_of(pool: &PgPool, owner: uuid::Uuid, id: &str) {
    sqlx::query("INSERT INTO stores (id, owner_id, name, type, namespace, url) VALUES ($1, $2, 'shop', 'woocommerce', 'store-' || $1, 'http://' || $1 || '.localhost')")
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn delete_marks_deleting_and_repeats_harmlessly(pool: PgPool) {
    let (alice, token) = user(&pool, "alice", 5, false).await;
    store_of(&pool, alice.id, "abcd1234").await;
    let app = app(context(pool.clone(), config(&[])));
    for _ in 0..2 {
        let (status, _, body) = read_json(
            app.clone()
                .oneshot(request(
                    "DELETE",
                    "/api/stores/abcd1234",
                    Some(&token),
                    None,
                ))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["status"], "deleting");
    }
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM store_events WHERE store_id = 'abcd1234'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(kinds, ["delete-requested"], "the repeat logs nothing new");

    // once deleted, the store is gone for its owner
    sqlx::query("UPDATE stores SET status = 'deleted', deleted_at = now()")
        .execute(&pool)
        .await
        .unwrap();
    let (status, headers, body) = read_json(
        app.oneshot(request(
            "DELETE",
            "/api/stores/abcd1234",
            Some(&token),
            None,
        ))
        .await
        .unwrap(),
    )
    .await;
    assert_problem(status, &headers, &body, 404, "not-found");
}

#[sqlx::test(migrations = "../../migrations")]
async fn other_users_and_bad_ids_get_404_and_change_nothing(pool: PgPool) {
    let (alice, _) = user(&pool, "alice", 5, false).await;
    let (_, mallory) = user(&pool, "mallory", 5, false).await;
    store_of(&pool, alice.id, "abcd1234").await;
    let app = app(context(pool.clone(), config(&[])));
    let before = table_counts(&pool).await;
    for path in [
        "/api/stores/abcd1234",
        "/api/stores/..%2F..%2Fetc",
        "/api/stores/abcd1234'%20OR%20'1'='1",
        "/api/stores/%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9",
        "/api/stores/ABCD1234",
        "/api/stores/abcd12345",
    ] {
        let (status, headers, body) = read_json(
            app.clone()
                .oneshot(request("DELETE", path, Some(&mallory), None))
                .await
                .unwrap(),
        )
        .await;
        assert_problem(status, &headers, &body, 404, "not-found");
    }
    let (status, headers, body) = read_json(
        app.oneshot(request("DELETE", "/api/stores/abcd1234", None, None))
            .await
            .unwrap(),
    )
    .await;
    assert_problem(status, &headers, &body, 401, "unauthorized");
    assert_eq!(table_counts(&pool).await, before);
    let status: String = sqlx::query_scalar("SELECT status FROM stores")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "provisioning");
}

/// Repeated DELETEs while the first is in flight send no new event (10 in a
/// row made 71 deliveries before); one after the re-drive interval, or after
/// a failed send, sends it again (level-triggered).
#[sqlx::test(migrations = "../../migrations")]
async fn repeated_deletes_send_one_event_until_the_request_is_stale(pool: PgPool) {
    let (alice, token) = user(&pool, "alice", 5, false).await;
    store_of(&pool, alice.id, "abcd1234").await;
    let (sink, received) = storefleet_shared::testing::counting_sink().await;
    let mut ctx = context(pool.clone(), config(&[]));
    ctx.emitter = storefleet_shared::events::Emitter::new(&sink, "delete-store").unwrap();
    // the same function with a re-drive interval of 1 s, to age the request
    let mut quick = ctx.clone();
    quick.config = std::sync::Arc::new(config(&[("STOREFLEET_REDRIVE_AFTER_SECONDS", "1")]));
    let quick = app(quick);
    let app = app(ctx);
    let delete_with = |app: axum::Router| async {
        let (status, _, body) = read_json(
            app.oneshot(request(
                "DELETE",
                "/api/stores/abcd1234",
                Some(&token),
                None,
            ))
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["status"], "deleting");
    };
    let delete = || delete_with(app.clone());
    let sent = || received.lock().unwrap().len();

    // ten at once: one event
    futures::future::join_all((0..10).map(|_| delete())).await;
    assert_eq!(sent(), 1, "{:?}", received.lock().unwrap());
    delete().await;
    assert_eq!(sent(), 1);

    // the request is older than STOREFLEET_REDRIVE_AFTER_SECONDS: a repeat
    // re-sends, and that request is in flight again
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    delete_with(quick.clone()).await;
    assert_eq!(sent(), 2);
    futures::future::join_all((0..5).map(|_| delete())).await;
    assert_eq!(sent(), 2);

    // the last send failed: the next repeat sends again at once
    sqlx::query("INSERT INTO store_events (store_id, kind, message) VALUES ('abcd1234', 'emit-failed', 'x')")
        .execute(&pool)
        .await
        .unwrap();
    delete().await;
    delete().await;
    assert_eq!(sent(), 3);
    assert!(
        received
            .lock()
            .unwrap()
            .iter()
            .all(|t| t == "io.storefleet.store.delete-requested")
    );
}
