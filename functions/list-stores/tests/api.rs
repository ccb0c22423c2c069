//! list-stores' routes against a real PostgreSQL; credentials come from a
//! fixed [`CredentialsSource`] (the kube path is tested in storefleet-kube).

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::sync::Arc;

use async_trait::async_trait;
use list_stores::{CredentialsSource, State, app};
use sqlx::PgPool;
use storefleet_kube::StoreId;
use storefleet_kube::secret::{AdminCredentials, SecretValue};
use storefleet_shared::testing::{
    assert_problem, config, context, read_json, request, table_counts, user,
};
use tower::ServiceExt;

struct FixedCredentials;

#[async_trait]
impl CredentialsSource for FixedCredentials {
    async fn admin_credentials(&self, id: &StoreId) -> storefleet_shared::Result<AdminCredentials> {
        Ok(AdminCredentials {
            admin_user: format!("admin-{id}"),
            admin_password: SecretValue::new("s3cret"),
        })
    }
}

fn test_app(pool: &PgPool) -> axum::Router {
    app(State {
        ctx: context(pool.clone(), config(&[])),
        credentials: Arc::new(FixedCredentials),
    })
}

/// A store row `id` of `owner`, created `minutes_ago`.
async fn store_of(pool: &PgPool, owner: uuid::Uuid, id: &str, minutes_ago: i32) {
    sqlx::query("INSERT INTO stores (id, owner_id, name, type, namespace, url, created_at) VALUES ($1, $2, 'shop ' || $1, 'woocommerce', 'store-' || $1, 'http://' || $1 || '.localhost', now() - make_interval(mins => $3))")
        .bind(id)
        .bind(owner)
        .bind(minutes_ago)
        .execute(pool)
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn get_one_events_and_credentials(pool: PgPool) {
    let (alice, token) = user(&pool, "alice", 5, false).await;
    store_of(&pool, alice.id, "abcd1234", 0).await;
    let mut conn = pool.acquire().await.unwrap();
    storefleet_shared::db::activity::append(
        &mut conn,
        "abcd1234",
        storefleet_shared::domain::ActivityKind::Requested,
        "store requested",
        None,
    )
    .await
    .unwrap();
    storefleet_shared::db::activity::append(
        &mut conn,
        "abcd1234",
        storefleet_shared::domain::ActivityKind::Installed,
        "helm release installed",
        Some(serde_json::json!({"seconds": 3})),
    )
    .await
    .unwrap();
    let app = test_app(&pool);

    let (status, _, body) = read_json(
        app.clone()
            .oneshot(request("GET", "/api/stores/abcd1234", Some(&token), None))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "abcd1234");
    assert_eq!(body["type"], "woocommerce");
    assert!(body.get("owner_id").is_none() && body.get("idempotency_key").is_none());

    let (status, _, body) = read_json(
        app.clone()
            .oneshot(request(
                "GET",
                "/api/stores/abcd1234/events",
                Some(&token),
                None,
            ))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let kinds: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["requested", "installed"], "oldest first");
    assert_eq!(body["events"][1]["detail"]["seconds"], 3);

    let (status, headers, body) = read_json(
        app.oneshot(request(
            "GET",
            "/api/stores/abcd1234/credentials",
            Some(&token),
            None,
        ))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["admin_user"], "admin-abcd1234");
    assert_eq!(body["admin_password"], "s3cret");
    assert_eq!(body["admin_url"], "http://abcd1234.localhost/wp-admin/");
}

#[sqlx::test(migrations = "../../migrations")]
async fn other_users_stores_are_404(pool: PgPool) {
    let (alice, _) = user(&pool, "alice", 5, false).await;
    let (_, mallory) = user(&pool, "mallory", 5, true).await;
    store_of(&pool, alice.id, "abcd1234", 0).await;
    let app = test_app(&pool);
    for path in [
        "/api/stores/abcd1234",
        "/api/stores/abcd1234/events",
        "/api/stores/abcd1234/credentials",
        "/api/stores/..%2Fetc",
        "/api/stores/1'%20OR%201=1",
        "/api/stores/%E2%98%83%E2%98%83",
    ] {
        let (status, headers, body) = read_json(
            app.clone()
                .oneshot(request("GET", path, Some(&mallory), None))
                .await
                .unwrap(),
        )
        .await;
        assert_problem(status, &headers, &body, 404, "not-found");
    }
    let (_, _, body) = read_json(
        app.oneshot(request("GET", "/api/stores", Some(&mallory), None))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["stores"].as_array().unwrap().len(), 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn pagination_newest_first_without_deleted(pool: PgPool) {
    let (alice, token) = user(&pool, "alice", 50, false).await;
    let (bob, _) = user(&pool, "bob", 50, false).await;
    for i in 0..7 {
        store_of(&pool, alice.id, &format!("alice00{i}"), 10 - i).await;
    }
    store_of(&pool, bob.id, "bobbbbb0", 0).await;
    store_of(&pool, alice.id, "deleted0", 0).await;
    sqlx::query("UPDATE stores SET status = 'deleted', deleted_at = now() WHERE id = 'deleted0'")
        .execute(&pool)
        .await
        .unwrap();
    let app = test_app(&pool);

    let mut seen = Vec::new();
    let mut uri = "/api/stores?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let (status, _, body) = read_json(
            app.clone()
                .oneshot(request("GET", &uri, Some(&token), None))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        seen.extend(
            body["stores"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/api/stores?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..7).rev().map(|i| format!("alice00{i}")).collect();
    assert_eq!(
        seen, expected,
        "newest first, no repeats, no other user's or deleted stores"
    );

    let (_, _, body) = read_json(
        app.clone()
            .oneshot(request("GET", "/api/stores", Some(&token), None))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        body["stores"].as_array().unwrap().len(),
        7,
        "default limit 50"
    );

    for bad in [
        "limit=0",
        "limit=201",
        "limit=ten",
        "cursor=notacursor",
        "cursor=%27%3B--",
        "sort=name",
    ] {
        let (status, headers, body) = read_json(
            app.clone()
                .oneshot(request(
                    "GET",
                    &format!("/api/stores?{bad}"),
                    Some(&token),
                    None,
                ))
                .await
                .unwrap(),
        )
        .await;
        assert_problem(status, &headers, &body, 422, "validation");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn me_and_engines(pool: PgPool) {
    let (alice, token) = user(&pool, "alice", 4, false).await;
    store_of(&pool, alice.id, "abcd1234", 0).await;
    store_of(&pool, alice.id, "abcd5678", 0).await;
    sqlx::query("UPDATE stores SET status = 'deleted', deleted_at = now() WHERE id = 'abcd5678'")
        .execute(&pool)
        .await
        .unwrap();
    let app = test_app(&pool);
    let (status, _, body) = read_json(
        app.clone()
            .oneshot(request("GET", "/api/me", Some(&token), None))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({"name": "alice", "max_stores": 4, "active_stores": 1, "is_admin": false})
    );
    let (status, _, body) = read_json(
        app.oneshot(request("GET", "/api/engines", Some(&token), None))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["engines"][0]["type"], "woocommerce");
    assert_eq!(body["engines"][0]["enabled"], true);
    assert_eq!(body["engines"][1]["type"], "medusa");
    assert_eq!(body["engines"][1]["enabled"], false);
}

/// `max_stores` is a JSON Schema `integer`, which `7.0` is (schemathesis
/// sent `1734.0`): accepted as 7; a fraction is still refused.
#[sqlx::test(migrations = "../../migrations")]
async fn max_stores_takes_an_integer_written_with_a_fraction(pool: PgPool) {
    let (_, admin) = user(&pool, "root", 5, true).await;
    let app = test_app(&pool);
    let create = |body: &'static str| {
        let app = app.clone();
        let admin = admin.clone();
        async move {
            read_json(
                app.oneshot(request("POST", "/api/users", Some(&admin), Some(body)))
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, _, body) = create(r#"{"name":"seven","max_stores":7.0}"#).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["max_stores"], 7);
    let before = table_counts(&pool).await;
    for refused in [
        r#"{"name":"half","max_stores":7.5}"#,
        r#"{"name":"huge","max_stores":1e300}"#,
        r#"{"name":"text","max_stores":"7"}"#,
    ] {
        let (status, _, body) = create(refused).await;
        assert_eq!(status, 422, "{refused}: {body}");
    }
    assert_eq!(table_counts(&pool).await, before);
}

#[sqlx::test(migrations = "../../migrations")]
async fn admins_create_users_and_the_token_works(pool: PgPool) {
    storefleet_shared::auth::ensure_bootstrap_admin(&pool, "bootstrap-token-0123456789", 5)
        .await
        .unwrap();
    let (_, plain) = user(&pool, "plain", 5, false).await;
    let app = test_app(&pool);

    let (status, headers, body) = read_json(
        app.clone()
            .oneshot(request(
                "POST",
                "/api/users",
                Some("bootstrap-token-0123456789"),
                Some(r#"{"name":"carol","max_stores":2}"#),
            ))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // the one-time token must not be cached anywhere (issue 11 item 21)
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let token = body["token"].as_str().unwrap().to_owned();
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM users WHERE name = 'carol'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored, storefleet_shared::auth::hash_token(&token));
    let (status, _, me) = read_json(
        app.clone()
            .oneshot(request("GET", "/api/me", Some(&token), None))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["max_stores"], 2);

    let before = table_counts(&pool).await;
    let cases: [(Option<&str>, &str, u16, &str); 8] = [
        // serde's structs also read arrays (fields in order): a body is an object
        (
            Some("bootstrap-token-0123456789"),
            r#"["u",7,true]"#,
            400,
            "bad-request",
        ),
        (Some("bootstrap-token-0123456789"), "42", 400, "bad-request"),
        (Some(plain.as_str()), r#"{"name":"dave"}"#, 403, "forbidden"),
        (None, r#"{"name":"dave"}"#, 401, "unauthorized"),
        (
            Some("bootstrap-token-0123456789"),
            r#"{"name":"carol"}"#,
            409,
            "conflict",
        ),
        (
            Some("bootstrap-token-0123456789"),
            r#"{"name":"dave","max_stores":-1}"#,
            422,
            "validation",
        ),
        (
            Some("bootstrap-token-0123456789"),
            r#"{"name":"dave","admin":true}"#,
            422,
            "validation",
        ),
        (
            Some("bootstrap-token-0123456789"),
            r#"{"name":""}"#,
            422,
            "validation",
        ),
    ];
    for (token, body, expected, slug) in cases {
        let (status, headers, problem) = read_json(
            app.clone()
                .oneshot(request("POST", "/api/users", token, Some(body)))
                .await
                .unwrap(),
        )
        .await;
        assert_problem(status, &headers, &problem, expected, slug);
    }
    assert_eq!(table_counts(&pool).await, before);
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_api_route_needs_a_valid_token(pool: PgPool) {
    let app = test_app(&pool);
    for path in [
        "/api/stores",
        "/api/stores/abcd1234",
        "/api/stores/abcd1234/events",
        "/api/stores/abcd1234/credentials",
        "/api/me",
        "/api/engines",
    ] {
        for token in [None, Some("wrong-token")] {
            let (status, headers, body) = read_json(
                app.clone()
                    .oneshot(request("GET", path, token, None))
                    .await
                    .unwrap(),
            )
            .await;
            assert_problem(status, &headers, &body, 401, "unauthorized");
            // RFC 6750 §3: every 401 names the scheme; error= only when a
            // Bearer token was sent and was wrong
            let expected = match token {
                None => r#"Bearer realm="storefleet""#,
                Some(_) => r#"Bearer realm="storefleet", error="invalid_token""#,
            };
            assert_eq!(headers["www-authenticate"], expected, "{path}");
        }
    }
    let (status, _, body) = read_json(
        app.oneshot(request("GET", "/healthz", None, None))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status.as_u16(), body), (200, serde_json::json!("ok")));
}

/// The checked-in docs/openapi.json is what the code generates.
#[test]
fn openapi_is_checked_in() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let generated = list_stores::openapi::document();
    if std::env::var_os("STOREFLEET_WRITE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi.json differs from the code; regenerate it with:\n  STOREFLEET_WRITE_OPENAPI=1 cargo test -p list-stores --test api openapi_is_checked_in"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_paths_and_methods_are_problems_that_point_at_the_api(pool: PgPool) {
    let (_, token) = user(&pool, "alice", 5, false).await;
    let app = test_app(&pool);
    let (status, headers, body) = read_json(
        app.clone()
            .oneshot(request("GET", "/api/shops", Some(&token), None))
            .await
            .unwrap(),
    )
    .await;
    assert_problem(status, &headers, &body, 404, "not-found");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("/api/openapi.json"),
        "{body}"
    );
    let (status, headers, body) = read_json(
        app.oneshot(request("PUT", "/api/me", Some(&token), None))
            .await
            .unwrap(),
    )
    .await;
    assert_problem(status, &headers, &body, 405, "method-not-allowed");
    assert!(body["detail"].as_str().unwrap().contains("PUT"), "{body}");
    let allow = headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && !allow.contains("PUT"), "{allow}");
}

/// The Authorization header as RFC 6750 and RFC 9110 read it: the scheme is
/// case-insensitive, a second Authorization header is a malformed request,
/// and every refusal says which scheme to use.
#[sqlx::test(migrations = "../../migrations")]
async fn the_authorization_header_is_read_as_the_rfcs_say(pool: PgPool) {
    let (_, token) = user(&pool, "alice", 5, false).await;
    let app = test_app(&pool);
    let me = |values: &[String]| {
        let mut req = request("GET", "/api/me", None, None);
        for value in values {
            req.headers_mut()
                .append("authorization", value.parse().unwrap());
        }
        app.clone().oneshot(req)
    };
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let (status, _, body) = read_json(me(&[format!("{scheme} {token}")]).await.unwrap()).await;
        assert_eq!(status, 200, "{scheme}: {body}");
        assert_eq!(body["name"], "alice");
    }
    let (status, _, _) = read_json(me(&[format!("Bearer   {token}  ")]).await.unwrap()).await;
    assert_eq!(status, 200, "spaces around the token");

    // two headers, even both valid: which one counts is not defined
    let (status, headers, body) = read_json(
        me(&[format!("Bearer {token}"), format!("Bearer {token}")])
            .await
            .unwrap(),
    )
    .await;
    assert_problem(status, &headers, &body, 400, "bad-request");
    assert_eq!(
        headers["www-authenticate"],
        r#"Bearer realm="storefleet", error="invalid_request""#
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("one Authorization")
    );

    for (value, challenge) in [
        // another scheme: no Bearer credentials at all
        (
            "Basic YWxpY2U6eA==".to_owned(),
            r#"Bearer realm="storefleet""#,
        ),
        (
            "Bearer".to_owned(),
            r#"Bearer realm="storefleet", error="invalid_token""#,
        ),
        (
            format!("Bearer {token} extra"),
            r#"Bearer realm="storefleet", error="invalid_token""#,
        ),
        (format!("Bearer{token}"), r#"Bearer realm="storefleet""#),
    ] {
        let (status, headers, body) =
            read_json(me(std::slice::from_ref(&value)).await.unwrap()).await;
        assert_problem(status, &headers, &body, 401, "unauthorized");
        assert_eq!(headers["www-authenticate"], challenge, "{value}");
    }

    // a token whose user is gone
    sqlx::query("DELETE FROM users WHERE name = 'alice'")
        .execute(&pool)
        .await
        .unwrap();
    let (status, headers, body) = read_json(me(&[format!("Bearer {token}")]).await.unwrap()).await;
    assert_problem(status, &headers, &body, 401, "unauthorized");
    assert_eq!(
        headers["www-authenticate"],
        r#"Bearer realm="storefleet", error="invalid_token""#
    );
}

/// User names are unique as people read them: case, fullwidth letters,
/// ligatures and composed accents do not make a second user; invisible
/// characters are refused.
#[sqlx::test(migrations = "../../migrations")]
async fn user_names_are_unique_after_nfkc_and_case_folding(pool: PgPool) {
    let (_, admin) = user(&pool, "root", 5, true).await;
    let app = test_app(&pool);
    let create = |name: &str| {
        let body = serde_json::json!({ "name": name }).to_string();
        let app = app.clone();
        let admin = admin.clone();
        async move {
            read_json(
                app.oneshot(request("POST", "/api/users", Some(&admin), Some(&body)))
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    for first in ["Alice", "straße", "Café"] {
        let (status, _, body) = create(first).await;
        assert_eq!(status, 201, "{first}: {body}");
        assert_eq!(body["name"], first, "the name is kept as written");
    }
    let before = table_counts(&pool).await;
    for taken in [
        "alice",
        "ALICE",
        " ALICE ",
        "ＡＬＩＣＥ",
        "STRASSE",
        "Strasse",
        "cafe\u{301}",
        "ROOT",
    ] {
        let (status, headers, body) = create(taken).await;
        assert_problem(status, &headers, &body, 409, "conflict");
        assert!(
            body["detail"].as_str().unwrap().contains("ignoring case"),
            "{body}"
        );
    }
    for invisible in [
        "ali\u{200B}ce",
        "\u{202E}ecila",
        "ali\u{2028}ce",
        "a\u{2029}b",
    ] {
        let (status, headers, body) = create(invisible).await;
        assert_problem(status, &headers, &body, 422, "validation");
    }
    assert_eq!(table_counts(&pool).await, before, "nothing created");
}

/// What generated clients read from the document: the list's parameters are
/// query parameters, the store type is the engines' enum, bounds are stated,
/// and every authenticated operation declares its 503 and its 429 (with Retry-After).
#[test]
fn openapi_describes_what_clients_send() {
    let doc: serde_json::Value = serde_json::from_str(&list_stores::openapi::document()).unwrap();
    let params = doc["paths"]["/api/stores"]["get"]["parameters"]
        .as_array()
        .unwrap();
    for param in params {
        assert_eq!(param["in"], "query", "{param}");
        assert_eq!(param["required"], false, "{param}");
    }
    let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(
        (
            limit["schema"]["minimum"].as_i64(),
            limit["schema"]["maximum"].as_i64()
        ),
        (Some(1), Some(200))
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["CreateStore"]["properties"]["type"]["$ref"],
        "#/components/schemas/Engine"
    );
    assert_eq!(
        schemas["Engine"]["enum"],
        serde_json::json!(["woocommerce", "medusa"])
    );
    // names: the server's exact rule (validate_name) as the pattern, not a
    // raw length that says less and more (storefleet_shared::auth tests it)
    for body in ["CreateStore", "CreateUser"] {
        let name = &schemas[body]["properties"]["name"];
        assert_eq!(
            name["pattern"],
            storefleet_shared::auth::name_pattern(),
            "{body}"
        );
        assert!(name.get("maxLength").is_none(), "{body}: {name}");
    }
    assert_eq!(
        schemas["CreateUser"]["properties"]["max_stores"]["maximum"],
        10000
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("security").is_some() {
                assert!(op["responses"].get("503").is_some(), "{method} {path}");
                assert!(
                    op["responses"]["405"]["headers"].get("Allow").is_some(),
                    "{method} {path}"
                );
                assert!(
                    op["responses"]["429"]["headers"]
                        .get("Retry-After")
                        .is_some(),
                    "{method} {path}"
                );
            }
        }
    }
    // The server's rule for an Idempotency-Key: 1-255 visible ASCII characters.
    let key = &doc["paths"]["/api/stores"]["post"]["parameters"][0];
    assert_eq!(key["name"], "Idempotency-Key");
    assert_eq!(
        (
            key["schema"]["minLength"].as_i64(),
            key["schema"]["maxLength"].as_i64(),
            key["schema"]["pattern"].as_str()
        ),
        (Some(1), Some(255), Some("^[!-~]+$"))
    );
    // The dev gateway refuses a path parameter that is not a normalised path
    // segment with 400 before a function sees it.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if path.contains('{') {
                assert!(op["responses"].get("400").is_some(), "{method} {path}");
                // what an id looks like, so generated ids are ids or meant not to be
                let id = &op["parameters"][0];
                assert_eq!(
                    (id["name"].as_str(), id["schema"]["pattern"].as_str()),
                    (Some("id"), Some("^[a-z0-9]{8}$")),
                    "{method} {path}"
                );
            }
        }
    }
    // The links of a created store (stateful clients chain on them) name
    // operations that exist and take the store's id from the answer.
    let operation_ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let links = doc["paths"]["/api/stores"]["post"]["responses"]["202"]["links"]
        .as_object()
        .expect("POST /api/stores 202 has links");
    let linked: Vec<&str> = links
        .values()
        .map(|link| link["operationId"].as_str().unwrap())
        .collect();
    for wanted in ["get_one", "delete_store", "events", "credentials"] {
        assert!(linked.contains(&wanted), "no link to {wanted}: {links:?}");
    }
    for link in links.values() {
        assert!(
            operation_ids.contains(&link["operationId"].as_str().unwrap()),
            "{link}"
        );
        assert_eq!(link["parameters"]["id"], "$response.body#/id", "{link}");
    }
}

fn limited_app(pool: &PgPool, vars: &[(&str, &str)]) -> axum::Router {
    app(State {
        ctx: context(pool.clone(), config(vars)),
        credentials: Arc::new(FixedCredentials),
    })
}

async fn me_with(
    app: axum::Router,
    token: String,
) -> (
    axum::http::StatusCode,
    axum::http::HeaderMap,
    serde_json::Value,
) {
    read_json(
        app.oneshot(request("GET", "/api/me", Some(&token), None))
            .await
            .unwrap(),
    )
    .await
}

/// Per-token limits (issue 11 item 20): a token over its burst is `429`
/// problem+json with `Retry-After`, another token is not slowed down.
#[sqlx::test(migrations = "../../migrations")]
async fn a_token_over_its_rate_gets_429_with_retry_after(pool: PgPool) {
    let (_, alice) = user(&pool, "alice", 5, false).await;
    let (_, bob) = user(&pool, "bob", 5, false).await;
    let app = limited_app(
        &pool,
        &[
            ("STOREFLEET_RATE_LIMIT_PER_TOKEN", "1"),
            ("STOREFLEET_RATE_LIMIT_BURST", "3"),
        ],
    );
    let get = |token: String| me_with(app.clone(), token);
    for _ in 0..3 {
        assert_eq!(get(alice.clone()).await.0, 200);
    }
    let (status, headers, body) = get(alice.clone()).await;
    assert_problem(status, &headers, &body, 429, "rate-limited");
    assert_eq!(headers["retry-after"], "1", "{body}");
    assert_eq!(get(bob.clone()).await.0, 200);
}

/// Tokens this process has not seen valid share one bucket, checked before
/// the lookup: past it an invalid token is `429` without touching the
/// database (the pool is closed and the answer is still `429`, not `503`),
/// while a token seen valid is still looked up every time.
#[sqlx::test(migrations = "../../migrations")]
async fn invalid_tokens_are_limited_before_any_database_lookup(pool: PgPool) {
    let (_, alice) = user(&pool, "alice", 5, false).await;
    let app = limited_app(
        &pool,
        &[
            ("STOREFLEET_RATE_LIMIT_UNVERIFIED", "1"),
            ("STOREFLEET_RATE_LIMIT_UNVERIFIED_BURST", "4"),
        ],
    );
    let get = |token: String| me_with(app.clone(), token);
    assert_eq!(get(alice.clone()).await.0, 200, "alice's first lookup");
    let mut statuses = Vec::new();
    for i in 0..10 {
        statuses.push(get(format!("sft_forged{i}")).await.0.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    // a known token skips the shared bucket
    assert_eq!(get(alice.clone()).await.0, 200);

    pool.close().await;
    let (status, headers, body) = get("sft_forged-after-close".into()).await;
    assert_problem(status, &headers, &body, 429, "rate-limited");
    assert!(headers.contains_key("retry-after"));
    assert_eq!(
        get(alice.clone()).await.0,
        503,
        "a known token is still looked up"
    );
}
