//! DELETE /api/stores/{id} against a real PostgreSQL.

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
