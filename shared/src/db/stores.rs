//! The store (`stores`): its row, its JSON view, and the repository
//! functions every function uses. Status changes are guarded updates
//! (`WHERE status = ANY(…)`), so a late or repeated event can never move a
//! store backwards; [`fail`] is the one way a store becomes `failed`.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::config::Config;
use crate::db::{activity, users};
use crate::domain::{ActivityKind, Engine, EventType, Status, StoreId};
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

/// `sqlx::query_as!(Store, …)` with `SELECT <the columns of Store> FROM
/// stores ` before `$tail`. The columns are written once, here; each says its
/// nullability (`!`, `?`) and its Rust type, so a `RETURNING` list reads the
/// same as a `SELECT`. (`+` joins string literals in sqlx's macros.)
macro_rules! select_store {
    ($tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Store,
            r#"SELECT id AS "id!: StoreId", owner_id AS "owner_id!", name AS "name!",
                      type AS "engine!: Engine", namespace AS "namespace!",
                      status AS "status!: Status", url AS "url!",
                      failure_reason AS "failure_reason?", created_at AS "created_at!",
                      updated_at AS "updated_at!", ready_at AS "ready_at?",
                      deleted_at AS "deleted_at?", idempotency_key AS "idempotency_key?",
                      request_hash AS "request_hash?"
               FROM stores "# + $tail
            $(, $arg)*
        )
    };
}

