//! `POST /events`: `io.storefleet.store.requested` → Namespace, Secret,
//! RoleBinding and `helm upgrade --install` (no `--wait`) through
//! [`storefleet_kube::actions::StoreActions::provision`], then
//! `io.storefleet.store.installed` (or `.failed` with helm's reason).
//!
//! Idempotent: every step converges when repeated, the event is recorded in
//! `processed_events` in the transaction that writes the activity log, and
//! only a store still `provisioning` is provisioned.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use cloudevents::AttributesReader;
use serde_json::json;
use storefleet_kube::helm::StoreRelease;
use storefleet_shared::chain::answer::respond;
use storefleet_shared::chain::step::{self, Begin};
use storefleet_shared::chain::{Incoming, Outcome, Refusal, emit_or_log as emit, skip, with_lease};
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

#[tracing::instrument(name = "create-store.provision", skip_all, fields(event_id = %event.id(), event_type = %event.ty(), store_id = tracing::field::Empty))]
async fn handle(ctx: &Context, event: &cloudevents::Event) -> Result<Outcome, Refusal> {
    // only a store still provisioning: one deleted or failed meanwhile would
    // be left with a release nobody removes
    let (key, store) = match step::begin(ctx, event, &domain::step::INSTALL).await? {
        Begin::Proceed { key, store } => (key, store),
        Begin::Answer(outcome) => return Ok(outcome),
    };
    let id = store.id.clone();
    let engine = store.engine;
    let host = ctx.config.store_host(&id);
    let actions = ctx.cluster.actions().await?;
    let release = StoreRelease {
        id: id.clone(),
        host: host.clone(),
    };
    if step::recorded(&ctx.pool, &store, &domain::step::INSTALL).await? == Some(true) {
        // a re-driven or late request after the step was done: nothing to redo
        return skip(ctx, &key, format!("store {id} is already installed")).await;
    }
    tracing::info!(store_id = %id, "provisioning");
    let admin_email = format!("admin@{host}");
    match with_lease(ctx, &id, actions.provision(&release, engine, &admin_email)).await? {
        Ok(done) => {
            let mut tx = ctx.pool.begin().await?;
            if !dedup::claim(&mut tx, &key).await? {
                return Ok(Outcome::Duplicate);
            }
            // Decided under the row lock: readiness-checker may have failed the
            // store while helm ran (an image that never pulls fails its pod
            // before helm returns), or the owner asked to delete it. Then the
            // step's completion is not recorded and nothing is announced: an
            // `installed` after `failed` would read as if the store had moved on.
            let now = stores::lock_status(&mut tx, &id).await?;
            let seconds = done.helm.duration.as_secs_f64();
            if now == Some(Status::Provisioning) {
                activity::append(
                    &mut tx,
                    &id,
                    ActivityKind::Installed,
                    &format!(
                        "namespace, credentials and helm release applied in {seconds:.1} s; waiting for the workloads"
                    ),
                    Some(json!({
                        "helm_seconds": seconds,
                        "secret": format!("{:?}", done.secret),
                        "recovered": done.helm.recovered.as_ref().map(|r| format!("{r:?}")),
                    })),
                )
                .await?;
            }
            tx.commit().await?;
            match now {
                Some(Status::Provisioning) => {
                    emit(
                        ctx,
                        EventType::StoreInstalled,
                        &id,
                        json!({ "helm_seconds": seconds }),
                    )
                    .await
                }
                // A delete that arrived while helm ran found nothing to remove
                // yet: ask for the teardown again so nothing is left behind.
                Some(Status::Deleting) => {
                    emit(ctx, EventType::StoreDeleteRequested, &id, json!({})).await
                }
                other => tracing::info!(
                    store_id = %id,
                    status = ?other,
                    "release applied, but the store moved on meanwhile; not recorded as installed"
                ),
            }
            Ok(Outcome::Done)
        }
        Err(err) if err.is_retryable() => Err(Refusal::from(err)),
        // helm's reason, a namespace claimed by someone else, RBAC: a person must act
        Err(err) => {
            let reason = storefleet_shared::reasons::install_failed(store.engine);
            step::fail(
                ctx,
                &key,
                &store,
                Status::Provisioning,
                &reason,
                &err.to_string(),
            )
            .await
        }
    }
}
