//! `POST /events`: `io.storefleet.store.delete-requested` → `helm uninstall
//! --wait --cascade foreground`, then the namespace's deletion (foreground,
//! only if Storefleet owns it) through
//! [`storefleet_kube::actions::StoreActions::teardown`].
//!
//! When the namespace is gone the store is `deleted` here and
//! `io.storefleet.store.deleted` is emitted; while its finalizers still run,
//! the readiness-checker finishes the job (the Namespace's delete event from
//! the ApiServerSource, or the sweep).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use cloudevents::AttributesReader;
use serde_json::json;
use storefleet_kube::helm::Uninstalled;
use storefleet_kube::namespace::NamespaceDeletion;
use storefleet_shared::chain::answer::respond;
use storefleet_shared::chain::step::{self, Begin};
use storefleet_shared::chain::{Incoming, Outcome, Refusal, emit_or_log as emit, with_lease};
use storefleet_shared::context::Context;
use storefleet_shared::db::{activity, dedup, stores};
use storefleet_shared::domain::{self, ActivityKind, EventType, Status};

pub fn router(ctx: Context) -> Router {
    storefleet_shared::chain::oidc::protect(Router::new().route("/events", post(on_event)), ctx)
}

async fn on_event(State(ctx): State<Context>, Incoming(event): Incoming) -> Response {
    let ty = event.ty().to_owned();
    let result = handle(&ctx, &event).await;
    respond(&ctx.metrics, &ty, result)
}

#[tracing::instrument(name = "delete-store.teardown", skip_all, fields(event_id = %event.id(), event_type = %event.ty(), store_id = tracing::field::Empty))]
async fn handle(ctx: &Context, event: &cloudevents::Event) -> Result<Outcome, Refusal> {
    let (key, store) = match step::begin(ctx, event, &domain::step::TEARDOWN).await? {
        Begin::Proceed { key, store } => (key, store),
        Begin::Answer(outcome) => return Ok(outcome),
    };
    let id = store.id.clone();
    let actions = ctx.cluster.actions().await?;
    tracing::info!(store_id = %id, "tearing down");
    match with_lease(ctx, &id, actions.teardown(&id)).await? {
        Ok(torn) => {
            let mut tx = ctx.pool.begin().await?;
            if !dedup::claim(&mut tx, &key).await? {
                return Ok(Outcome::Duplicate);
            }
            let release = match torn.release {
                Uninstalled::Removed => "helm release uninstalled",
                Uninstalled::NotFound => "no helm release to uninstall",
            };
            let deleted = match torn.namespace {
                NamespaceDeletion::Gone => {
                    let moved = stores::transition(
                        &mut tx,
                        &id,
                        &[Status::Deleting],
                        Status::Deleted,
                        None,
                    )
                    .await?;
                    activity::append(
                        &mut tx,
                        &id,
                        ActivityKind::Uninstalled,
                        &format!("{release}; namespace {} is gone", store.namespace),
                        None,
                    )
                    .await?;
                    if moved.is_some() {
                        activity::append(
                            &mut tx,
                            &id,
                            ActivityKind::Deleted,
                            "store deleted",
                            None,
                        )
                        .await?;
                    }
                    moved.is_some()
                }
                NamespaceDeletion::Deleting => {
                    activity::append(
                        &mut tx,
                        &id,
                        ActivityKind::Uninstalled,
                        &format!(
                            "{release}; namespace {} is being deleted (its finalizers run)",
                            store.namespace
                        ),
                        None,
                    )
                    .await?;
                    false
                }
            };
            tx.commit().await?;
            if deleted {
                emit(ctx, EventType::StoreDeleted, &id, json!({})).await;
            }
            Ok(Outcome::Done)
        }
        // helm uninstall errors are mostly passing ("resource … still exists,
        // Terminating" when its --wait ends early): retried by the broker, and
        // dead-lettered into `failed` with the reason if they persist
        Err(err) if err.is_retryable() || matches!(err, storefleet_kube::Error::Helm { .. }) => {
            Err(Refusal::from(err))
        }
        // a namespace Storefleet does not own: a person must look; `failed`
        // lets the owner ask for the deletion again
        Err(err) => {
            let reason = storefleet_shared::reasons::DELETE_REFUSED;
            step::fail(
                ctx,
                &key,
                &store,
                Status::Deleting,
                reason,
                &err.to_string(),
            )
            .await
        }
    }
}
