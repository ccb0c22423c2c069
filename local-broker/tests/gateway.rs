//! The dev gateway over real loopback HTTP: routing by method and path to the
//! functions, headers and bodies passed through, problem+json for the rest,
//! and the dashboard with SPA fallback and cache headers.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use local_broker::server::{self, Options};
use reqwest::Url;

type Seen = Arc<Mutex<Vec<(String, Method, String, HeaderMap, Bytes)>>>;

/// A stand-in function process: records the request and answers with its
/// own name, a Location header and a 201.
async fn function(name: &'static str, seen: Seen) -> Url {
    let app = Router::new()
        .fallback(
            |State((name, seen)): State<(&'static str, Seen)>,
             method: Method,
             uri: Uri,
             headers: HeaderMap,
             body: Bytes| async move {
                seen.lock().unwrap().push((
                    name.to_string(),
                    method,
                    uri.to_string(),
                    headers,
                    body,
                ));
                (
                    StatusCode::CREATED,
                    [("location", "/api/stores/abcd1234"), ("x-function", name)],
                    name,
                )
                    .into_response()
            },
        )
        .with_state((name, seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

async fn start(dashboard: &std::path::Path, seen: &Seen) -> server::Running {
    let mut functions = BTreeMap::new();
    for name in ["create-store", "delete-store", "list-stores"] {
        functions.insert(name.to_string(), function(name, seen.clone()).await);
    }
    let manifests = common::manifests(
        r#"
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: create-store, namespace: storefleet}
spec: {}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: delete-store, namespace: storefleet}
spec: {}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: list-stores, namespace: storefleet}
spec: {}
"#,
    );
    server::start(Options {
        manifests,
        listen: "127.0.0.1:0".parse().unwrap(),
        functions,
        run: BTreeMap::new(),
        dashboard_dir: dashboard.to_path_buf(),
        apiserver_source: false,
        ping_source: false,
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn api_routes_by_method_and_path() {
    let seen: Seen = Default::default();
    let dist = tempfile::tempdir().unwrap();
    let broker = start(dist.path(), &seen).await;
    let client = reqwest::Client::new();
    let cases = [
        (Method::POST, "api/stores", "create-store"),
        (Method::GET, "api/stores?limit=2&cursor=x", "list-stores"),
        (Method::GET, "api/stores/abcd1234", "list-stores"),
        (Method::GET, "api/stores/abcd1234/events", "list-stores"),
        (
            Method::GET,
            "api/stores/abcd1234/credentials",
            "list-stores",
        ),
        (Method::GET, "api/me", "list-stores"),
        (Method::GET, "api/engines", "list-stores"),
        (Method::GET, "api/openapi.json", "list-stores"),
        (Method::DELETE, "api/stores/abcd1234", "delete-store"),
        (Method::POST, "api/users", "list-stores"),
    ];
    for (method, path, function) in cases {
        let r = client
            .request(method.clone(), broker.url().join(path).unwrap())
            .header("authorization", "Bearer t0ken")
            .header("idempotency-key", "k-1")
            .header("content-type", "application/json")
            .body(r#"{"type":"woocommerce","name":"Demo"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{method} {path}");
        assert_eq!(r.headers()["x-function"], function, "{method} {path}");
        assert_eq!(
            r.headers()["location"],
            "/api/stores/abcd1234",
            "Location passes through, not followed"
        );
        let (name, m, uri, headers, body) = seen.lock().unwrap().pop().unwrap();
        assert_eq!((name.as_str(), &m), (function, &method));
        assert_eq!(uri, format!("/{path}"), "path and query unchanged");
        assert_eq!(headers["authorization"], "Bearer t0ken");
        assert_eq!(headers["idempotency-key"], "k-1");
        assert_eq!(&body[..], br#"{"type":"woocommerce","name":"Demo"}"#);
    }
    broker.shutdown().await;
}

#[tokio::test]
async fn api_misses_are_problems() {
    let seen: Seen = Default::default();
    let dist = tempfile::tempdir().unwrap();
    let broker = start(dist.path(), &seen).await;
    let client = reqwest::Client::new();
    let r = client
        .put(broker.url().join("api/stores").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST, GET");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = client
        .delete(broker.url().join("api/stores/a/b").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        405,
        "DELETE takes exactly one segment after /api/stores/"
    );
    let r = client
        .post(broker.url().join("api/nothing").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = client
        .get(broker.url().join("api").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert!(seen.lock().unwrap().is_empty(), "no function was called");
    broker.shutdown().await;
}

#[tokio::test]
async fn dashboard_files_spa_fallback_and_caching() {
    let seen: Seen = Default::default();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html>shell</html>").unwrap();
    std::fs::create_dir(dist.path().join("assets")).unwrap();
    std::fs::write(dist.path().join("assets/index-3f2a1b.js"), "console.log(1)").unwrap();
    std::fs::write(dist.path().join("favicon.svg"), "<svg/>").unwrap();
    let broker = start(dist.path(), &seen).await;
    let get = |p: &str| {
        let url = broker.url().join(p).unwrap();
        async move { reqwest::get(url).await.unwrap() }
    };

    let r = get("assets/index-3f2a1b.js").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.text().await.unwrap(), "console.log(1)");

    for shell in ["", "index.html", "stores/abcd1234", "login"] {
        let r = get(shell).await;
        assert_eq!(r.status(), 200, "/{shell}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "/{shell}");
        assert_eq!(r.text().await.unwrap(), "<html>shell</html>", "/{shell}");
    }

    let r = get("favicon.svg").await;
    assert_eq!(r.headers()["cache-control"], "no-cache");

    let r = get("assets/missing-123.js").await;
    assert_eq!(
        r.status(),
        404,
        "a missing asset is not answered with the shell"
    );
    let r = get("../Cargo.toml").await;
    assert_ne!(r.status(), 200);
    broker.shutdown().await;
}

#[tokio::test]
async fn missing_dashboard_build_says_what_to_do() {
    let seen: Seen = Default::default();
    let empty = tempfile::tempdir().unwrap();
    let broker = start(empty.path(), &seen).await;
    let r = reqwest::get(broker.url()).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("npm run build"));
    broker.shutdown().await;
}
