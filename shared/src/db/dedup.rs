//! Deduplication on (`source`, `id`), the identity of a CloudEvent.
//!
//! zero2prod's idempotency: the row is inserted with `ON CONFLICT DO
//! NOTHING` inside the transaction that makes the state change, so the change
//! and "this event is done" commit together or not at all. A handler first
//! asks [`already_processed`] to skip slow work for a redelivery, and then
//! [`claim`]s the event in its transaction; a `false` from `claim` means a
//! concurrent delivery of the same event committed first, and the handler
//! rolls back.

use cloudevents::AttributesReader;
use sqlx::{PgConnection, PgPool};

use crate::Result;

/// The identity of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventKey {
    pub source: String,
    pub id: String,
}

impl EventKey {
    pub fn of(event: &cloudevents::Event) -> Self {
        Self {
            source: event.source().to_string(),
            id: event.id().to_owned(),
        }
    }
}

/// Whether this event was handled before (outside a transaction: a cheap
/// early exit; [`claim`] is the authority).
pub async fn already_processed(pool: &PgPool, key: &EventKey) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM processed_events WHERE source = $1 AND id = $2) AS "processed!""#,
        key.source,
        key.id,
    )
    .fetch_one(pool)
    .await?)
}

/// Record the event as handled, in the caller's transaction. `false`: it
/// already was (the caller rolls back its own changes).
pub async fn claim(conn: &mut PgConnection, key: &EventKey) -> Result<bool> {
    let inserted = sqlx::query!(
        "INSERT INTO processed_events (source, id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        key.source,
        key.id,
    )
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Forget events older than `days` (the sweep calls it): redeliveries come
/// within minutes, so a week is far beyond any retry schedule.
pub async fn forget_older_than(pool: &PgPool, days: i32) -> Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM processed_events WHERE processed_at < now() - make_interval(days => $1)",
        days
    )
    .execute(pool)
    .await?
    .rows_affected())
}
