//! create-store's API route under AWS Lambda: the real binary, started with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a Lambda Runtime API inside the test
//! (`storefleet_shared::testing::lambda`), takes `POST /api/stores` as an API
//! Gateway HTTP API event, writes the store to the real PostgreSQL database
//! of `#[sqlx::test]` and emits `store.requested` to `K_SINK`, as on Knative.
//! (Its `/events` handler needs the cluster and stays on Knative:
//! docs/design.md, "AWS Lambda".)

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use sqlx::PgPool;
use storefleet_shared::events::STORE_REQUESTED;
use storefleet_shared::testing::lambda::{LambdaFunction, http_api_event};
use storefleet_shared::testing::{TEST_AUDIENCE, counting_sink, database_url, table_counts, user};

const BODY: &str = r#"{"type":"woocommerce","name":"  Demo shop  "}"#;

#[sqlx::test(migrations = "../../migrations")]
async fn creates_a_store_from_an_api_gateway_event_under_lambda(pool: PgPool) {
    let (alice, token) = user(&pool, "alice", 5, false).await;
    let (sink, sent) = counting_sink().await;
    let mut function = LambdaFunction::start(
        env!("CARGO_BIN_EXE_create-store"),
        &[
            ("DATABASE_URL", database_url(&pool)),
            ("K_SINK", sink),
            // read on the first delivery to /events, which never comes here
            ("STOREFLEET_EVENTS_OIDC_ISSUER", "http://127.0.0.1:9".into()),
            ("STOREFLEET_EVENTS_OIDC_AUDIENCE", TEST_AUDIENCE.into()),
        ],
    )
    .await;
    let auth = format!("Bearer {token}");
    let json_post = |body: &str, headers: &[(&str, &str)]| {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        http_api_event("POST", "/api/stores", &all, Some(body))
    };

    // refused requests are the API's problems and change nothing
    let before = table_counts(&pool).await;
    let anonymous = function.http(json_post(BODY, &[])).await;
    anonymous.assert_problem(401, "unauthorized");
    let unknown_type = function
        .http(json_post(
            r#"{"type":"magento","name":"x"}"#,
            &[("authorization", &auth)],
        ))
        .await;
    unknown_type.assert_problem(422, "validation");
    let wrong_method = function
        .http(http_api_event(
            "GET",
            "/api/stores",
            &[("authorization", &auth)],
            None,
        ))
        .await;
    wrong_method.assert_problem(405, "method-not-allowed");
    assert_eq!(wrong_method.headers["allow"], "POST");
    assert_eq!(table_counts(&pool).await, before);
    assert_eq!(
        sent.lock().unwrap().len(),
        0,
        "a refused request sent events"
    );

    // accepted: 202, the store and its Location
    let key = [
        ("authorization", auth.as_str()),
        ("idempotency-key", "lambda-1"),
    ];
    let created = function.http(json_post(BODY, &key)).await;
    assert_eq!(created.status, 202, "{created:?}");
    assert_eq!(created.headers["content-type"], "application/json");
    let id = created.body["id"]
        .as_str()
        .expect("the store's id")
        .to_owned();
    assert!(storefleet_shared::domain::StoreId::is_valid(&id), "{id}");
    assert_eq!(created.headers["location"], format!("/api/stores/{id}"));
    assert_eq!(created.body["name"], "Demo shop", "the name is trimmed");
    assert_eq!(created.body["status"], "provisioning");
    assert_eq!(created.body["namespace"], format!("store-{id}"));

    // in PostgreSQL, alice's, and the chain started
    let (owner, name, status): (uuid::Uuid, String, String) =
        sqlx::query_as("SELECT owner_id, name, status FROM stores WHERE id = $1")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (owner, name.as_str(), status.as_str()),
        (alice.id, "Demo shop", "provisioning")
    );
    assert_eq!(*sent.lock().unwrap(), [STORE_REQUESTED]);

    // the same key and body again: the same store, no second one
    let stores_before_replay = table_counts(&pool).await.0;
    let replayed = function.http(json_post(BODY, &key)).await;
    assert_eq!(replayed.status, 202, "{replayed:?}");
    assert_eq!(replayed.body["id"], id.as_str());
    assert_eq!(table_counts(&pool).await.0, stores_before_replay);

    assert_eq!(function.violations(), Vec::<String>::new());
}
