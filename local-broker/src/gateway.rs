//! The dev gateway: `/api/*` routed to the functions by method and path, and
//! the dashboard's built files with an SPA fallback.
//!
//! [`ROUTES`] is the single routing table; docs/local-broker.md prints it and
//! the production gateway (nginx with dashboard/nginx/storefleet.conf.template,
//! deployed by helm/platform) must route the same way.

use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reqwest::Url;
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
    /// The prefix, one non-empty segment, then exactly this suffix
    /// (`/api/stores/{id}/events`).
    SegmentBetween(&'static str, &'static str),
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
            PathPattern::SegmentBetween(p, suffix) => path
                .strip_prefix(p)
                .and_then(|rest| rest.strip_suffix(suffix))
                .is_some_and(|segment| !segment.is_empty() && !segment.contains('/')),
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

/// The API's paths and the `Allow` of each (docs/openapi.json, in its order
/// GET, POST, DELETE; HEAD wherever GET, as it is answered like GET), for a
/// method no route takes: the routing table above is coarser (every GET goes
/// to list-stores), so it cannot say which methods a path takes. A path not
/// listed here is a 404 for any method. `/api/openapi.json` is the document
/// itself, served by list-stores.
pub const API_PATHS: &[(PathPattern, &str)] = &[
    (PathPattern::Exact("/api/stores"), "GET, HEAD, POST"),
    (
        PathPattern::OneSegmentUnder("/api/stores/"),
        "GET, HEAD, DELETE",
    ),
    (
        PathPattern::SegmentBetween("/api/stores/", "/events"),
        "GET, HEAD",
    ),
    (
        PathPattern::SegmentBetween("/api/stores/", "/credentials"),
        "GET, HEAD",
    ),
    (PathPattern::Exact("/api/users"), "POST"),
    (PathPattern::Exact("/api/me"), "GET, HEAD"),
    (PathPattern::Exact("/api/engines"), "GET, HEAD"),
    (PathPattern::Exact("/api/openapi.json"), "GET, HEAD"),
];

/// What the table says about a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Function(&'static str),
    /// The path is an API path but not for this method; `Allow` lists the methods.
    MethodNotAllowed(&'static str),
    NotFound,
}

pub fn decide(method: &Method, path: &str) -> Decision {
    // HEAD is answered like GET, as HTTP servers do.
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    if let Some(r) = ROUTES
        .iter()
        .find(|r| r.method == method && r.path.matches(path))
    {
        return Decision::Function(r.function);
    }
    match API_PATHS.iter().find(|(p, _)| p.matches(path)) {
        Some((_, allow)) => Decision::MethodNotAllowed(allow),
        None => Decision::NotFound,
    }
}

/// The problem `type` of a status: the functions' own for the statuses they
/// share with the gateway (taken from shared/src/error.rs's classification,
/// so the two cannot drift), so a client reads a 405 or a 404 the same
/// whoever answered it; `bad-gateway` is the gateway's alone.
pub fn problem_type(status: StatusCode) -> String {
    use storefleet_shared::error::{Error, PROBLEM_BASE};
    let shared = match status {
        StatusCode::BAD_REQUEST => Error::BadRequest(String::new()),
        StatusCode::NOT_FOUND => Error::NotFound(String::new()),
        StatusCode::METHOD_NOT_ALLOWED => Error::MethodNotAllowed(String::new()),
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge(String::new()),
        StatusCode::TOO_MANY_REQUESTS => Error::RateLimited {
            detail: String::new(),
            retry_after: 0,
        },
        StatusCode::SERVICE_UNAVAILABLE => Error::Unavailable(String::new()),
        StatusCode::BAD_GATEWAY => return format!("{PROBLEM_BASE}bad-gateway"),
        _ => return "about:blank".into(),
    };
    shared.problem().kind
}

/// An RFC 9457 problem, as the functions answer.
pub fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": problem_type(status),
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
            let mut r = problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                &format!(
                    "{path} does not accept {}; it takes {allow} (see /api/openapi.json)",
                    parts.method
                ),
            );
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
            return r;
        }
        Decision::NotFound => {
            return problem(
                StatusCode::NOT_FOUND,
                "Not found",
                &format!("no API path {path}: see /api/openapi.json for the API"),
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
    // the function's address and the error stay in the log: a client is
    // told which function, not where it runs
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(%url, error = %e, "{function} did not answer");
            return problem(
                StatusCode::BAD_GATEWAY,
                "Function unreachable",
                &format!("{function} did not answer; try again shortly"),
            );
        }
    };
    let status = answer.status();
    let headers = end_to_end(answer.headers());
    let bytes = match answer.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(%url, error = %e, "{function}'s answer was cut short");
            return problem(
                StatusCode::BAD_GATEWAY,
                "Function answer cut short",
                &format!("{function}'s answer was cut short; try again shortly"),
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

/// `GET /config.json`: what the dashboard learns from where it is served,
/// the same document the production gateway renders (dashboard/nginx):
/// `{"mailUrl": "<the mail catcher's web UI>"}`, or `{}` without one (the
/// dashboard then shows no Mail link). Revalidated like index.html.
pub fn dashboard_config(mail_url: Option<&Url>) -> Response {
    let body = match mail_url {
        Some(url) => serde_json::json!({ "mailUrl": url.as_str() }),
        None => serde_json::json!({}),
    };
    ([(header::CACHE_CONTROL, "no-cache")], axum::Json(body)).into_response()
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
        // the directory is in the log, not in the answer (a file system path)
        tracing::warn!(dir = %dir.display(), "the dashboard directory has no index.html");
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Dashboard not built",
            "the dashboard directory (--dashboard-dir) has no index.html: build the dashboard (npm run build in dashboard/)",
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

/// The headers the production gateway (dashboard/nginx/security-headers.conf)
/// sets on every answer; a function's own value wins.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
];

/// Whether a path has a `.` or `..` segment, also percent-encoded
/// (`%2e%2e`), or a segment hiding a separator (`%2f`, `%5c`, `\\`). Such a
/// path is refused before routing: routing `/api/%2e%2e/metrics` as an API
/// path and then letting the URL parser resolve the dots served the
/// function's unauthenticated `/metrics`.
pub fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        decoded == "." || decoded == ".." || decoded.contains(['/', '\\'])
    })
}

/// Every answer of the listener: dot segments refused (400) before any
/// route sees the path, and the security headers added.
pub async fn guard(request: Request, next: axum::middleware::Next) -> Response {
    let mut response = if has_dot_segment(request.uri().path()) {
        problem(
            StatusCode::BAD_REQUEST,
            "Bad path",
            "the path has a . or .. segment (or an encoded / or \\): send the normalised path",
        )
    } else {
        next.run(request).await
    };
    for (name, value) in SECURITY_HEADERS {
        response
            .headers_mut()
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
