//! The one error type of the functions and its HTTP answer:
//! `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`.
//!
//! The `detail` says what to fix; internal errors never leak their cause to
//! the client (it is logged instead), so no SQL, Secret value or token can
//! reach an answer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Retry-After` of every `503` (seconds): about the pool's acquire timeout,
/// so a client that waits this long finds a recovered database.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// Base of every problem `type` URI.
pub const PROBLEM_BASE: &str = "https://storefleet.dev/problems/";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Validation(String),
    /// `401` without Bearer credentials (none, or another scheme).
    #[error("{0}")]
    Unauthorized(String),
    /// `401` with a Bearer token that is malformed, unknown or whose user is gone
    /// (RFC 6750 §3.1 `invalid_token`).
    #[error("{0}")]
    InvalidToken(String),
    /// `400` for a malformed Authorization, e.g. the header repeated
    /// (RFC 6750 §3.1 `invalid_request`).
    #[error("{0}")]
    InvalidAuthorization(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    IdempotencyKeyReused(String),
    #[error("{0}")]
    EngineDisabled(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    /// `429` with `Retry-After` (seconds): a rate limit of [`crate::rate_limit`].
    #[error("{detail}")]
    RateLimited { detail: String, retry_after: u64 },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("kubernetes: {0}")]
    Kube(#[from] storefleet_kube::Error),
    #[error("internal: {0}")]
    Internal(String),
}

/// A request path's id that is no store id names no store: `404` with what
/// an id looks like (not a `400`), before any query.
impl From<storefleet_domain::InvalidStoreId> for Error {
    fn from(invalid: storefleet_domain::InvalidStoreId) -> Self {
        Error::NotFound(format!(
            "no store with id {:?}: store ids are 8 characters of [a-z0-9]",
            invalid.0
        ))
    }
}

/// The body of a problem answer (RFC 9457 §3.1).
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `https://storefleet.dev/problems/quota-exceeded`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do about it.
    pub detail: String,
}

impl Error {
    /// HTTP status, problem slug and title.
    fn classify(&self) -> (StatusCode, &'static str, &'static str) {
        use Error::*;
        match self {
            BadRequest(_) | InvalidAuthorization(_) => {
                (StatusCode::BAD_REQUEST, "bad-request", "Bad request")
            }
            Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "The request is not valid",
            ),
            Unauthorized(_) | InvalidToken(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Missing or wrong token",
            ),
            Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
            QuotaExceeded(_) => (
                StatusCode::FORBIDDEN,
                "quota-exceeded",
                "Store quota exceeded",
            ),
            NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            IdempotencyKeyReused(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused with a different request",
            ),
            EngineDisabled(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "engine-disabled",
                "Store type not enabled",
            ),
            PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
            ),
            UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            Unavailable(_) | Kube(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable",
            ),
            Database(err) if database_unavailable(err) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable",
            ),
            Config(_) | Database(_) | Migrate(_) | Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// The `WWW-Authenticate` challenge of an authentication failure (RFC 6750 §3):
    /// every 401 names the Bearer scheme; `error=` only when Bearer
    /// credentials were sent and were wrong.
    fn challenge(&self) -> Option<&'static str> {
        match self {
            Error::Unauthorized(_) => Some(r#"Bearer realm="storefleet""#),
            Error::InvalidToken(_) => Some(r#"Bearer realm="storefleet", error="invalid_token""#),
            Error::InvalidAuthorization(_) => {
                Some(r#"Bearer realm="storefleet", error="invalid_request""#)
            }
            _ => None,
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.classify();
        let detail = if status.is_server_error() {
            // the cause goes to the log, not to the client
            match self {
                Error::Unavailable(msg) => msg.clone(),
                Error::Kube(_) => {
                    "the Kubernetes API did not answer as expected; try again later".into()
                }
                Error::Database(_) if status == StatusCode::SERVICE_UNAVAILABLE => {
                    "the database is not reachable right now; try again later".into()
                }
                _ => "something went wrong on the server; it has been logged".into(),
            }
        } else {
            self.to_string()
        };
        Problem {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::error!(error = %self, "request failed");
        }
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        if let Error::RateLimited { retry_after, .. } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if let Some(challenge) = self.challenge() {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// Whether a database error is an outage (retry later) rather than a bug:
/// the server is down, unreachable, refusing connections, shutting down, the
/// database is gone, or the pool found no free connection in time. These are
/// `503` + `Retry-After`, never `500`.
pub fn database_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // SQLSTATE classes (PostgreSQL appendix A): 08 connection
            // exception, 53 insufficient resources (too many connections, disk
            // full), 57P01-57P05 shutdown/cannot connect now/idle timeouts,
            // 3D000 the database does not exist (dropped), 40001/40P01 a
            // serialization failure or deadlock (retrying succeeds)
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "3D000"
                || code == "40001"
                || code == "40P01"
        }),
        _ => false,
    }
}

/// Whether a database error is permanent for the input that caused it: a
/// constraint the row violates (class 23), data the column cannot hold
/// (class 22), or a program limit (class 54: e.g. an index row too large).
/// Retrying the same input fails the same way.
pub fn database_refused_input(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("23") || code.starts_with("22") || code.starts_with("54")
        }),
        _ => false,
    }
}
