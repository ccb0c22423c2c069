//! The trace context a store remembers (`stores.trace_parent`,
//! `stores.trace_state`; what they mean: `crate::telemetry::store_trace`).

use sqlx::PgPool;

/// Remember `parent` (a W3C `traceparent`) and `state` (`tracestate`) as
/// store `store_id`'s trace.
pub async fn remember(
    pool: &PgPool,
    store_id: &str,
    parent: &str,
    state: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE stores SET trace_parent = $2, trace_state = $3 WHERE id = $1",
        store_id,
        parent,
        state,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The `traceparent` and `tracestate` store `store_id` remembers (both
/// `None` when it remembers none, or does not exist).
pub async fn recall(
    pool: &PgPool,
    store_id: &str,
) -> sqlx::Result<(Option<String>, Option<String>)> {
    Ok(sqlx::query!(
        "SELECT trace_parent, trace_state FROM stores WHERE id = $1",
        store_id
    )
    .fetch_optional(pool)
    .await?
    .map(|row| (row.trace_parent, row.trace_state))
    .unwrap_or_default())
}
