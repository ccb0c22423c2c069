//! The common runner of every function: `/healthz`, the body limit, a span
//! per request (continuing the caller's trace, [`crate::telemetry`]), and serving on `$PORT` (graceful shutdown on SIGTERM
//! and SIGINT) or through `lambda_http` when `AWS_LAMBDA_RUNTIME_API` is set.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::get;
use tower_http::trace::TraceLayer;

use crate::{Error, Result};

/// Largest request body any route accepts (16 KiB): a store request is a few
/// dozen bytes; anything larger is refused with 413 before it is parsed.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

async fn healthz() -> &'static str {
    "ok"
}

/// `/healthz`, the body limit and request logs around a function's router
/// (each `app(…)` applies it, so route tests see the same limits as production).
pub fn with_common_layers(router: Router) -> Router {
    router
        .route("/healthz", get(healthz))
        // axum answers an unknown path or method with an empty body; every
        // answer of the API is problem+json that says what to fix
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(record_status),
        )
}

/// The span of one request, `otel.name` its route (`POST /api/stores`,
/// `POST /events`): the child of the event's trace (`ce-traceparent`) or the
/// caller's (`traceparent`), else the root of a new trace. No header value
/// reaches it: `Authorization` is a secret.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |path| path.as_str());
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{} {route}", request.method()),
        otel.kind = "server",
        http.request.method = %request.method(),
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    crate::telemetry::continue_trace(
        &span,
        crate::telemetry::propagation::from_headers(request.headers()),
    );
    span
}

fn record_status(
    response: &axum::http::Response<axum::body::Body>,
    _latency: std::time::Duration,
    span: &tracing::Span,
) {
    span.record("http.response.status_code", response.status().as_u16());
}

async fn unknown_route(method: Method, uri: Uri) -> Error {
    Error::NotFound(format!(
        "no route {method} {}: see /api/openapi.json for the API",
        uri.path()
    ))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Error {
    Error::MethodNotAllowed(format!(
        "{} does not accept {method}: see /api/openapi.json for the methods it takes",
        uri.path()
    ))
}

/// Serve until SIGTERM/SIGINT, or run under Lambda. `router` is a
/// function's `app(…)`, which already carries [`with_common_layers`].
pub async fn serve(router: Router, address: std::net::SocketAddr) -> Result<()> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_http::run(router)
            .await
            .map_err(|err| Error::Internal(format!("lambda runtime: {err}")));
    }
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|err| {
            Error::Config(format!(
                "cannot listen on {address} (STOREFLEET_LISTEN_ADDRESS, PORT): {err}"
            ))
        })?;
    let bound = listener
        .local_addr()
        .map_err(|err| Error::Internal(format!("the listener's address: {err}")))?;
    tracing::info!(address = %bound, "listening");
    if let Some(file) = std::env::var_os(BOUND_ADDRESS_FILE) {
        write_bound_address(std::path::Path::new(&file), bound)?;
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|err| Error::Internal(format!("server: {err}")))?;
    tracing::info!("stopped");
    Ok(())
}

/// Where to write the address the server bound (`PORT=0`: the port the
/// system chose). The test platform starts every function on port 0 and
/// reads the port back, so no port is chosen free and taken by another
/// process before the function binds it.
pub const BOUND_ADDRESS_FILE: &str = "STOREFLEET_BOUND_ADDRESS_FILE";

/// `HOST:PORT` and a newline, written whole ([`write_bound_file`]).
fn write_bound_address(file: &std::path::Path, bound: std::net::SocketAddr) -> Result<()> {
    write_bound_file(file, &format!("{bound}\n")).map_err(|err| {
        Error::Config(format!(
            "cannot write the bound address to {} ({BOUND_ADDRESS_FILE}): {err}",
            file.display()
        ))
    })
}

/// Writes a `STOREFLEET_BOUND_ADDRESS_FILE` whole (a temporary file
/// renamed), so a reader never sees half of it; the local broker writes its
/// two listeners' lines with it too.
pub fn write_bound_file(file: &std::path::Path, text: &str) -> std::io::Result<()> {
    let partial = file.with_extension("partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, file)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
}
