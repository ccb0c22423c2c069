//! POST /api/stores against a real PostgreSQL (`#[sqlx::test]`: one fresh
//! database per test, migrations applied).

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use create_store::app;
use futures::future::join_all;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use storefleet_shared::testing::{
    assert_problem, config, context, read_json, request, table_counts, user,
};
use tower::ServiceExt;

const BODY: &str = r#"{"type":"woocommerce","name":"Demo shop"}"#;

fn post(token: Option<&str>, body: &str) -> http::Request<axum::body::Body> {
    request("POST", "/api/stores", token, Some(body))
}

#[sqlx::test(migrations = "../../migrations")]
async fn creates_a_store(pool: PgPool) {
    let (alice, token) = user(&pool, "alice", 5, false).await;
    let app = app(context(pool.clone(), config(&[])));
    let (status, headers, body) = read_json(
        app.oneshot(post(
            Some(&token),
            r#"{"type":"woocommerce","name":"  Demo shop  "}"#,
        ))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap();
    assert!(storefleet_shared::domain::StoreId::is_valid(id));
    assert_eq!(headers["location"], format!("/api/stores/{id}"));
    assert_eq!(body["name"], "Demo shop", "the name is trimmed");
    assert_eq!(body["status"], "provisioning");
    assert_eq!(body["namespace"], format!("store-{id}"));
    assert_eq!(body["urls"]["storefront"], format!("http://{id}.localhost"));
    assert_eq!(
        body["urls"]["admin"],
        format!("http://{id}.localhost/wp-admin/")
    );
    let owner: uuid::Uuid = sqlx::query_scalar("SELECT owner_id FROM stores WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(owner, alice.id);
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM store_events WHERE store_id = $1")
            .bind(id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(kinds, ["requested"]);
}

#[sqlx::test(migrations = "../../migrations")]
async fn url_follows_the_configured_pattern(pool: PgPool) {
    let (_, token) = user(&pool, "alice", 5, false).await;
    let cfg = config(&[
        ("STOREFLEET_STORE_HOST_PATTERN", "{id}.shops.example.com"),
        ("STOREFLEET_STORE_URL_SCHEME", "https"),
    ]);
    let (_, _, body) = read_json(
        app(context(pool, cfg))
            .oneshot(post(Some(&token), BODY))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        body["urls"]["storefront"],
        format!("https://{}.shops.example.com", body["id"].as_str().unwrap())
    );
}

/// 20 concurrent creates against a quota of 3, over a pool of separate
/// connections: exactly 3 stores, 17 quota problems.
#[sqlx::test(migrations = "../../migrations")]
async fn quota_holds_under_concurrency(pool: PgPool) {
    let (alice, token) = user(&pool, "alice", 3, false).await;
    let wide = PgPoolOptions::new()
        .max_connections(20)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let app = app(context(wide, config(&[])));
    let answers = join_all((0..20).map(|i| {
        let app = app.clone();
        let body = format!(r#"{{"type":"woocommerce","name":"shop {i}"}}"#);
        let token = token.clone();
        async move { read_json(app.oneshot(post(Some(&token), &body)).await.unwrap()).await }
    }))
    .await;
    let created = answers.iter().filter(|(s, _, _)| *s == 202).count();
    assert_eq!(created, 3);
    for (status, headers, body) in answers.iter().filter(|(s, _, _)| *s != 202) {
        assert_problem(*status, headers, body, 403, "quota-exceeded");
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM stores WHERE owner_id = $1")
        .bind(alice.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 3);
}

#[sqlx::test(migrations = "../../migrations")]
async fn deleted_stores_do_not_count_against_the_quota(pool: PgPool) {
    let (_, token) = user(&pool, "alice", 1, false).await;
    let app = app(context(pool.clone(), config(&[])));
    let (status, _, first) =
        read_json(app.clone().oneshot(post(Some(&token), BODY)).await.unwrap()).await;
    assert_eq!(status, 202);
    let (status, headers, body) =
        read_json(app.clone().oneshot(post(Some(&token), BODY)).await.unwrap()).await;
    assert_problem(status, &headers, &body, 403, "quota-exceeded");
    sqlx::query("UPDATE stores SET status = 'deleted', deleted_at = now() WHERE id = $1")
        .bind(first["id"].as_str())
        .execute(&pool)
        .await
        .unwrap();
    let (status, _, _) = read_json(app.oneshot(post(Some(&token), BODY)).await.unwrap()).await;
    assert_eq!(status, 202);
}

#[sqlx::test(migrations = "../../migrations")]
async fn idempotency_key(pool: PgPool) {
    let (_, token) = user(&pool, "alice", 5, false).await;
    let (_, bob_token) = user(&pool, "bob", 5, false).await;
    let app = app(context(pool.clone(), config(&[])));
    let keyed = |token: &str, key: &str, body: &str| {
        let mut req = post(Some(token), body);
        req.headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
        req
    };
    let (s1, _, first) = read_json(
        app.clone()
            .oneshot(keyed(&token, "k-1", BODY))
            .await
            .unwrap(),
    )
    .await;
    let (s2, _, again) = read_json(
        app.clone()
            .oneshot(keyed(&token, "k-1", BODY))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s1.as_u16(), s2.as_u16()), (202, 202));
    assert_eq!(
        first["id"], again["id"],
        "same key, same body: the same store"
    );
    assert_eq!(table_counts(&pool).await.0, 1);

    let before = table_counts(&pool).await;
    let (status, headers, body) = read_json(
        app.clone()
            .oneshot(keyed(
                &token,
                "k-1",
                r#"{"type":"woocommerce","name":"Other"}"#,
            ))
            .await
            .unwrap(),
    )
    .await;
    assert_problem(status, &headers, &body, 422, "idempotency-key-reused");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("different request")
    );
    assert_eq!(table_counts(&pool).await, before);

    // keys are per owner
    let (status, _, bobs) = read_json(
        app.clone()
            .oneshot(keyed(&bob_token, "k-1", BODY))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202);
    assert_ne!(bobs["id"], first["id"]);

    // a deleted store frees its key
    sqlx::query("UPDATE stores SET status = 'deleted', deleted_at = now() WHERE id = $1")
        .bind(first["id"].as_str())
        .execute(&pool)
        .await
        .unwrap();
    let (status, _, reborn) = read_json(
        app.clone()
            .oneshot(keyed(&token, "k-1", BODY))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202);
    assert_ne!(reborn["id"], first["id"]);

    let (status, headers, body) =
        read_json(app.oneshot(keyed(&token, " ", BODY)).await.unwrap()).await;
    assert_problem(status, &headers, &body, 422, "validation");
}

#[sqlx::test(migrations = "../../migrations")]
async fn medusa_is_refused_until_enabled(pool: PgPool) {
    let (_, token) = user(&pool, "alice", 5, false).await;
    let medusa = r#"{"type":"medusa","name":"M"}"#;
    let (status, headers, body) = read_json(
        app(context(pool.clone(), config(&[])))
            .oneshot(post(Some(&token), medusa))
            .await
            .unwrap(),
    )
    .await;
    assert_problem(status, &headers, &body, 422, "engine-disabled");
    assert!(
        body["detail"].as_str().unwrap().contains("medusa"),
        "{body}"
    );
    assert_eq!(table_counts(&pool).await.0, 0);
    let enabled = config(&[("STOREFLEET_ENGINES", "woocommerce,medusa")]);
    let (status, _, body) = read_json(
        app(context(pool, enabled))
            .oneshot(post(Some(&token), medusa))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["type"], "medusa");
}

/// Every bad input answers a problem that says what to fix and changes nothing.
#[sqlx::test(migrations = "../../migrations")]
async fn bad_input_changes_nothing(pool: PgPool) {
    let (_, token) = user(&pool, "alice", 5, false).await;
    let app = app(context(pool.clone(), config(&[])));
    let long_name = format!(r#"{{"type":"woocommerce","name":"{}"}}"#, "x".repeat(65));
    let huge = format!(
        r#"{{"type":"woocommerce","name":"{}"}}"#,
        "x".repeat(20_000)
    );
    let cases: Vec<(&str, String, u16, &str, &str)> = vec![
        (
            "malformed JSON",
            r#"{"type":"woocommerce","#.into(),
            400,
            "bad-request",
            "not valid JSON",
        ),
        (
            "unknown field",
            r#"{"type":"woocommerce","name":"a","plan":"gold"}"#.into(),
            422,
            "validation",
            "plan",
        ),
        (
            "wrong type",
            r#"{"type":"woocommerce","name":42}"#.into(),
            422,
            "validation",
            "name",
        ),
        (
            "missing field",
            r#"{"type":"woocommerce"}"#.into(),
            422,
            "validation",
            "name",
        ),
        (
            "unknown store type",
            r#"{"type":"shopify","name":"a"}"#.into(),
            422,
            "validation",
            "shopify",
        ),
        ("name too long", long_name, 422, "validation", "64"),
        (
            "empty name",
            r#"{"type":"woocommerce","name":"   "}"#.into(),
            422,
            "validation",
            "empty",
        ),
        (
            "control characters",
            r#"{"type":"woocommerce","name":"a\u0007b"}"#.into(),
            422,
            "validation",
            "control",
        ),
        (
            "a direction override",
            r#"{"type":"woocommerce","name":"shop\u202Egpj.exe"}"#.into(),
            422,
            "validation",
            "U+202E",
        ),
        (
            "a zero width space",
            r#"{"type":"woocommerce","name":"Demo\u200Bshop"}"#.into(),
            422,
            "validation",
            "invisible",
        ),
        (
            "a line separator",
            r#"{"type":"woocommerce","name":"Demo\u2028shop"}"#.into(),
            422,
            "validation",
            "U+2028",
        ),
        ("oversized body", huge, 413, "payload-too-large", "bytes"),
        // serde's structs also read arrays (fields in order): a body is an object
        (
            "an array",
            r#"["woocommerce","x"]"#.into(),
            400,
            "bad-request",
            "JSON object",
        ),
        ("an empty array", "[]".into(), 400, "bad-request", "array"),
        (
            "a string",
            r#""woocommerce""#.into(),
            400,
            "bad-request",
            "string",
        ),
        ("null", "null".into(), 400, "bad-request", "null"),
    ];
    let before = table_counts(&pool).await;
    for (what, body, expected, slug, mentions) in cases {
        let (status, headers, problem) = read_json(
            app.clone()
                .oneshot(post(Some(&token), &body))
                .await
                .unwrap(),
        )
        .await;
        assert_problem(status, &headers, &problem, expected, slug);
        assert!(
            problem["detail"].as_str().unwrap().contains(mentions),
            "{what}: {problem}"
        );
    }
    // no content type
    let req = http::Request::builder()
        .method("POST")
        .uri("/api/stores")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::from(BODY))
        .unwrap();
    let (status, headers, problem) = read_json(app.clone().oneshot(req).await.unwrap()).await;
    assert_problem(status, &headers, &problem, 415, "unsupported-media-type");
    // no token, wrong token, wrong scheme
    for auth in [None, Some("Bearer nope"), Some("Basic YWxpY2U6eA==")] {
        let mut req = post(None, BODY);
        if let Some(auth) = auth {
            req.headers_mut()
                .insert("authorization", auth.parse().unwrap());
        }
        let (status, headers, problem) = read_json(app.clone().oneshot(req).await.unwrap()).await;
        assert_problem(status, &headers, &problem, 401, "unauthorized");
    }
    assert_eq!(table_counts(&pool).await, before);
}

/// Concurrent retries with one Idempotency-Key create one store.
#[sqlx::test(migrations = "../../migrations")]
async fn concurrent_retries_with_one_key_create_one_store(pool: PgPool) {
    let (_, token) = user(&pool, "alice", 50, false).await;
    let wide = PgPoolOptions::new()
        .max_connections(10)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let app = app(context(wide, config(&[])));
    let answers = join_all((0..10).map(|_| {
        let app = app.clone();
        let mut req = post(Some(&token), BODY);
        req.headers_mut()
            .insert("idempotency-key", "same".parse().unwrap());
        async move { read_json(app.oneshot(req).await.unwrap()).await }
    }))
    .await;
    assert!(answers.iter().all(|(s, _, _)| *s == 202));
    assert!(
        answers
            .iter()
            .all(|(_, _, b)| b["id"] == answers[0].2["id"])
    );
    assert_eq!(table_counts(&pool).await.0, 1);
}

/// What the broker must not retry gets 400 (Knative sends it straight to the
/// dead-letter sink), and changes nothing: a body that is not a CloudEvent, a
/// type this endpoint does not handle, an event about no valid store.
#[sqlx::test(migrations = "../../migrations")]
async fn events_that_retrying_cannot_fix_are_answered_400(pool: PgPool) {
    let app = app(context(pool.clone(), config(&[])));
    let before = table_counts(&pool).await;
    let cloud_event = |ty: &str, subject: &str| {
        http::Request::builder()
            .method("POST")
            .uri("/events")
            .header("ce-specversion", "1.0")
            .header("ce-id", "e-1")
            .header("ce-source", "/test")
            .header("ce-type", ty)
            .header("ce-subject", subject)
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{}"))
            .unwrap()
    };
    let with = |name: &str, value: &str| {
        let mut req = cloud_event("io.storefleet.store.requested", "abcd1234");
        req.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
        req
    };
    let structured = |id: &str| {
        http::Request::builder()
            .method("POST")
            .uri("/events")
            .header("content-type", "application/cloudevents+json")
            .body(axum::body::Body::from(
                serde_json::json!({
                    "specversion": "1.0", "id": id, "source": "/test",
                    "type": "io.storefleet.store.requested", "subject": "abcd1234",
                })
                .to_string(),
            ))
            .unwrap()
    };
    let cases = [
        (
            "not a CloudEvent",
            request("POST", "/events", None, Some("{}")),
        ),
        // the dedup key is (source, id): an id or source too long for its
        // index failed with 503 and was retried seven times
        ("an empty id", with("ce-id", "")),
        ("a blank id", with("ce-id", "  ")),
        ("an id over 400 bytes", with("ce-id", &"i".repeat(401))),
        (
            "an id far over the index limit",
            with("ce-id", &"i".repeat(3000)),
        ),
        (
            "a source over 400 bytes",
            with("ce-source", &format!("/{}", "s".repeat(400))),
        ),
        ("CloudEvents 0.3", with("ce-specversion", "0.3")),
        // PostgreSQL text cannot hold NUL: a data error, permanent (was 503)
        ("an id PostgreSQL cannot store", structured("a\u{0}b")),
        (
            "a type create-store does not handle",
            cloud_event("io.storefleet.store.ready", "abcd1234"),
        ),
        (
            "no valid store id",
            cloud_event("io.storefleet.store.requested", "../etc"),
        ),
    ];
    let signed = |mut req: http::Request<axum::body::Body>| {
        req.headers_mut().insert(
            http::header::AUTHORIZATION,
            storefleet_shared::testing::delivery_authorization()
                .parse()
                .unwrap(),
        );
        req
    };
    for (what, req) in cases {
        let (status, headers, body) =
            read_json(app.clone().oneshot(signed(req)).await.unwrap()).await;
        assert_eq!(status.as_u16(), 400, "{what}: {body}");
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{what}"
        );
        assert!(
            !body["detail"].as_str().unwrap_or("").is_empty(),
            "{what}: {body}"
        );
    }
    assert_eq!(table_counts(&pool).await, before, "nothing changed");

    // issue 11 item 12: without the broker's token (none, or one for another
    // function) a valid event is 401 and does nothing
    let other_audience = format!(
        "Bearer {}",
        storefleet_shared::testing::delivery_signer().token(
            &storefleet_shared::chain::oidc::trigger_subject("storefleet", "test"),
            "storefleet/readiness-checker"
        )
    );
    for authorization in [None, Some(other_audience.as_str())] {
        let mut req = cloud_event("io.storefleet.store.requested", "abcd1234");
        if let Some(value) = authorization {
            req.headers_mut()
                .insert(http::header::AUTHORIZATION, value.parse().unwrap());
        }
        let (status, headers, body) = read_json(app.clone().oneshot(req).await.unwrap()).await;
        assert_eq!(status.as_u16(), 401, "{authorization:?}: {body}");
        assert!(headers.contains_key("www-authenticate"));
    }
    assert_eq!(table_counts(&pool).await, before, "nothing changed");

    // at the bound: handled (no such store: acknowledged and recorded)
    let id = "i".repeat(400);
    let source = format!("/{}", "s".repeat(399));
    let mut req = with("ce-id", &id);
    req.headers_mut()
        .insert("ce-source", source.parse().unwrap());
    let (status, _, body) = read_json(app.clone().oneshot(signed(req)).await.unwrap()).await;
    assert_eq!(status.as_u16(), 202, "{body}");
    let recorded: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM processed_events WHERE source = $1 AND id = $2)",
    )
    .bind(&source)
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(recorded);
}
