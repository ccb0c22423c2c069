//! What create-store's and delete-store's step handlers share: the checks
//! before the slow work, and failing the store afterwards.

use cloudevents::AttributesReader;

use crate::chain::{EventKey, Outcome, Refusal, announce_failure, incoming, skip};
use crate::context::Context;
use crate::db::stores::{self, Store};
use crate::db::{activity, dedup};
use crate::domain::step::Done;
use crate::domain::{Status, Step};

/// How a step handler starts.
pub enum Begin {
    /// Do the step: the event is new and its store is where the step expects it.
    Proceed { key: EventKey, store: Box<Store> },
    /// Answer at once: a duplicate, or nothing to do.
    Answer(Outcome),
}

/// Check `event` starts `step` (else `400`), is not handled before, and is
/// about a store that exists and is in the status the step expects — a late
/// or repeated event for a store that moved on is acknowledged and changes
/// nothing.
pub async fn begin(
    ctx: &Context,
    event: &cloudevents::Event,
    step: &Step,
) -> Result<Begin, Refusal> {
    if event.ty() != step.starts_on.as_str() {
        return Err(Refusal::BadEvent(format!(
            "{} handles {} only, not {}",
            step.function,
            step.starts_on,
            event.ty()
        )));
    }
    let key = EventKey::of(event);
    if dedup::already_processed(&ctx.pool, &key).await? {
        return Ok(Begin::Answer(Outcome::Duplicate));
    }
    let id = incoming::storefleet_store_id(event).map_err(Refusal::BadEvent)?;
    // the handler's span declares the field (`#[instrument]`)
    tracing::Span::current().record("store_id", id.as_str());
    let Some(store) = stores::get(&ctx.pool, &id).await? else {
        return Ok(Begin::Answer(
            skip(ctx, &key, format!("no store {id}")).await?,
        ));
    };
    if store.status != step.expects {
        return Ok(Begin::Answer(
            skip(ctx, &key, format!("store {id} is {}", store.status)).await?,
        ));
    }
    Ok(Begin::Proceed {
        key,
        store: Box::new(store),
    })
}

/// The step failed for a reason a person must act on: claim the event and
/// move the store from `from` to `failed` with `reason` in one transaction
/// ([`stores::fail`]), then emit `io.storefleet.store.failed`
/// ([`announce_failure`]). `reason` is what the tenant reads
/// (one of [`crate::reasons`]); `cause`, the raw error, goes to the log only.
pub async fn fail(
    ctx: &Context,
    key: &EventKey,
    store: &Store,
    from: Status,
    reason: &str,
    cause: &str,
) -> Result<Outcome, Refusal> {
    let id = store.id.as_str();
    tracing::warn!(store_id = %id, cause, reason, "store step failed");
    let mut tx = ctx.pool.begin().await?;
    if !dedup::claim(&mut tx, key).await? {
        return Ok(Outcome::Duplicate);
    }
    let failure = stores::fail(&mut tx, id, from, reason, None).await?;
    tx.commit().await?;
    if let Some(failure) = failure {
        announce_failure(ctx, &failure).await;
    }
    Ok(Outcome::Done)
}

/// Whether the database records `step` as done for `store` (the mark of
/// the chain's table, [`Step::done`]); `None` when only the cluster can say
/// ([`Done::NamespaceDeletionStarted`]).
pub async fn recorded(
    pool: &sqlx::PgPool,
    store: &Store,
    step: &Step,
) -> crate::Result<Option<bool>> {
    Ok(match step.done {
        Done::Activity(kind) => Some(activity::has(pool, &store.id, kind).await?),
        Done::Status(status) => Some(store.status == status),
        Done::NamespaceDeletionStarted => None,
    })
}
