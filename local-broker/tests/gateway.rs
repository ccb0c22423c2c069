//! The dev gateway over real loopback HTTP: routing by method and path to the
//! functions, headers and bodies passed through, problem+json for the rest,
//! and the dashboard with SPA fallback and cache headers.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use local_broker::gateway::{API_PATHS, Decision, decide};
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
    start_with(dashboard, seen, Default::default(), None, None).await
}

/// `down`: a function whose address answers nothing (a closed port);
/// `mail_url`: the broker's --mail-url.
async fn start_with(
    dashboard: &std::path::Path,
    seen: &Seen,
    limits: server::Limits,
    down: Option<&str>,
    mail_url: Option<Url>,
) -> server::Running {
    let mut functions = BTreeMap::new();
    for name in ["create-store", "delete-store", "list-stores"] {
        let url = if down == Some(name) {
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = closed.local_addr().unwrap().port();
            drop(closed);
            Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap()
        } else {
            function(name, seen.clone()).await
        };
        functions.insert(name.to_string(), url);
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
        ingress_listen: "127.0.0.1:0".parse().unwrap(),
        ingress_url: None,
        functions,
        run: BTreeMap::new(),
        dashboard_dir: dashboard.to_path_buf(),
        mail_url,
        apiserver_source: false,
        ping_source: false,
        limits,
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
    assert_eq!(r.headers()["allow"], "GET, HEAD, POST");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["type"], "https://storefleet.dev/problems/method-not-allowed",
        "the functions' type for a 405: {body}"
    );
    let r = client
        .delete(broker.url().join("api/stores/a/b").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "DELETE takes exactly one segment after /api/stores/, and the API has no such path"
    );
    let r = client
        .post(broker.url().join("api/nothing").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "no API path: 404 whatever the method");
    let r = client
        .put(broker.url().join("api/nope").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "no API path: 404 whatever the method");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["type"], "https://storefleet.dev/problems/not-found");
    // the path's own methods, not the routing table's (GET /api/users is no route)
    for (method, path, allow) in [
        (Method::PUT, "api/users", "POST"),
        (Method::POST, "api/stores/k7m2q9xd/events", "GET, HEAD"),
    ] {
        let r = client
            .request(method.clone(), broker.url().join(path).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method} /{path}");
        assert_eq!(r.headers()["allow"], allow, "{method} /{path}");
    }
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

