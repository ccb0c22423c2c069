//! Receiving CloudEvents (`docs/events.md`): the binary-mode
//! extractor with its own body limit, the answers the Knative data plane
//! understands, the lazily built Kubernetes side, and where the store id of
//! an event is. Deduplication (`processed_events`) and the operation lease
//! are tables of the data layer: [`crate::db::dedup`], [`crate::db::lease`].
//!
//! The handlers themselves live in each function's `handlers.rs`; this module
//! holds what they share.

pub mod answer;
pub mod cluster;
pub mod incoming;
pub mod oidc;
pub mod step;

pub use crate::db::dedup::EventKey;
pub use answer::{Outcome, Refusal};
pub use cluster::Cluster;
pub use incoming::Incoming;

use crate::context::Context;
use crate::db::stores::Failure;
use crate::db::{dedup, lease};
use crate::domain::EventType;

/// Record the event as handled without changing anything (an [`Outcome::Ignored`]).
pub async fn skip(ctx: &Context, key: &EventKey, why: String) -> Result<Outcome, Refusal> {
    let mut conn = ctx.pool.acquire().await?;
    dedup::claim(&mut conn, key).await?;
    Ok(Outcome::Ignored(why))
}

/// Emit after the commit. A lost event costs at most a sweep interval: the
/// sweep re-checks every store that is not settled and re-drives its step.
pub async fn emit_or_log(ctx: &Context, event_type: EventType, id: &str, data: serde_json::Value) {
    if let Err(err) = ctx.emitter.emit(event_type, id, data).await {
        tracing::error!(store_id = %id, event_type = event_type.as_str(), error = %err, "event not sent; the sweep will catch up");
    }
}

/// After the commit of a [`crate::db::stores::fail`]: observe the
/// provisioning duration (label `failed`) when the store was provisioning,
/// and emit `io.storefleet.store.failed`.
pub async fn announce_failure(ctx: &Context, failure: &Failure) {
    if let Some(seconds) = failure.provisioning_seconds() {
        ctx.metrics
            .provisioning_duration
            .with_label_values(&["failed"])
            .observe(seconds);
    }
    let (event_type, data) = failure.event();
    emit_or_log(ctx, event_type, failure.store.id.as_str(), data).await;
}

/// Run `operation` holding store `id`'s operation lease, renewing it while
/// the operation runs; `429` when another operation on the store is under way
/// (the broker retries later).
pub async fn with_lease<T>(
    ctx: &Context,
    id: &str,
    operation: impl std::future::Future<Output = T>,
) -> Result<T, Refusal> {
    let Some(held) = lease::acquire(&ctx.pool, id).await? else {
        return Err(Refusal::RetryLater(format!(
            "another operation on store {id} is under way; retry later"
        )));
    };
    let operation = std::pin::pin!(operation);
    let result = renewing(ctx, id, held, operation).await;
    if let Err(err) = lease::release(&ctx.pool, id, held).await {
        // it lapses by itself; the next delivery waits at most a lease term
        tracing::warn!(store_id = %id, error = %err, "operation lease not released");
    }
    Ok(result)
}

/// Drive `operation` to its end, renewing the lease every
/// [`lease::RENEW_EVERY`]. A failed renewal is logged, not fatal: helm's own
/// release lock still refuses a second operation on the release.
async fn renewing<T>(
    ctx: &Context,
    id: &str,
    held: lease::Held,
    mut operation: std::pin::Pin<&mut impl std::future::Future<Output = T>>,
) -> T {
    let mut renewal = tokio::time::interval(lease::RENEW_EVERY);
    renewal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    renewal.tick().await; // the first tick is immediate: the lease is fresh
    loop {
        tokio::select! {
            result = &mut operation => return result,
            _ = renewal.tick() => match lease::renew(&ctx.pool, id, held).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(store_id = %id, "operation lease lapsed and was taken by another operation"),
                Err(err) => tracing::warn!(store_id = %id, error = %err, "operation lease not renewed"),
            },
        }
    }
}
