//! The store: its row, its JSON view, and the repository functions every
//! function uses. Status changes are guarded updates (`WHERE status = ANY(…)`),
//! so a late or repeated event can never move a store backwards.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::config::Config;
use crate::domain::{ActivityKind, Engine, Status, StoreId};
use crate::{Error, Result};

/// A row of `stores`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Store {
    pub id: StoreId,
    pub owner_id: Uuid,
    pub name: String,
    #[sqlx(rename = "type")]
    pub engine: Engine,
    pub namespace: String,
    pub status: Status,
    pub url: String,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ready_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
}

const COLUMNS: &str = "id, owner_id, name, type, namespace, status, url, failure_reason, created_at, \
                       updated_at, ready_at, deleted_at, idempotency_key, request_hash";

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StoreUrls {
    pub storefront: String,
    pub admin: String,
}

/// A store as the API shows it (docs/api.md).
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StoreView {
    #[schema(example = "k7m2q9xd")]
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    #[schema(example = "woocommerce")]
    pub engine: String,
    #[schema(example = "provisioning")]
    pub status: String,
    pub namespace: String,
    pub urls: StoreUrls,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ready_at: Option<DateTime<Utc>>,
    pub provisioning_seconds: Option<f64>,
    pub failure_reason: Option<String>,
}

impl Store {
    pub fn view(&self) -> StoreView {
        let storefront = self.url.clone();
        let admin = match self.engine {
            Engine::Medusa => format!("{storefront}/app/"),
            Engine::WooCommerce => format!("{storefront}/wp-admin/"),
        };
        StoreView {
            id: self.id.to_string(),
            name: self.name.clone(),
            engine: self.engine.as_str().to_owned(),
            status: self.status.as_str().to_owned(),
            namespace: self.namespace.clone(),
            urls: StoreUrls { storefront, admin },
            created_at: self.created_at,
            updated_at: self.updated_at,
            ready_at: self.ready_at,
            provisioning_seconds: self
                .ready_at
                .map(|ready| (ready - self.created_at).num_milliseconds() as f64 / 1000.0),
            failure_reason: self.failure_reason.clone(),
        }
    }
}

/// What a create request asks for (already validated).
#[derive(Debug, Clone)]
pub struct NewStore<'a> {
    pub owner_id: Uuid,
    pub name: &'a str,
    pub engine: Engine,
    pub idempotency_key: Option<&'a str>,
    /// sha256 of the normalized request, compared when the key is reused.
    pub request_hash: &'a str,
}

#[derive(Debug)]
pub enum Created {
    New(Store),
    /// Same Idempotency-Key and same request: the store the first request created.
    Replayed(Store),
}

/// Insert a store within the owner's quota, in one transaction.
///
/// The owner's `users` row is locked (`FOR UPDATE`) first, so concurrent
/// creates of one owner run one after the other: the count, the idempotency
/// lookup and the insert see each other's results, and the quota can never be
/// exceeded (20 concurrent creates against a quota of 3 leave exactly 3).
pub async fn insert_within_quota(
    pool: &PgPool,
    config: &Config,
    new: NewStore<'_>,
) -> Result<Created> {
    let mut tx = pool.begin().await?;
    let max_stores: i32 =
        sqlx::query_scalar("SELECT max_stores FROM users WHERE id = $1 FOR UPDATE")
            .bind(new.owner_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::InvalidToken("the token's user no longer exists".into()))?;

    if let Some(key) = new.idempotency_key {
        let existing = sqlx::query_as::<_, Store>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM stores WHERE owner_id = $1 AND idempotency_key = $2 AND status <> 'deleted'"
        )))
        .bind(new.owner_id)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(store) = existing {
            tx.rollback().await?;
            return if store.request_hash.as_deref() == Some(new.request_hash) {
                Ok(Created::Replayed(store))
            } else {
                Err(Error::IdempotencyKeyReused(format!(
                    "the Idempotency-Key {key:?} was already used for a different request (store {}); use a new key for a new store",
                    store.id
                )))
            };
        }
    }

    let active: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM stores WHERE owner_id = $1 AND status <> 'deleted'",
    )
    .bind(new.owner_id)
    .fetch_one(&mut *tx)
    .await?;
    if active >= i64::from(max_stores) {
        return Err(Error::QuotaExceeded(format!(
            "you have {active} of {max_stores} stores; delete one before creating another"
        )));
    }

    // a random id collision is astronomically rare; retry a few times anyway
    for _ in 0..3 {
        let id = StoreId::random();
        let inserted = sqlx::query_as::<_, Store>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO stores (id, owner_id, name, type, namespace, url, idempotency_key, request_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT DO NOTHING
             RETURNING {COLUMNS}"
        )))
        .bind(&id)
        .bind(new.owner_id)
        .bind(new.name)
        .bind(new.engine)
        .bind(id.namespace())
        .bind(config.store_base_url(&id))
        .bind(new.idempotency_key)
        .bind(new.idempotency_key.map(|_| new.request_hash))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(store) = inserted {
            append_activity(
                &mut tx,
                &store.id,
                ActivityKind::Requested,
                "store requested",
                None,
            )
            .await?;
            tx.commit().await?;
            return Ok(Created::New(store));
        }
    }
    Err(Error::Internal("could not find a free store id".into()))
}

