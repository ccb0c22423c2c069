//! The trace of the operation under way on a store, kept with the store
//! (`stores.trace_parent`, `stores.trace_state`).
//!
//! Events that carry no trace context of the store — the ApiServerSource's
//! (a Pod changed), the PingSource's sweep — still belong to the store's
//! provisioning or deletion. Decision: the work they cause for a store runs
//! in a span whose parent is the trace the store remembers (so a `ready`
//! decided from a Pod event, or a step re-driven by the sweep, is part of the
//! one trace of `POST /api/stores`), linked to the span of the event that
//! woke it. `POST /api/stores` remembers its trace; `DELETE` replaces it with
//! the deletion's.

use sqlx::PgPool;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::db;
use crate::telemetry::{continue_trace, propagation};

/// Remember the current span's trace as store `store_id`'s. Best effort:
/// a failure is logged (the chain works without it; only the trace breaks).
pub async fn remember(pool: &PgPool, store_id: &str) {
    let Some((parent, state)) = propagation::to_w3c(&tracing::Span::current().context()) else {
        return;
    };
    let written = db::trace::remember(
        pool,
        store_id,
        &parent,
        // the column's bound; a longer one is vendors' extra, not the trace
        state.as_deref().filter(|s| s.len() <= 512),
    )
    .await;
    if let Err(err) = written {
        tracing::warn!(store_id, error = %err, "the store's trace context not remembered");
    }
}

/// The trace context store `store_id` remembers (an empty context when none).
pub async fn recall(pool: &PgPool, store_id: &str) -> sqlx::Result<opentelemetry::Context> {
    let (parent, state) = db::trace::recall(pool, store_id).await?;
    let mut headers = axum::http::HeaderMap::new();
    for (name, value) in [("traceparent", parent), ("tracestate", state)] {
        if let Some(value) = value.and_then(|v| v.parse().ok()) {
            headers.insert(name, value);
        }
    }
    Ok(propagation::from_headers(&headers))
}

/// A span `name` for work on store `store_id` in the store's own trace,
/// linked to the current span (the event that caused the work). Without a
/// remembered trace, it continues the current one.
pub async fn span(pool: &PgPool, store_id: &str, name: &'static str) -> tracing::Span {
    let current = tracing::Span::current();
    let remembered = match recall(pool, store_id).await {
        Ok(cx) => cx,
        Err(err) => {
            tracing::warn!(store_id, error = %err, "the store's trace context not read");
            opentelemetry::Context::new()
        }
    };
    use opentelemetry::trace::TraceContextExt;
    if !remembered.span().span_context().is_valid() {
        let span = tracing::info_span!(
            "store",
            otel.name = name,
            store_id,
            trace_id = tracing::field::Empty
        );
        crate::telemetry::record_trace_id(&span);
        return span;
    }
    let span = tracing::info_span!(parent: None, "store", otel.name = name, store_id, trace_id = tracing::field::Empty);
    continue_trace(&span, remembered);
    span.add_link(current.context().span().span_context().clone());
    span
}
