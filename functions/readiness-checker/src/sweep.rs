//! The PingSource sweep (`dev.knative.sources.ping`, every minute): the
//! safety net under the event-driven path.
//!
//! - every `provisioning`, `ready` and `deleting` store is re-checked
//!   ([`crate::reconcile`]): a timed-out provisioning fails, a ready store
//!   whose namespace vanished fails, a deleting store whose namespace is gone
//!   is deleted — whatever events were lost;
//! - a store whose step never happened is re-driven: `provisioning` without
//!   an `installed` entry in its activity log, or `deleting` with its
//!   namespace still active, for longer than `STOREFLEET_REDRIVE_AFTER_SECONDS`
//!   → its request event is emitted again (the handlers are idempotent);
//! - `processed_events` older than a week are forgotten.
//!
//! At most one sweep runs per `STOREFLEET_SWEEP_INTERVAL_SECONDS`
//! ([`storefleet_shared::db::sweep_claim`]): a ping event that finds a fresher claim is
//! acknowledged (`ignored`) and sweeps nothing, so redelivered, duplicated
//! or forged ping events cannot multiply the sweeps.

use chrono::Utc;
use serde_json::json;
use storefleet_shared::chain::{EventKey, Outcome, Refusal, emit_or_log, step};
use storefleet_shared::context::Context;
use storefleet_shared::db::stores::{self, Store};
use storefleet_shared::db::{activity, dedup, sweep_claim};
use storefleet_shared::domain::{ActivityKind, Status, Step};
use storefleet_shared::telemetry;
use tracing::Instrument;

use crate::reconcile::{Finding, apply, assess};

/// Stores looked at per sweep, oldest change first (bounds one tick's work).
const BATCH: i64 = 500;

#[tracing::instrument(name = "readiness-checker.sweep", skip_all, fields(event_id = %key.id))]
pub async fn run(ctx: &Context, key: &EventKey) -> Result<Outcome, Refusal> {
    if dedup::already_processed(&ctx.pool, key).await? {
        return Ok(Outcome::Duplicate);
    }
    let interval = ctx.config.chain.sweep_interval;
    let Some(claim) = sweep_claim::take(&ctx.pool, interval).await? else {
        // not recorded as processed: nothing was done for it
        return Ok(Outcome::Ignored(format!(
            "a sweep ran less than {} s ago",
            interval.as_secs()
        )));
    };
    let swept = sweep(ctx, key).await;
    if swept.is_err()
        && let Err(err) = sweep_claim::release(&ctx.pool, claim).await
    {
        tracing::warn!(error = %err, "sweep: the claim could not be given back; the next interval sweeps");
    }
    swept
}

async fn sweep(ctx: &Context, key: &EventKey) -> Result<Outcome, Refusal> {
    let ids = stores::unsettled_ids(&ctx.pool, BATCH).await?;
    let mut unavailable = None;
    for id in &ids {
        // re-read: a store may have moved since the list
        let Some(store) = stores::get(&ctx.pool, id).await? else {
            continue;
        };
        // each store's check and re-drive join the store's own trace
        let span =
            telemetry::store_trace::span(&ctx.pool, id.as_str(), "readiness-checker.sweep-store")
                .await;
        match sweep_one(ctx, &store).instrument(span).await {
            Ok(()) => {}
            // one store's bad data must not stop the sweep of the others
            Err(Refusal::BadEvent(detail)) => {
                tracing::error!(store_id = %id, detail = %detail, "sweep: store skipped");
            }
            Err(refusal) => {
                tracing::warn!(store_id = %id, detail = %refusal.detail(), "sweep: store not checked");
                unavailable = Some(refusal);
            }
        }
    }
    if let Some(refusal) = unavailable {
        // the cluster or the database did not answer: let the broker retry the tick
        return Err(refusal);
    }
    let mut conn = ctx.pool.acquire().await?;
    dedup::claim(&mut conn, key).await?;
    let forgotten = dedup::forget_older_than(&ctx.pool, 7).await?;
    tracing::info!(stores = ids.len(), forgotten, "sweep done");
    Ok(Outcome::Done)
}

async fn sweep_one(ctx: &Context, store: &Store) -> Result<(), Refusal> {
    let finding = assess(ctx, store).await?;
    let status = store.status;
    let stale = |since: chrono::DateTime<Utc>| {
        (Utc::now() - since).to_std().unwrap_or_default() > ctx.config.chain.redrive_after
    };
    // the step a store in this status waits for (domain::step's table),
    // unless reconcile found something else to do with it
    let waiting = matches!(
        (&finding, status),
        (Finding::Waiting { .. }, Status::Provisioning) | (Finding::Nothing, Status::Deleting)
    );
    if let Some(step) = Step::redriven_in(status)
        && waiting
        && stale(store.updated_at)
        && !done(ctx, store, step).await?
    {
        redrive(ctx, store, step).await?;
    }
    apply(ctx, None, store, finding).await?;
    Ok(())
}

/// Whether `step` happened for `store`, by what marks it done.
async fn done(ctx: &Context, store: &Store, step: &Step) -> Result<bool, Refusal> {
    if let Some(recorded) = step::recorded(&ctx.pool, store, step).await? {
        return Ok(recorded);
    }
    // Done::NamespaceDeletionStarted: the cluster says
    let client = ctx.cluster.client().await?;
    Ok(
        storefleet_kube::namespace::store_namespace_state(&client, &store.id).await?
            != storefleet_kube::namespace::NamespaceState::Active,
    )
}

/// Emit the step's event again, at most once per redrive interval (the
/// `redriven` entries of the activity log are the memory of that).
#[tracing::instrument(skip_all, fields(store_id = %store.id, step = step.name))]
async fn redrive(ctx: &Context, store: &Store, step: &Step) -> Result<(), Refusal> {
    let (event_type, step) = (step.starts_on, step.name);
    if activity::redriven_within(&ctx.pool, &store.id, ctx.config.chain.redrive_after).await? {
        return Ok(());
    }
    let mut conn = ctx.pool.acquire().await?;
    activity::append(
        &mut conn,
        &store.id,
        ActivityKind::Redriven,
        &format!("the {step} step has not happened yet; its event was sent again"),
        None,
    )
    .await?;
    drop(conn);
    tracing::info!(store_id = %store.id, event_type = event_type.as_str(), "sweep: re-driving");
    emit_or_log(ctx, event_type, &store.id, json!({ "redriven": true })).await;
    Ok(())
}
