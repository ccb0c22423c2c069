//! Helpers for the functions' integration tests (real PostgreSQL through
//! `#[sqlx::test]`; nothing here is a mock of the database).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response};
use sqlx::PgPool;

use crate::Config;
use crate::auth::{self, Caller};
use crate::chain::oidc::{DeliveryAuth, Signer, trigger_subject};
use crate::config::{DeliveryAuthConfig, JwksLocation};
use crate::context::Context;
use crate::events::Emitter;

pub mod lambda;

/// The configuration tests run with (defaults of docs/development.md).
pub fn config(vars: &[(&str, &str)]) -> Config {
    let mut all: Vec<(String, String)> = vec![("DATABASE_URL".into(), "postgres://unused/".into())];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_lookup(|name| {
        all.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("test configuration")
}

/// A context on `pool` with no event sink.
pub fn context(pool: PgPool, config: Config) -> Context {
    let metrics = crate::metrics::Metrics::new().expect("metrics");
    let cluster = crate::chain::Cluster::new(&config, &metrics).expect("cluster settings");
    Context {
        pool,
        rate_limits: Arc::new(crate::rate_limit::RateLimits::new(config.rate_limits)),
        config: Arc::new(config),
        emitter: Emitter::without_sink("test"),
        metrics,
        cluster,
        delivery_auth: Some(DeliveryAuth::with_keys(
            DeliveryAuthConfig {
                issuer: delivery_signer().issuer().to_owned(),
                audience: TEST_AUDIENCE.to_owned(),
                jwks: JwksLocation::Discovery,
                subjects: vec![crate::config::DEFAULT_DELIVERY_SUBJECTS.to_owned()],
            },
            delivery_signer().jwks().clone(),
        )),
    }
}

/// The audience the test context's event endpoints accept.
pub const TEST_AUDIENCE: &str = "storefleet/test";

/// The issuer of the test context's delivery tokens (one key per test process).
pub fn delivery_signer() -> &'static Signer {
    static SIGNER: std::sync::OnceLock<Signer> = std::sync::OnceLock::new();
    SIGNER.get_or_init(|| Signer::generate("https://issuer.storefleet.test"))
}

/// `Bearer <token>` as the broker sends it to the test context's `/events`
/// and `/dead-letters`.
pub fn delivery_authorization() -> String {
    format!(
        "Bearer {}",
        delivery_signer().token(&trigger_subject("storefleet", "test"), TEST_AUDIENCE)
    )
}

/// The URL of the database `#[sqlx::test]` made for this test (on the server
/// of `DATABASE_URL`), for a function binary the test starts.
pub fn database_url(pool: &PgPool) -> String {
    let server = std::env::var("DATABASE_URL").expect("DATABASE_URL (make test-rust sets it)");
    let database = pool
        .connect_options()
        .get_database()
        .expect("the test database's name")
        .to_owned();
    let (without_query, query) = match server.split_once('?') {
        Some((url, query)) => (url.to_owned(), format!("?{query}")),
        None => (server.clone(), String::new()),
    };
    let authority_start = without_query.find("://").map_or(0, |scheme| scheme + 3);
    let authority_end = without_query[authority_start..]
        .find('/')
        .map_or(without_query.len(), |slash| authority_start + slash);
    format!("{}/{database}{query}", &without_query[..authority_end])
}

/// A user and their bearer token.
pub async fn user(pool: &PgPool, name: &str, max_stores: i32, is_admin: bool) -> (Caller, String) {
    auth::create_user(pool, name, max_stores, is_admin)
        .await
        .expect("create test user")
}

/// Split a response into status, headers and JSON body.
pub async fn read_json(
    response: Response<Body>,
) -> (
    axum::http::StatusCode,
    axum::http::HeaderMap,
    serde_json::Value,
) {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        })
    };
    (status, headers, json)
}

/// A request with an optional bearer token and JSON body.
pub fn request(method: &str, uri: &str, token: Option<&str>, body: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned())),
        None => builder.body(Body::empty()),
    }
    .expect("request")
}

