//! list-stores under AWS Lambda: the real binary, started with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a Lambda Runtime API inside the test
//! (`storefleet_shared::testing::lambda`), answers API Gateway HTTP API events
//! with the same router it serves on Knative, against the real PostgreSQL
//! database of `#[sqlx::test]`.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::sync::Arc;

use list_stores::{KubeCredentials, State, app};
use sqlx::PgPool;
use storefleet_shared::testing::lambda::{HttpAnswer, LambdaFunction, Outcome, http_api_event};
use storefleet_shared::testing::{
    config, context, database_url, listening_addresses, read_json, request, user,
};
use tower::ServiceExt;

/// `GET path` with `authorization` (if any), as API Gateway delivers it.
async fn get(function: &mut LambdaFunction, path: &str, authorization: Option<&str>) -> HttpAnswer {
    let headers: Vec<(&str, &str)> = authorization
        .map(|auth| ("authorization", auth))
        .into_iter()
        .collect();
    function
        .http(http_api_event("GET", path, &headers, None))
        .await
}

#[sqlx::test(migrations = "../../migrations")]
async fn answers_api_gateway_events_under_lambda(pool: PgPool) {
    let (alice, token) = user(&pool, "alice", 5, false).await;
    let (_, bob_token) = user(&pool, "bob", 5, false).await;
    sqlx::query("INSERT INTO stores (id, owner_id, name, type, namespace, url) VALUES ('abcd1234', $1, 'Demo shop', 'woocommerce', 'store-abcd1234', 'http://abcd1234.localhost')")
        .bind(alice.id)
        .execute(&pool)
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut function = LambdaFunction::start(
        env!("CARGO_BIN_EXE_list-stores"),
        &[
            ("DATABASE_URL", database_url(&pool)),
            ("PORT", port.to_string()),
            ("STOREFLEET_LISTEN_ADDRESS", "127.0.0.1".into()),
            // no cluster: what needs one must say so, not hang
            ("KUBECONFIG", "/nonexistent/kubeconfig".into()),
        ],
    )
    .await;
    let alice_auth = format!("Bearer {token}");

    let listed = get(&mut function, "/api/stores", Some(&alice_auth)).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(listed.headers["content-type"], "application/json");
    let stores = listed.body["stores"].as_array().expect("a list of stores");
    assert_eq!(stores.len(), 1, "{}", listed.body);
    assert_eq!(stores[0]["id"], "abcd1234");
    assert_eq!(stores[0]["name"], "Demo shop");
    assert_eq!(stores[0]["status"], "provisioning");
    assert_eq!(stores[0]["urls"]["storefront"], "http://abcd1234.localhost");

    // the same answer, headers included, as the router in process
    let direct = app(State {
        ctx: context(pool.clone(), config(&[])),
        credentials: Arc::new(KubeCredentials::default()),
    })
    .oneshot(request("GET", "/api/stores", Some(&token), None))
    .await
    .unwrap();
    let (status, headers, body) = read_json(direct).await;
    assert_eq!(
        (listed.status, &listed.headers, &listed.body),
        (status, &headers, &body)
    );

    // another tenant sees none of alice's stores
    let bobs = get(
        &mut function,
        "/api/stores",
        Some(&format!("Bearer {bob_token}")),
    )
    .await;
    assert_eq!(bobs.status, 200, "{bobs:?}");
    assert_eq!(bobs.body["stores"], serde_json::json!([]));

    // no token: the problem+json of the API, with its challenge
    let refused = get(&mut function, "/api/stores", None).await;
    refused.assert_problem(401, "unauthorized");
    assert_eq!(
        refused.headers["www-authenticate"],
        r#"Bearer realm="storefleet""#
    );

    // the query string reaches the router: a limit out of range is refused
    let out_of_range = get(&mut function, "/api/stores?limit=0", Some(&alice_auth)).await;
    out_of_range.assert_problem(422, "validation");
    assert!(
        out_of_range.body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("got 0")),
        "{out_of_range:?}"
    );

    // the credentials read the store's Secret in the cluster: under Lambda
    // without one, a clear 503, not a hang or a crash
    let credentials = get(
        &mut function,
        "/api/stores/abcd1234/credentials",
        Some(&alice_auth),
    )
    .await;
    credentials.assert_problem(503, "unavailable");

    // an event that is no HTTP event is an invocation error, and the
    // function goes on to the next invocation
    match function.invoke(serde_json::json!(42)).await {
        Outcome::Error { error_type, body } => {
            assert!(error_type.is_some(), "{body}");
            assert!(body["errorMessage"].is_string(), "{body}");
        }
        Outcome::Response(answer) => panic!("a response to a non-HTTP event: {answer}"),
    }
    let again = get(&mut function, "/api/stores", Some(&alice_auth)).await;
    assert_eq!(again.status, 200, "{again:?}");

    // under Lambda the binary serves through the runtime API only
    assert_eq!(listening_addresses(port), Vec::<String>::new());
    assert_eq!(function.violations(), Vec::<String>::new());
}
