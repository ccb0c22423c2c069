//! One store, looked at now: what its namespace and workloads say, and the
//! guarded transition that follows.
//!
//! | status | cluster says | becomes |
//! |---|---|---|
//! | provisioning | release not applied yet (no `installed` entry), within the timeout | waiting |
//! | provisioning | every workload available (and the storefront answers, when checked) | ready |
//! | provisioning | ImagePullBackOff, CrashLoopBackOff, failed setup, unschedulable, … | failed (the reason) |
//! | provisioning | still progressing, past `STOREFLEET_PROVISIONING_TIMEOUT_SECONDS` | failed |
//! | provisioning | namespace terminating (someone deleted it) | failed |
//! | ready | namespace absent or terminating | failed |
//! | deleting | namespace absent | deleted |
//!
//! Every other combination changes nothing. Each update is guarded by the
//! status it was decided from (`stores::transition`), so two checks racing
//! each other, or a stale event, cannot move a store backwards.

use chrono::Utc;
use serde_json::json;
use storefleet_kube::namespace::{NamespaceState, store_namespace_state};
use storefleet_kube::readiness::{ReadinessPolicy, Verdict, observe};
use storefleet_kube::storefront::StorefrontAnswer;
use storefleet_shared::chain::{EventKey, Outcome, Refusal, announce_failure, emit_or_log, step};
use storefleet_shared::context::Context;
use storefleet_shared::db::stores::{self, Store};
use storefleet_shared::db::{activity, dedup};
use storefleet_shared::domain::step::INSTALL;
use storefleet_shared::domain::{ActivityKind, EventType, Status};
use storefleet_shared::reasons;

/// What the cluster says about a store. `reason` and `why` are the tenant's
/// fixed sentences (`failure_reason`, the activity log); `detail` is the
/// cluster's own words, for the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Ready,
    Failed {
        reason: String,
        detail: String,
    },
    Deleted,
    /// Nothing to change; `why` goes to the activity log once.
    Waiting {
        why: String,
        detail: String,
    },
    Nothing,
}

/// Look at the cluster for `store` and decide.
#[tracing::instrument(skip_all, fields(store_id = %store.id, status = %store.status))]
pub async fn assess(ctx: &Context, store: &Store) -> Result<Finding, Refusal> {
    let status = store.status;
    if !matches!(
        status,
        Status::Provisioning | Status::Ready | Status::Deleting
    ) {
        return Ok(Finding::Nothing);
    }
    let id = &store.id;
    let client = ctx.cluster.client().await?;
    let namespace = store_namespace_state(&client, id).await?;
    Ok(match (status, namespace) {
        (Status::Deleting, NamespaceState::Absent) => Finding::Deleted,
        (Status::Deleting, _) => Finding::Nothing,
        (Status::Ready, NamespaceState::Active) => Finding::Nothing,
        (Status::Ready, _) => Finding::Failed {
            reason: reasons::NAMESPACE_VANISHED.into(),
            detail: format!(
                "namespace {} vanished while the store was ready",
                store.namespace
            ),
        },
        (_, NamespaceState::Terminating) => Finding::Failed {
            reason: reasons::NAMESPACE_DELETED_UNASKED.into(),
            detail: format!(
                "namespace {} is being deleted, but nobody asked to delete the store",
                store.namespace
            ),
        },
        (_, NamespaceState::Absent) => timed_out(
            ctx,
            store,
            reasons::WAITING_FOR_NAMESPACE,
            "namespace not created yet".into(),
        ),
        // Before create-store has recorded its step, what the workloads say is
        // premature: helm may still be applying the release (a pod that cannot
        // pull its image fails before helm returns). Its `installed` event
        // brings the store back here; only the timeout ends it earlier.
        (Status::Provisioning, NamespaceState::Active)
            if step::recorded(&ctx.pool, store, &INSTALL).await? == Some(false) =>
        {
            timed_out(
                ctx,
                store,
                reasons::WAITING_FOR_INSTALL,
                "create-store to apply the release".into(),
            )
        }
        (_, NamespaceState::Active) => {
            match observe(&client, id, &ReadinessPolicy::for_engine(store.engine)).await? {
                Verdict::Failed { reason, detail } => Finding::Failed {
                    reason: reason.sentence(),
                    detail,
                },
                Verdict::Progressing {
                    waiting_for,
                    detail,
                } => timed_out(ctx, store, waiting_for.sentence(), detail),
                Verdict::Ready => match ctx.cluster.storefront() {
                    None => Finding::Ready,
                    Some(check) => match check.check(&ctx.config.store_host(&store.id)).await {
                        StorefrontAnswer::Answers => Finding::Ready,
                        StorefrontAnswer::NotYet { reason } => timed_out(
                            ctx,
                            store,
                            reasons::WAITING_FOR_STOREFRONT,
                            format!("the storefront: {reason}"),
                        ),
                    },
                },
            }
        }
    })
}

