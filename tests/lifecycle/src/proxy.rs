//! Faults between the broker and a function, for the tests. The broker is
//! given the proxy's URL instead of the function's:
//!
//! - [`Mode::Twice`]: every request is sent to the function twice, at the
//!   same time, and the first answer is returned. Knative promises
//!   at-least-once delivery; this makes "at least" "always twice",
//!   including the race of two copies in flight at once.
//! - [`Mode::Holdable`]: the API (`/api/...`) passes; while the switch is
//!   on, event deliveries are held and never reach the function — they are
//!   "in flight" in the broker, and lost with it when it is killed.
//! - [`Mode::Record`]: everything passes; the CloudEvent type and subject
//!   of each delivery are recorded (which events reached the function).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

#[derive(Clone)]
pub enum Mode {
    Twice,
    Holdable(Arc<AtomicBool>),
    Record(Deliveries),
}

/// `(ce-type, ce-subject)` of each delivery, in arrival order.
pub type Deliveries = Arc<std::sync::Mutex<Vec<(String, String)>>>;

pub struct Proxy {
    /// Give this to the broker instead of the function's URL.
    pub url: String,
    server: JoinHandle<()>,
}

#[derive(Clone)]
struct Target {
    base: String,
    http: reqwest::Client,
    mode: Mode,
}

impl Proxy {
    /// Listen on a free loopback port and forward to `target` (a base URL).
    pub async fn start(target: &str, mode: Mode) -> anyhow::Result<Proxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = axum::Router::new().fallback(forward).with_state(Target {
            base: target.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            mode,
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Proxy { url, server })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(State(target): State<Target>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 16 << 20).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let send = || {
        let mut request = target
            .http
            .request(parts.method.clone(), format!("{}{path}", target.base))
            .body(body.clone());
        for (name, value) in &parts.headers {
            if !is_hop_by_hop(name) {
                request = request.header(name, value);
            }
        }
        async move {
            let answer = request.send().await?;
            let status = answer.status();
            let headers = answer.headers().clone();
            let bytes = answer.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, bytes))
        }
    };
    let answer = match &target.mode {
        Mode::Twice => {
            let (first, second) = tokio::join!(send(), send());
            // The first copy's answer is what the broker sees; the second's
            // only matters if the first could not be delivered at all.
            first.or(second)
        }
        Mode::Holdable(hold) => {
            let is_api = parts.uri.path().starts_with("/api/") || parts.uri.path() == "/healthz";
            if !is_api && hold.load(Ordering::SeqCst) {
                // Never forwarded: held until the switch is off, then refused
                // (by then the broker that sent it is gone).
                while hold.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            send().await
        }
        Mode::Record(deliveries) => {
            let header = |name: &str| {
                parts
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            if parts.headers.contains_key("ce-type") {
                deliveries
                    .lock()
                    .expect("not poisoned")
                    .push((header("ce-type"), header("ce-subject")));
            }
            send().await
        }
    };
    match answer {
        Ok((status, headers, bytes)) => respond(status, &headers, bytes),
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

fn respond(status: StatusCode, headers: &HeaderMap, bytes: Bytes) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    for (name, value) in headers {
        if !is_hop_by_hop(name) {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    response
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host" | "content-length" | "connection" | "transfer-encoding" | "keep-alive"
    )
}
