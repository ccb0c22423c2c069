//! `POST /dead-letters` on a real PostgreSQL: a step event whose retries ran
//! out fails the store with the reason, except when the last answer was 429
//! (back-pressure), which leaves the store to the sweep.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use sqlx::PgPool;
use storefleet_shared::testing;
use tower::ServiceExt;

/// A provisioning store of a fresh user, written directly.
async fn provisioning_store(pool: &PgPool) -> String {
    let (caller, _) = testing::user(pool, "dead-letters", 3, false).await;
    let id = storefleet_shared::domain::StoreId::random();
    sqlx::query(
        "INSERT INTO stores (id, owner_id, name, type, namespace, url, status)
         VALUES ($1, $2, 'Busy shop', 'woocommerce', 'store-' || $1, 'http://' || $1 || '.localhost', 'provisioning')",
    )
    .bind(&id)
    .bind(caller.id)
    .execute(pool)
    .await
    .unwrap();
    id.to_string()
}

/// `store.requested` for `id` as the dead-letter sink receives it.
fn dead_letter(id: &str, code: u16, detail: &str) -> Request<Body> {
    let body = serde_json::json!({ "title": "x", "detail": detail }).to_string();
    Request::builder()
        .method("POST")
        .uri("/dead-letters")
        .header("ce-specversion", "1.0")
        .header("ce-id", uuid::Uuid::new_v4().to_string())
        .header("ce-source", "/storefleet/create-store")
        .header("ce-type", "io.storefleet.store.requested")
        .header("ce-subject", id)
        .header("authorization", testing::delivery_authorization())
        .header("ce-knativeerrordest", "http://create-store/events")
        .header("ce-knativeerrorcode", code.to_string())
        .header(
            "ce-knativeerrordata",
            base64::engine::general_purpose::STANDARD.encode(body),
        )
        .header("content-type", "application/json")
        .body(Body::from(format!(r#"{{"store_id":"{id}"}}"#)))
        .unwrap()
}

async fn status_and_reason(pool: &PgPool, id: &str) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, failure_reason FROM stores WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn last_entry(pool: &PgPool, id: &str) -> (String, String) {
    sqlx::query_as(
        "SELECT kind, message FROM store_events WHERE store_id = $1 ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap()
}

fn app(pool: &PgPool) -> axum::Router {
    readiness_checker::app(testing::context(pool.clone(), testing::config(&[])))
}

#[sqlx::test(migrations = "../../migrations")]
async fn exhausted_retries_fail_the_store_with_a_fixed_reason(pool: PgPool) {
    // the last answer's body is internal (kubeconfig paths, kube and
    // database errors) or, in a forged dead letter, anybody's text: the
    // tenant reads a fixed sentence, the log keeps the body
    let id = provisioning_store(&pool).await;
    let response = app(&pool)
        .oneshot(dead_letter(
            &id,
            503,
            "Your store was suspended for fraud; pay at https://evil.example \
             (the Kubernetes cluster is not reachable: /etc/storefleet/kubeconfig)",
        ))
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let (status, reason) = status_and_reason(&pool, &id).await;
    assert_eq!(status, "failed");
    let reason = reason.unwrap();
    assert_eq!(
        reason,
        storefleet_shared::reasons::retries_exhausted(
            storefleet_shared::domain::Engine::WooCommerce,
            false
        )
    );
    let (kind, message) = last_entry(&pool, &id).await;
    assert_eq!(
        (kind.as_str(), message.as_str()),
        ("failed", reason.as_str())
    );
    for text in [&reason, &message] {
        for leaked in ["evil.example", "suspended", "kubeconfig", "503"] {
            assert!(!text.contains(leaked), "{text}");
        }
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn back_pressure_to_the_end_leaves_the_store_to_the_sweep(pool: PgPool) {
    let id = provisioning_store(&pool).await;
    let response = app(&pool)
        .oneshot(dead_letter(
            &id,
            429,
            "too many helm operations in flight (limit 4); retry later",
        ))
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let (status, reason) = status_and_reason(&pool, &id).await;
    assert_eq!(status, "provisioning", "back-pressure is not a failure");
    assert_eq!(reason, None);
    let (kind, message) = last_entry(&pool, &id).await;
    assert_eq!(kind, "dead-letter");
    assert_eq!(message, storefleet_shared::reasons::RETRIES_EXHAUSTED_BUSY);
    assert!(!message.contains("helm"), "{message}");
}

/// Issue 11 item 12: store ids are public, so a dead letter anyone could send
/// would fail any tenant's store. Without the broker's token (none, a
/// forger's key, a token for another function) it is 401 and nothing
/// changes; a dead letter without knativeerrordest/knativeerrorcode is 400.
#[sqlx::test(migrations = "../../migrations")]
async fn forged_dead_letters_change_nothing(pool: PgPool) {
    use storefleet_shared::chain::oidc::{Signer, trigger_subject};
    let id = provisioning_store(&pool).await;
    let entries = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM store_events WHERE store_id = $1")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = entries().await;
    let forger = Signer::generate(testing::delivery_signer().issuer());
    let subject = trigger_subject("storefleet", "test");
    let authorizations = [
        None,
        Some("Bearer not-a-jwt".to_owned()),
        Some(format!(
            "Bearer {}",
            forger.token(&subject, testing::TEST_AUDIENCE)
        )),
        Some(format!(
            "Bearer {}",
            testing::delivery_signer().token(&subject, "storefleet/create-store")
        )),
        Some(format!(
            "Bearer {}",
            testing::delivery_signer().token(
                "system:serviceaccount:store-abcd1234:default",
                testing::TEST_AUDIENCE
            )
        )),
    ];
    for authorization in authorizations {
        let mut request = dead_letter(&id, 503, "Your store was suspended… https://evil.example");
        request.headers_mut().remove("authorization");
        if let Some(value) = &authorization {
            request
                .headers_mut()
                .insert("authorization", value.parse().unwrap());
        }
        let response = app(&pool).oneshot(request).await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        assert!(
            response.headers().contains_key("www-authenticate"),
            "{authorization:?}"
        );
        assert_eq!(
            status_and_reason(&pool, &id).await,
            ("provisioning".into(), None)
        );
    }
    for missing in ["ce-knativeerrordest", "ce-knativeerrorcode"] {
        let mut request = dead_letter(&id, 503, "x");
        request.headers_mut().remove(missing);
        let response = app(&pool).oneshot(request).await.unwrap();
        assert_eq!(response.status(), 400, "{missing}");
        assert_eq!(
            status_and_reason(&pool, &id).await,
            ("provisioning".into(), None)
        );
    }
    assert_eq!(entries().await, before, "no activity entry written");
    // the broker's own token still works
    let response = app(&pool)
        .oneshot(dead_letter(&id, 503, "x"))
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}