/// `Waiting`, or `Failed` once the provisioning timeout has passed. `why`
/// is the tenant's sentence, `detail` what the cluster said.
fn timed_out(ctx: &Context, store: &Store, why: &str, detail: String) -> Finding {
    let timeout = ctx.config.chain.provisioning_timeout;
    let age = (Utc::now() - store.created_at).to_std().unwrap_or_default();
    if age > timeout {
        Finding::Failed {
            reason: format!(
                "not ready within {} s: the store's workloads or its storefront did not come up in time. Delete the store and create it again, or ask the platform team (the platform's logs say what it waited for).",
                timeout.as_secs()
            ),
            detail: format!("provisioning timed out waiting for {detail}"),
        }
    } else {
        Finding::Waiting {
            why: why.to_owned(),
            detail,
        }
    }
}

/// Assess and apply, recording `key` (when an event asked) in the same transaction.
pub async fn reconcile(
    ctx: &Context,
    key: Option<&EventKey>,
    store: &Store,
) -> Result<Outcome, Refusal> {
    let finding = assess(ctx, store).await?;
    apply(ctx, key, store, finding).await
}

#[tracing::instrument(skip_all, fields(store_id = %store.id, finding = ?finding))]
pub async fn apply(
    ctx: &Context,
    key: Option<&EventKey>,
    store: &Store,
    finding: Finding,
) -> Result<Outcome, Refusal> {
    let from = store.status;
    let id = store.id.as_str();
    let mut tx = ctx.pool.begin().await?;
    if let Some(key) = key
        && !dedup::claim(&mut tx, key).await?
    {
        return Ok(Outcome::Duplicate);
    }
    let (moved, emit) = match &finding {
        Finding::Ready => {
            let moved =
                stores::transition(&mut tx, id, &[Status::Provisioning], Status::Ready, None)
                    .await?;
            if let Some(ready) = &moved {
                let seconds = ready
                    .ready_at
                    .map(|at| (at - ready.created_at).num_milliseconds() as f64 / 1000.0)
                    .unwrap_or_default();
                activity::append(
                    &mut tx,
                    id,
                    ActivityKind::Ready,
                    &if ctx.cluster.storefront().is_some() {
                        format!("store ready after {seconds:.1} s; the storefront answers")
                    } else {
                        format!(
                            "store ready after {seconds:.1} s (storefront not checked: STOREFLEET_STOREFRONT_CHECK_URL is unset)"
                        )
                    },
                    Some(json!({
                        "provisioning_seconds": seconds,
                        "storefront_checked": ctx.cluster.storefront().is_some(),
                    })),
                )
                .await?;
                ctx.metrics
                    .provisioning_duration
                    .with_label_values(&["ready"])
                    .observe(seconds);
            }
            (moved, Some((EventType::StoreReady, json!({}))))
        }
        Finding::Failed { reason, detail } => {
            let failure = stores::fail(&mut tx, id, from, reason, None).await?;
            if failure.is_some() {
                // the cluster's words (image names, exit messages, node
                // counts, the storefront check's URL) for the platform team
                tracing::warn!(store_id = %id, reason = %reason, detail = %detail, "store failed");
            }
            tx.commit().await?;
            if let Some(failure) = failure {
                tracing::info!(store_id = %id, event_type = EventType::StoreFailed.as_str(), "store moved");
                announce_failure(ctx, &failure).await;
            }
            return Ok(Outcome::Done);
        }
        Finding::Deleted => {
            let moved =
                stores::transition(&mut tx, id, &[Status::Deleting], Status::Deleted, None).await?;
            if moved.is_some() {
                activity::append(
                    &mut tx,
                    id,
                    ActivityKind::Deleted,
                    &format!("namespace {} is gone; store deleted", store.namespace),
                    None,
                )
                .await?;
            }
            (moved, Some((EventType::StoreDeleted, json!({}))))
        }
        Finding::Waiting { why, detail } => {
            // once per distinct reason, so the activity log reads as steps
            let last = activity::last(&mut tx, id).await?;
            // only while the store is still where the verdict was taken from
            // (the sweep's snapshot may be older than a concurrent transition)
            let still = stores::status(&mut tx, id).await?;
            if still == Some(from)
                && last
                    .as_ref()
                    .is_none_or(|(kind, message)| *kind != ActivityKind::Waiting || message != why)
            {
                tracing::info!(store_id = %id, waiting = %why, detail = %detail, "store waiting");
                activity::append(&mut tx, id, ActivityKind::Waiting, why, None).await?;
            }
            (None, None)
        }
        Finding::Nothing => (None, None),
    };
    tx.commit().await?;
    if moved.is_some()
        && let Some((event_type, data)) = emit
    {
        tracing::info!(store_id = %id, event_type = event_type.as_str(), "store moved");
        emit_or_log(ctx, event_type, id, data).await;
    }
    Ok(Outcome::Done)
}