/// Assert the RFC 9457 shape and return the body.
pub fn assert_problem(
    status: axum::http::StatusCode,
    headers: &axum::http::HeaderMap,
    body: &serde_json::Value,
    expected: u16,
    slug: &str,
) {
    assert_eq!(status.as_u16(), expected, "{body}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{body}"
    );
    assert_eq!(
        body["type"],
        format!("{}{slug}", crate::error::PROBLEM_BASE),
        "{body}"
    );
    assert_eq!(body["status"], expected, "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}

/// Rows of each table, to assert that a refused request changed nothing.
pub async fn table_counts(pool: &PgPool) -> (i64, i64, i64) {
    // Test support, not the data layer: the one dynamic statement left, since
    // a table name cannot be a bound parameter (so no query macro can take it);
    // `table` is one of the three literals below.
    let count = |table: &'static str| async move {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(pool)
                .await
                .expect("count");
        n
    };
    (
        count("stores").await,
        count("store_events").await,
        count("users").await,
    )
}

/// The IPv4 addresses a socket in LISTEN state is bound to on `port`, from
/// the kernel's own table (`/proc/net/tcp`): what a connection from the
/// network could reach, which a connect to 127.0.0.1 cannot tell.
pub fn listening_addresses(port: u16) -> Vec<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (address, local_port) = fields.get(1)?.split_once(':')?;
            let listening = fields.get(3)? == &"0A";
            (listening && u16::from_str_radix(local_port, 16).ok()? == port).then(|| {
                let raw = u32::from_str_radix(address, 16).unwrap_or_default();
                // the kernel prints the address in host byte order (little-endian)
                std::net::Ipv4Addr::from(raw.swap_bytes()).to_string()
            })
        })
        .collect()
}

/// Start a function's built binary on port 0 (it writes the port it bound
/// to `STOREFLEET_BOUND_ADDRESS_FILE`: no port is picked free and taken by
/// another process first), wait for `/healthz`, check it listens on loopback
/// only (as in development and tests: `STOREFLEET_LISTEN_ADDRESS=127.0.0.1`),
/// send SIGTERM and return its exit status (the caller asserts 0). Needs
/// `DATABASE_URL` (the test database server) in the environment.
pub fn start_answer_and_stop(binary: &str) -> std::process::ExitStatus {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::{Duration, Instant};

    let bound_file = std::env::temp_dir().join(format!(
        "bound-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    let child = std::process::Command::new(binary)
        .env("PORT", "0")
        .env(crate::server::BOUND_ADDRESS_FILE, &bound_file)
        // nothing listens there: starting must not need the broker
        .env("K_SINK", "http://127.0.0.1:9/")
        // the delivery keys are read on the first delivery, not at start
        .env("STOREFLEET_EVENTS_OIDC_ISSUER", "http://127.0.0.1:9")
        .env("STOREFLEET_EVENTS_OIDC_AUDIENCE", TEST_AUDIENCE)
        .env("RUST_LOG", "warn")
        .env("STOREFLEET_LISTEN_ADDRESS", "127.0.0.1")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .spawn()
        .expect("start the binary");
    // A failed assertion below must not leave the binary running (it would
    // hold the test's output pipe open, and its port).
    let mut child = KillOnDrop(child);
    let child = &mut child.0;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut port = None;
    let answer = loop {
        if port.is_none() {
            port = std::fs::read_to_string(&bound_file)
                .ok()
                .and_then(|text| text.trim().parse::<SocketAddr>().ok())
                .map(|bound| bound.port());
        }
        if let Some(port) = port
            && let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port))
        {
            stream
                .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .expect("send GET /healthz");
            let mut answer = String::new();
            stream
                .read_to_string(&mut answer)
                .expect("read the answer to GET /healthz");
            break answer;
        }
        if let Some(status) = child.try_wait().expect("the binary's status") {
            panic!("{binary} exited before answering: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "{binary} did not answer /healthz within 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        answer.starts_with("HTTP/1.0 200") && answer.ends_with("ok"),
        "{answer}"
    );
    let _ = std::fs::remove_file(&bound_file);
    let port = port.expect("the port the binary bound");
    assert_eq!(
        listening_addresses(port),
        vec!["127.0.0.1".to_owned()],
        "{binary} must listen on loopback only"
    );
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill -TERM");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("the binary's status") {
            return status;
        }
        if Instant::now() > deadline {
            panic!("{binary} did not stop within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills (and reaps) a child process still running when dropped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A real CloudEvents sink on 127.0.0.1 that accepts every event and counts
/// them by `ce-type`: an [`Emitter`] for route tests that count what a
/// request sends (`Emitter::new(&url, …)`).
pub async fn counting_sink() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let received: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let seen = received.clone();
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let seen = seen.clone();
        async move {
            let ty = headers
                .get("ce-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?")
                .to_owned();
            seen.lock().expect("sink log").push(ty);
            axum::http::StatusCode::ACCEPTED
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port for the sink");
    let url = format!("http://{}/", listener.local_addr().expect("sink address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("sink serves") });
    (url, received)
}
