//! A fault for the tests: every request the broker delivers to a function
//! is sent to it twice, at the same time, and the first answer is returned.
//! Knative promises at-least-once delivery; this makes "at least" "always
//! twice", including the race of two copies in flight at once.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

pub struct Duplicator {
    /// Give this to the broker instead of the function's URL.
    pub url: String,
    server: JoinHandle<()>,
}

#[derive(Clone)]
struct Target {
    base: String,
    http: reqwest::Client,
}

impl Duplicator {
    /// Listen on a free loopback port and forward to `target` (a base URL).
    pub async fn start(target: &str) -> anyhow::Result<Duplicator> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = axum::Router::new()
            .fallback(forward_twice)
            .with_state(Target {
                base: target.trim_end_matches('/').to_owned(),
                http: reqwest::Client::new(),
            });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Duplicator { url, server })
    }
}

impl Drop for Duplicator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward_twice(State(target): State<Target>, request: Request) -> Response {
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
    let (first, second) = tokio::join!(send(), send());
    // The first copy's answer is what the broker sees; the second's only
    // matters if the first could not be delivered at all.
    match first.or(second) {
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