/// `API_PATHS` is docs/openapi.json: every path of the document, each with
/// its methods as `Allow` (HEAD wherever GET), each of those methods routed
/// to a function, and no path the document does not have (but the document's
/// own URL).
#[test]
fn api_paths_are_the_paths_of_openapi_json() {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json"))
            .unwrap(),
    )
    .unwrap();
    let mut documented = vec![("/api/openapi.json".to_string(), "GET, HEAD".to_string())];
    for (path, item) in doc["paths"].as_object().unwrap() {
        let mut allow = Vec::new();
        for method in ["get", "post", "delete", "put", "patch"] {
            if item.get(method).is_some() {
                allow.push(method.to_uppercase());
                if method == "get" {
                    allow.push("HEAD".into());
                }
            }
        }
        documented.push((path.replace("{id}", "k7m2q9xd"), allow.join(", ")));
    }
    for (path, allow) in &documented {
        match decide(&Method::PUT, path) {
            Decision::MethodNotAllowed(got) => assert_eq!(got, allow, "PUT {path}"),
            other => panic!("PUT {path}: {other:?}, not 405"),
        }
        for method in allow.split(", ") {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert!(
                matches!(decide(&method, path), Decision::Function(_)),
                "{method} {path} reaches a function"
            );
        }
    }
    for (pattern, allow) in API_PATHS {
        assert!(
            documented
                .iter()
                .any(|(path, a)| pattern.matches(path) && a == allow),
            "{pattern:?} ({allow}) is no path of docs/openapi.json"
        );
    }
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
async fn config_json_tells_the_dashboard_the_mail_catcher() {
    let seen: Seen = Default::default();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html>shell</html>").unwrap();
    for (mail_url, want) in [
        (
            Some("http://127.0.0.1:8025/".parse::<Url>().unwrap()),
            serde_json::json!({"mailUrl": "http://127.0.0.1:8025/"}),
        ),
        (None, serde_json::json!({})),
    ] {
        let broker = start_with(dist.path(), &seen, Default::default(), None, mail_url).await;
        let r = reqwest::get(broker.url().join("config.json").unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()["cache-control"], "no-cache");
        assert_eq!(r.json::<serde_json::Value>().await.unwrap(), want);
        broker.shutdown().await;
    }
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

/// One raw HTTP/1.1 request (no client-side normalisation of the path, as
/// `curl --path-as-is` sends it); the answer's status and whole text.
async fn raw(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// Issue 11 item 21: dot segments are refused before routing (the URL
/// parser resolved `/api/%2e%2e/metrics` to the function's `/metrics`,
/// unauthenticated), every answer has the production gateway's security
/// headers, `/api/` is an API 404, and a function that does not answer is a
/// 502 that names no internal address.
#[tokio::test]
async fn the_gateway_refuses_dot_segments_and_sets_security_headers() {
    let seen: Seen = Default::default();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html>dashboard</html>").unwrap();
    let broker = start_with(
        dist.path(),
        &seen,
        Default::default(),
        Some("create-store"),
        None,
    )
    .await;
    for path in [
        "/api/%2e%2e/metrics",
        "/api/%2E%2E/metrics",
        "/api/../metrics",
        "/api/stores/%2e%2e/%2e%2e/metrics",
        "/api/./stores",
        "/api/stores%2f..%2fmetrics",
        "/api/stores/.%2e/x",
        "/assets/..%5c..%5cetc",
    ] {
        let (status, answer) = raw(
            broker.addr,
            &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert!(
            answer.contains("application/problem+json")
                && answer.contains(r#""type":"https://storefleet.dev/problems/bad-request""#),
            "{path}: {answer}"
        );
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "no function saw a dot path"
    );

    let client = reqwest::Client::new();
    let (status, answer) = raw(
        broker.addr,
        "GET /api/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    assert!(
        answer.contains("application/problem+json") && !answer.contains("dashboard"),
        "{answer}"
    );

    for path in [
        "api/stores/abcd1234",
        "api/nope/x/y",
        "",
        "stores/abcd1234",
        "nope.js",
    ] {
        let r = client
            .get(broker.url().join(path).unwrap())
            .send()
            .await
            .unwrap();
        for (name, value) in local_broker::gateway::SECURITY_HEADERS {
            assert_eq!(
                r.headers().get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "/{path}: {name}"
            );
        }
    }

    let r = client
        .post(broker.url().join("api/stores").unwrap())
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body = r.text().await.unwrap();
    assert!(body.contains("create-store"), "{body}");
    assert!(
        body.contains(r#""type":"https://storefleet.dev/problems/bad-gateway""#),
        "{body}"
    );
    assert!(
        !body.contains("127.0.0.1") && !body.contains("http://"),
        "{body}"
    );
    broker.shutdown().await;
}

/// Slow clients cannot hold the listener: a connection that does not finish
/// its headers is closed after the header-read timeout, and connections
/// beyond the cap are closed at once (1,000 slow-loris connections were held).
#[tokio::test]
async fn slow_clients_are_cut_off_and_connections_are_capped() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let seen: Seen = Default::default();
    let dist = tempfile::tempdir().unwrap();
    let limits = server::Limits {
        header_read_timeout: Duration::from_millis(500),
        max_connections: 3,
    };
    let broker = start_with(dist.path(), &seen, limits, None, None).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = tokio::net::TcpStream::connect(broker.addr).await.unwrap();
        s.write_all(b"GET /api/stores HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // the fourth is over the cap: closed without an answer
    let mut extra = tokio::net::TcpStream::connect(broker.addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut buf = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), extra.read_to_end(&mut buf))
        .await
        .expect("closed at once")
        .unwrap_or(0);
    assert_eq!(n, 0, "{}", String::from_utf8_lossy(&buf));
    // the slow ones are closed by the header-read timeout
    let started = Instant::now();
    for mut s in held {
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
            .await
            .expect("a slow client is cut off")
            .ok();
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // and the listener serves again
    let r = reqwest::get(broker.url().join("healthz").unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    broker.shutdown().await;
}
