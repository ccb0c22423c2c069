//! The activity log of a store (`store_events`): what happened to it, in
//! order, as the API shows it (`GET /api/stores/{id}/events`) and as the
//! chain reads it back (was the step done, was it re-driven lately).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::Result;
use crate::domain::ActivityKind;

// One entry of a store's activity log, as the API shows it (its schema
// keeps the API document's name `StoreEvent`; a doc comment would become
// its description there).
#[derive(Debug, Clone, Serialize, serde::Deserialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = StoreEvent)]
pub struct ActivityEntry {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub message: String,
    pub detail: Option<serde_json::Value>,
}

/// Append to the store's activity log.
pub async fn append(
    conn: &mut PgConnection,
    store_id: &str,
    kind: ActivityKind,
    message: &str,
    detail: Option<serde_json::Value>,
) -> Result<()> {
    sqlx::query!(
        "INSERT INTO store_events (store_id, kind, message, detail) VALUES ($1, $2, $3, $4)",
        store_id,
        kind.as_str(),
        message,
        detail,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The activity log of a store, oldest first.
pub async fn list(pool: &PgPool, store_id: &str) -> Result<Vec<ActivityEntry>> {
    Ok(sqlx::query_as!(
        ActivityEntry,
        "SELECT at, kind, message, detail FROM store_events WHERE store_id = $1 ORDER BY id",
        store_id
    )
    .fetch_all(pool)
    .await?)
}

/// The newest entry's kind and message (`None` for an empty log).
pub async fn last(
    conn: &mut PgConnection,
    store_id: &str,
) -> Result<Option<(ActivityKind, String)>> {
    Ok(sqlx::query!(
        r#"SELECT kind AS "kind: ActivityKind", message FROM store_events
           WHERE store_id = $1 ORDER BY id DESC LIMIT 1"#,
        store_id
    )
    .fetch_optional(conn)
    .await?
    .map(|row| (row.kind, row.message)))
}

/// Whether the store's activity log has an entry of `kind` — e.g.
/// `installed`: create-store finished its step (the namespace, credentials
/// and release applied; `domain::step::INSTALL`'s mark).
pub async fn has(pool: &PgPool, store_id: &str, kind: ActivityKind) -> Result<bool> {
    // the column's name is the statement's first use's (the offline data in
    // .sqlx/ is keyed by the statement's text)
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM store_events WHERE store_id = $1 AND kind = $2) AS "installed!""#,
        store_id,
        kind.as_str(),
    )
    .fetch_one(pool)
    .await?)
}

/// Whether the sweep re-drove the store's step (a `redriven` entry) less
/// than `within` ago.
pub async fn redriven_within(
    pool: &PgPool,
    store_id: &str,
    within: std::time::Duration,
) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM store_events WHERE store_id = $1 AND kind = 'redriven'
                          AND at > now() - make_interval(secs => $2)) AS "recent!""#,
        store_id,
        within.as_secs_f64(),
    )
    .fetch_one(pool)
    .await?)
}

/// Whether the owner's last delete request (`delete-requested` or
/// `delete-re-requested`) is stale: none at all, older than `stale_after`,
/// or followed by an `emit-failed` (its event was not sent).
pub async fn delete_request_stale(
    conn: &mut PgConnection,
    store_id: &str,
    stale_after: std::time::Duration,
) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"WITH last AS (
               SELECT max(id) AS id, max(at) AS at FROM store_events
               WHERE store_id = $1 AND kind IN ('delete-requested', 'delete-re-requested'))
           SELECT (last.id IS NULL
               OR last.at < now() - make_interval(secs => $2)
               OR EXISTS (SELECT 1 FROM store_events
                          WHERE store_id = $1 AND kind = 'emit-failed' AND id > last.id)) AS "stale!"
           FROM last"#,
        store_id,
        stale_after.as_secs_f64(),
    )
    .fetch_one(conn)
    .await?)
}