/// A store of this owner (deleted ones included: the caller decides).
pub async fn get_for_owner(pool: &PgPool, owner_id: Uuid, id: &str) -> Result<Option<Store>> {
    Ok(sqlx::query_as::<_, Store>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM stores WHERE id = $1 AND owner_id = $2"
    )))
    .bind(id)
    .bind(owner_id)
    .fetch_optional(pool)
    .await?)
}

/// A live (not deleted) store of this owner, or a 404 that says so.
pub async fn get_live_for_owner(pool: &PgPool, owner_id: Uuid, id: &str) -> Result<Store> {
    get_for_owner(pool, owner_id, id)
        .await?
        .filter(|s| s.status.is_live())
        .ok_or_else(|| Error::NotFound(format!("you have no store with id {id:?}")))
}

/// Any store by id (event handlers).
pub async fn get(pool: &PgPool, id: &str) -> Result<Option<Store>> {
    Ok(sqlx::query_as::<_, Store>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM stores WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// An opaque keyset cursor: the position after the last store of a page.
fn encode_cursor(store: &Store) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}|{}",
        store.created_at.timestamp_micros(),
        store.id
    ))
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, StoreId)> {
    let bad = || {
        Error::Validation(
            "cursor is not valid: pass the next_cursor of a previous page unchanged".into(),
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (micros, id) = raw.split_once('|').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    let id = StoreId::parse(id).map_err(|_| bad())?;
    Ok((at, id))
}

pub struct Page {
    pub stores: Vec<Store>,
    pub next_cursor: Option<String>,
}

/// The owner's live stores, newest first, `limit` at a time.
pub async fn list_page(
    pool: &PgPool,
    owner_id: Uuid,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page> {
    let after = cursor.map(decode_cursor).transpose()?;
    let (at, id) = match after {
        Some((at, id)) => (Some(at), Some(id)),
        None => (None, None),
    };
    let mut stores = sqlx::query_as::<_, Store>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM stores
         WHERE owner_id = $1 AND status <> 'deleted'
           AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
         ORDER BY created_at DESC, id DESC
         LIMIT $4"
    )))
    .bind(owner_id)
    .bind(at)
    .bind(id)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    let next_cursor = if stores.len() as i64 > limit {
        stores.truncate(limit as usize);
        stores.last().map(encode_cursor)
    } else {
        None
    };
    Ok(Page {
        stores,
        next_cursor,
    })
}

/// Count of the owner's live stores (quota display).
pub async fn count_active(pool: &PgPool, owner_id: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM stores WHERE owner_id = $1 AND status <> 'deleted'",
    )
    .bind(owner_id)
    .fetch_one(pool)
    .await?)
}