/// `sqlx::query_as!(Store, …)` of `$head` followed by `RETURNING <the columns
/// of Store>` (the same list as [`select_store!`]).
macro_rules! returning_store {
    ($head:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Store,
            $head + r#"
               RETURNING id AS "id!: StoreId", owner_id AS "owner_id!", name AS "name!",
                      type AS "engine!: Engine", namespace AS "namespace!",
                      status AS "status!: Status", url AS "url!",
                      failure_reason AS "failure_reason?", created_at AS "created_at!",
                      updated_at AS "updated_at!", ready_at AS "ready_at?",
                      deleted_at AS "deleted_at?", idempotency_key AS "idempotency_key?",
                      request_hash AS "request_hash?""#
            $(, $arg)*
        )
    };
}

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
    let max_stores = users::lock_max_stores(&mut tx, new.owner_id)
        .await?
        .ok_or_else(|| Error::InvalidToken("the token's user no longer exists".into()))?;

    if let Some(key) = new.idempotency_key {
        let existing = select_store!(
            "WHERE owner_id = $1 AND idempotency_key = $2 AND status <> 'deleted'",
            new.owner_id,
            key
        )
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

    let active = count_active(&mut *tx, new.owner_id).await?;
    if active >= i64::from(max_stores) {
        return Err(Error::QuotaExceeded(format!(
            "you have {active} of {max_stores} stores; delete one before creating another"
        )));
    }

    // a random id collision is astronomically rare; retry a few times anyway
    for _ in 0..3 {
        let id = StoreId::random();
        let inserted = returning_store!(
            "INSERT INTO stores (id, owner_id, name, type, namespace, url, idempotency_key, request_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT DO NOTHING",
            id.as_str(),
            new.owner_id,
            new.name,
            new.engine.as_str(),
            id.namespace(),
            config.store_base_url(&id),
            new.idempotency_key,
            new.idempotency_key.map(|_| new.request_hash),
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(store) = inserted {
            activity::append(
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
    Ok(
        select_store!("WHERE id = $1 AND owner_id = $2", id, owner_id)
            .fetch_optional(pool)
            .await?,
    )
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
    Ok(select_store!("WHERE id = $1", id)
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
    let mut stores = select_store!(
        "WHERE owner_id = $1 AND status <> 'deleted'
           AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
         ORDER BY created_at DESC, id DESC
         LIMIT $4",
        owner_id,
        at,
        id.as_ref().map(StoreId::as_str),
        limit + 1,
    )
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

/// Count of the owner's live stores (quota display, and the quota check in
/// [`insert_within_quota`]'s transaction).
pub async fn count_active(db: impl sqlx::PgExecutor<'_>, owner_id: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM stores WHERE owner_id = $1 AND status <> 'deleted'"#,
        owner_id
    )
    .fetch_one(db)
    .await?)
}

/// How many stores are in each status (the metrics' gauge); a status without
/// stores is absent.
pub async fn count_by_status(pool: &PgPool) -> Result<Vec<(Status, i64)>> {
    Ok(sqlx::query!(
        r#"SELECT status AS "status: Status", count(*) AS "count!" FROM stores GROUP BY status"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.status, row.count))
    .collect())
}

/// The ids of the stores the sweep re-checks (`provisioning`, `ready`,
/// `deleting`), the least recently changed first, at most `limit`.
pub async fn unsettled_ids(pool: &PgPool, limit: i64) -> Result<Vec<StoreId>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id: StoreId" FROM stores
           WHERE status IN ('provisioning', 'ready', 'deleting')
           ORDER BY updated_at LIMIT $1"#,
        limit
    )
    .fetch_all(pool)
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
    Ok(returning_store!(
        "UPDATE stores SET status = $3, updated_at = now(),
             ready_at = CASE WHEN $3 = 'ready' THEN coalesce(ready_at, now()) ELSE ready_at END,
             deleted_at = CASE WHEN $3 = 'deleted' THEN now() ELSE NULL END,
             failure_reason = CASE WHEN $3 = 'failed' THEN $4 ELSE failure_reason END
         WHERE id = $1 AND status = ANY($2)",
        id,
        &from[..] as &[&str],
        to.as_str(),
        failure_reason,
    )
    .fetch_optional(conn)
    .await?)
}

/// A store that has just become `failed` (by [`fail`]): what its caller
/// does once the transaction has committed — emit [`Failure::event`], and
/// observe [`Failure::provisioning_seconds`] in the provisioning histogram
/// (`storefleet_shared::chain::announce_failure` does both).
#[derive(Debug)]
#[must_use = "a failed store's event is emitted after the commit (chain::announce_failure)"]
pub struct Failure {
    /// The row after the change.
    pub store: Store,
    /// The status it failed from.
    pub from: Status,
    /// The tenant's sentence (`failure_reason`, the activity log, the event).
    pub reason: String,
}

impl Failure {
    /// `io.storefleet.store.failed` and its data.
    pub fn event(&self) -> (EventType, serde_json::Value) {
        (
            EventType::StoreFailed,
            serde_json::json!({ "reason": self.reason }),
        )
    }

    /// Seconds from the store's creation to now when it failed while
    /// provisioning (the `failed` observation of the provisioning duration);
    /// `None` when it failed from another status.
    pub fn provisioning_seconds(&self) -> Option<f64> {
        (self.from == Status::Provisioning).then(|| {
            (Utc::now() - self.store.created_at)
                .num_milliseconds()
                .max(0) as f64
                / 1000.0
        })
    }
}

/// The one way a store becomes `failed`, in the caller's transaction: move
/// it from `from` with `reason` (guarded: `None` when it is no longer in
/// `from`, and nothing is written) and append the `failed` entry of its
/// activity log (with `detail`). The caller commits, then does what the
/// returned [`Failure`] says.
pub async fn fail(
    conn: &mut PgConnection,
    id: &str,
    from: Status,
    reason: &str,
    detail: Option<serde_json::Value>,
) -> Result<Option<Failure>> {
    let Some(store) = transition(conn, id, &[from], Status::Failed, Some(reason)).await? else {
        return Ok(None);
    };
    activity::append(conn, id, ActivityKind::Failed, reason, detail).await?;
    Ok(Some(Failure {
        store,
        from,
        reason: reason.to_owned(),
    }))
}

/// The store's status, its row locked until the transaction ends: a step that
/// records its completion decides under this lock, so a transition made by
/// another function meanwhile (readiness-checker failing the store, the owner
/// deleting it) is seen, not overwritten in the log.
pub async fn lock_status(conn: &mut PgConnection, id: &str) -> Result<Option<Status>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT status AS "status: Status" FROM stores WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// The store's status now (no lock).
pub async fn status(conn: &mut PgConnection, id: &str) -> Result<Option<Status>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT status AS "status: Status" FROM stores WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
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
    let moved = returning_store!(
        "UPDATE stores SET status = 'deleting', updated_at = now()
         WHERE id = $1 AND owner_id = $2 AND status IN ('provisioning', 'ready', 'failed')",
        id,
        owner_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(store) = moved {
        activity::append(
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
    let store = select_store!(
        "WHERE id = $1 AND owner_id = $2 AND status <> 'deleted' FOR UPDATE",
        id,
        owner_id,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::NotFound(format!("you have no store with id {id:?}")))?;
    if !activity::delete_request_stale(&mut tx, id, stale_after).await? {
        tx.rollback().await?;
        return Ok((store, DeleteRequest::InFlight));
    }
    activity::append(
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
