//! The dev gateway: `/api/*` routed to the functions by method and path, and
//! the dashboard's built files with an SPA fallback.
//!
//! [`ROUTES`] is the single routing table; docs/local-broker.md prints it and
//! the production gateway (helm/platform) must route the same way.

use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

use crate::broker::Bus;

/// How a route's path is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathPattern {
    /// Exactly this path.
    Exact(&'static str),
    /// This prefix followed by exactly one non-empty segment.
    OneSegmentUnder(&'static str),
    /// This prefix followed by anything (at least one character).
    AnythingUnder(&'static str),
}

impl PathPattern {
    pub fn matches(self, path: &str) -> bool {
        match self {
            PathPattern::Exact(p) => path == p,
            PathPattern::OneSegmentUnder(p) => path
                .strip_prefix(p)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/')),
            PathPattern::AnythingUnder(p) => {
                path.strip_prefix(p).is_some_and(|rest| !rest.is_empty())
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiRoute {
    pub method: Method,
    pub path: PathPattern,
    /// The Knative Service that answers.
    pub function: &'static str,
}

/// The gateway's routing table, first match wins (docs/dev.md, docs/api.md).
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: Method::POST,
        path: PathPattern::Exact("/api/stores"),
        function: "create-store",
    },
    ApiRoute {
        method: Method::DELETE,
        path: PathPattern::OneSegmentUnder("/api/stores/"),
        function: "delete-store",
    },
    ApiRoute {
        method: Method::POST,
        path: PathPattern::Exact("/api/users"),
        function: "list-stores",
    },
    ApiRoute {
        method: Method::GET,
        path: PathPattern::AnythingUnder("/api/"),
        function: "list-stores",
    },
];

/// What the table says about a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Function(&'static str),
    /// The path is an API path but not for this method; `Allow` lists the methods.
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

pub fn decide(method: &Method, path: &str) -> Decision {
    // HEAD is answered like GET, as HTTP servers do.
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    let on_path: Vec<&ApiRoute> = ROUTES.iter().filter(|r| r.path.matches(path)).collect();
    if let Some(r) = on_path.iter().find(|r| r.method == method) {
        return Decision::Function(r.function);
    }
    if on_path.is_empty() {
        Decision::NotFound
    } else {
        let mut allow: Vec<Method> = on_path.iter().map(|r| r.method.clone()).collect();
        allow.dedup();
        Decision::MethodNotAllowed(allow)
    }
}

/// An RFC 9457 problem, as the functions answer.
pub fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// Largest request body the gateway passes on (API bodies are small JSON).
pub const MAX_BODY: usize = 1024 * 1024;

/// Headers that describe one hop, not the message (RFC 9110 section 7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    for h in HOP_BY_HOP {
        out.remove(*h);
    }
    out
}

/// `/api` and `/api/*`.
pub async fn api(State(bus): State<Bus>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let function = match decide(&parts.method, &path) {
        Decision::Function(f) => f,
        Decision::MethodNotAllowed(allow) => {
            let allow = allow
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            let mut r = problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                &format!(
                    "{} {path} is not an API route; allowed: {allow}",
                    parts.method
                ),
            );
            r.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_str(&allow).expect("method names are valid header text"),
            );
            return r;
        }
        Decision::NotFound => {
            return problem(
                StatusCode::NOT_FOUND,
                "Not found",
                &format!("no API route for {path}"),
            );
        }
    };
    let Some(base) = bus.endpoints().functions.get(function) else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Function not configured",
            &format!(
                "{function} has no address: start the local broker with --function {function}=URL or --run {function}=PATH"
            ),
        );
    };
    let body: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large",
                &format!("the gateway accepts at most {MAX_BODY} bytes"),
            );
        }
    };
    let mut url = base
        .join(path.trim_start_matches('/'))
        .expect("an API path joins onto a base URL");
    url.set_query(parts.uri.query());
    let mut headers = end_to_end(&parts.headers);
    if let Some(host) = parts.headers.get(header::HOST) {
        headers.insert(HeaderName::from_static("x-forwarded-host"), host.clone());
    }
    headers.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static("http"),
    );
    let client = gateway_client();
    let answer = client
        .request(parts.method.clone(), url.clone())
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            return problem(
                StatusCode::BAD_GATEWAY,
                "Function unreachable",
                &format!("{function} did not answer at {url}: {e}"),
            );
        }
    };
    let status = answer.status();
    let headers = end_to_end(answer.headers());
    let bytes = match answer.bytes().await {
        Ok(b) => b,
        Err(e) => {
            return problem(
                StatusCode::BAD_GATEWAY,
                "Function answer cut short",
                &format!("{function}: {e}"),
            );
        }
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

fn gateway_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            // Location and redirects belong to the browser, not the gateway.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client with default TLS settings")
    })
}

/// Cache policy of the dashboard's files: Vite puts content-hashed files
/// under `/assets/`, which never change (immutable, one year); everything
/// else, index.html above all, must be revalidated so a new build is seen.
pub fn cache_control(path: &str) -> &'static str {
    if path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// Serves the dashboard: the file if it exists; for paths without a file
/// extension (client-side routes such as `/stores/abc`) `index.html`;
/// otherwise 404.
pub async fn dashboard(dir: PathBuf, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let index = dir.join("index.html");
    if !index.is_file() {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Dashboard not built",
            &format!(
                "{} has no index.html: build the dashboard (npm run build in dashboard/) or pass --dashboard-dir",
                dir.display()
            ),
        );
    }
    let looks_like_file = Path::new(&path)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains('.'));
    let mut response = if looks_like_file {
        ServeDir::new(&dir)
            .oneshot(request)
            .await
            .map(IntoResponse::into_response)
            .unwrap_or_else(|e| match e {})
    } else {
        // Directory paths and client-side routes: the SPA shell.
        ServeFile::new(&index)
            .oneshot(request)
            .await
            .map(IntoResponse::into_response)
            .unwrap_or_else(|e| match e {})
    };
    let served_path = if looks_like_file {
        path.as_str()
    } else {
        "/index.html"
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control(served_path)),
        );
    }
    response
}
