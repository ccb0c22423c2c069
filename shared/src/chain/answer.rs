//! What a handler answers the broker, by the Knative data-plane contract:
//! `2xx` done (never retried); `400` a bad event (never retried, straight to
//! the dead-letter sink); `429` and `5xx` retry later with backoff.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::metrics::Metrics;

/// A handled event: answered `202 Accepted` (no reply event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The event did its work (the state moved, or was confirmed).
    Done,
    /// Seen before (same `source` and `id`): nothing done again.
    Duplicate,
    /// Nothing to do: the store is gone, or already past this step (a late
    /// or repeated event never moves a store backwards).
    Ignored(String),
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored(_) => "ignored",
        }
    }
}

/// An event not handled; the status tells the broker whether to retry.
#[derive(Debug)]
pub enum Refusal {
    /// `400`: malformed, wrong type for this endpoint, no store id. Retrying
    /// cannot help; Knative sends it to the dead-letter sink at once.
    BadEvent(String),
    /// `429`: back-pressure (helm cap reached, the release locked by another
    /// helm). The broker retries with backoff.
    RetryLater(String),
    /// `503`: a dependency (the database, the Kubernetes API) did not answer.
    Unavailable(String),
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::BadEvent(_) => StatusCode::BAD_REQUEST,
            Refusal::RetryLater(_) => StatusCode::TOO_MANY_REQUESTS,
            Refusal::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Refusal::BadEvent(d) | Refusal::RetryLater(d) | Refusal::Unavailable(d) => d,
        }
    }
}

impl From<Error> for Refusal {
    fn from(err: Error) -> Self {
        match err {
            Error::BadRequest(d) | Error::Validation(d) => Refusal::BadEvent(d),
            // a constraint or a column the event's values cannot satisfy:
            // retrying the same event fails the same way, so 400 (straight to
            // the dead-letter sink) instead of seven retries of a 503
            Error::Database(db) if crate::error::database_refused_input(&db) => {
                tracing::warn!(error = %db, "the database refused the event's values");
                Refusal::BadEvent(
                    "the event's values cannot be stored (a length or format the platform does not accept)"
                        .into(),
                )
            }
            Error::Kube(kube) => Refusal::from(kube),
            other => {
                // the cause is logged; the broker sees a retryable 503 whose
                // body (knativeerrordata at the dead-letter sink) names it
                tracing::error!(error = %other, "event handler failed");
                Refusal::Unavailable(other.to_string())
            }
        }
    }
}

impl From<storefleet_kube::Error> for Refusal {
    fn from(err: storefleet_kube::Error) -> Self {
        use storefleet_kube::Error as K;
        match err {
            K::Busy { .. } | K::ReleaseLocked { .. } => Refusal::RetryLater(err.to_string()),
            other => Refusal::Unavailable(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(err: sqlx::Error) -> Self {
        Refusal::from(Error::Database(err))
    }
}

/// The response for a handler's result, counted in the metrics.
pub fn respond(metrics: &Metrics, event_type: &str, result: Result<Outcome, Refusal>) -> Response {
    match result {
        Ok(outcome) => {
            metrics
                .events_handled
                .with_label_values(&[event_type, outcome.label()])
                .inc();
            if let Outcome::Ignored(why) = &outcome {
                tracing::info!(event_type, why = %why, "event ignored");
            }
            StatusCode::ACCEPTED.into_response()
        }
        Err(refusal) => {
            let status = refusal.status();
            metrics
                .events_failed
                .with_label_values(&[event_type, status.as_str()])
                .inc();
            tracing::warn!(event_type, status = status.as_u16(), detail = %refusal.detail(), "event refused");
            problem(status, refusal.detail())
        }
    }
}

/// A problem+json body: at the dead-letter sink it is `knativeerrordata`.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    let (title, slug) = match status {
        StatusCode::BAD_REQUEST => ("Bad event", "bad-event"),
        StatusCode::TOO_MANY_REQUESTS => ("Busy, retry later", "busy"),
        StatusCode::PAYLOAD_TOO_LARGE => ("Event too large", "payload-too-large"),
        _ => ("Temporarily unavailable", "unavailable"),
    };
    let body = crate::error::Problem {
        kind: format!("{}{slug}", crate::error::PROBLEM_BASE),
        title: title.into(),
        status: status.as_u16(),
        detail: detail.into(),
    };
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/problem+json"),
    );
    response
}