/// Move a store to `to` if its status is one of `from`; `None` when the guard
/// did not match (the store moved on already, or does not exist).
/// Sets `ready_at`, `deleted_at` and `failure_reason` with the status.
pub async fn transition(
    conn: &mut PgConnection,
    id: &str,
    from: &[Status],
    to: Status,
    failure_reason: Option<&str>,
) -> Result<Option<Store>> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    Ok(sqlx::query_as::<_, Store>(sqlx::AssertSqlSafe(format!(
        "UPDATE stores SET status = $3, updated_at = now(),
             ready_at = CASE WHEN $3 = 'ready' THEN coalesce(ready_at, now()) ELSE ready_at END,
             deleted_at = CASE WHEN $3 = 'deleted' THEN now() ELSE NULL END,
             failure_reason = CASE WHEN $3 = 'failed' THEN $4 ELSE failure_reason END
         WHERE id = $1 AND status = ANY($2)
         RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(&from)
    .bind(to.as_str())
    .bind(failure_reason)
    .fetch_optional(conn)
    .await?)
}

/// The store's status, its row locked until the transaction ends: a step that
/// records its completion decides under this lock, so a transition made by
/// another function meanwhile (readiness-checker failing the store, the owner
/// deleting it) is seen, not overwritten in the log.
pub async fn lock_status(conn: &mut PgConnection, id: &str) -> Result<Option<Status>> {
    Ok(
        sqlx::query_scalar("SELECT status FROM stores WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Whether create-store finished its step for the store: the `installed`
/// entry of its activity log (the namespace, credentials and release applied).
pub async fn is_installed(pool: &PgPool, id: &str) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM store_events WHERE store_id = $1 AND kind = $2)",
    )
    .bind(id)
    .bind(ActivityKind::Installed)
    .fetch_one(pool)
    .await?)
}

/// What an owner's `DELETE` did, and so whether the route sends
/// `io.storefleet.store.delete-requested`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteRequest {
    /// The store moved to `deleting` now: send the event.
    Moved,
    /// Already `deleting`, and the last request is older than the re-drive
    /// interval or its event could not be sent: send it again (level-triggered:
    /// a lost event is re-sent by the owner's repeat as by the sweep).
    Stale,
    /// Already `deleting` with a recent request whose event was sent: the
    /// teardown is under way, nothing is sent (10 DELETEs in a row made 71
    /// deliveries before).
    InFlight,
}

impl DeleteRequest {
    pub fn emits(self) -> bool {
        !matches!(self, DeleteRequest::InFlight)
    }
}

/// Owner's delete request: `deleting` from any live status, in one
/// statement; a repeat while `deleting` is [`DeleteRequest::InFlight`]
/// unless the last request (`delete-requested` or `delete-re-requested` in
/// the activity log) is older than `stale_after` or was followed by an
/// `emit-failed`. The store's row is locked while this is decided, so
/// concurrent repeats re-send at most once.
pub async fn request_delete(
    pool: &PgPool,
    owner_id: Uuid,
    id: &str,
    stale_after: std::time::Duration,
) -> Result<(Store, DeleteRequest)> {
    let mut tx = pool.begin().await?;
    let moved = sqlx::query_as::<_, Store>(sqlx::AssertSqlSafe(format!(
        "UPDATE stores SET status = 'deleting', updated_at = now()
         WHERE id = $1 AND owner_id = $2 AND status IN ('provisioning', 'ready', 'failed')
         RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(owner_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(store) = moved {
        append_activity(
            &mut tx,
            id,
            ActivityKind::DeleteRequested,
            "deletion requested",
            None,
        )
        .await?;
        tx.commit().await?;
        return Ok((store, DeleteRequest::Moved));
    }
    let store = sqlx::query_as::<_, Store>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM stores
         WHERE id = $1 AND owner_id = $2 AND status <> 'deleted' FOR UPDATE"
    )))
    .bind(id)
    .bind(owner_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::NotFound(format!("you have no store with id {id:?}")))?;
    let stale: bool = sqlx::query_scalar(
        "WITH last AS (
             SELECT max(id) AS id, max(at) AS at FROM store_events
             WHERE store_id = $1 AND kind IN ('delete-requested', 'delete-re-requested'))
         SELECT last.id IS NULL
             OR last.at < now() - make_interval(secs => $2)
             OR EXISTS (SELECT 1 FROM store_events
                        WHERE store_id = $1 AND kind = 'emit-failed' AND id > last.id)
         FROM last",
    )
    .bind(id)
    .bind(stale_after.as_secs_f64())
    .fetch_one(&mut *tx)
    .await?;
    if !stale {
        tx.rollback().await?;
        return Ok((store, DeleteRequest::InFlight));
    }
    append_activity(
        &mut tx,
        id,
        ActivityKind::DeleteReRequested,
        "deletion requested again; the previous request is stale, its event was sent again",
        None,
    )
    .await?;
    tx.commit().await?;
    Ok((store, DeleteRequest::Stale))
}

/// Append to the store's activity log.
pub async fn append_activity(
    conn: &mut PgConnection,
    store_id: &str,
    kind: ActivityKind,
    message: &str,
    detail: Option<serde_json::Value>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO store_events (store_id, kind, message, detail) VALUES ($1, $2, $3, $4)",
    )
    .bind(store_id)
    .bind(kind)
    .bind(message)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

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

/// The activity log of a store, oldest first.
pub async fn activity(pool: &PgPool, store_id: &str) -> Result<Vec<ActivityEntry>> {
    Ok(sqlx::query_as::<_, ActivityEntry>(
        "SELECT at, kind, message, detail FROM store_events WHERE store_id = $1 ORDER BY id",
    )
    .bind(store_id)
    .fetch_all(pool)
    .await?)
}
