//! The readiness-checker's CloudEvent endpoints:
//!
//! - `POST /events`: `io.storefleet.store.installed` and the ApiServerSource's
//!   `dev.knative.apiserver.resource.{add,update,delete}` → re-check that one
//!   store ([`crate::reconcile`]); `dev.knative.sources.ping` → the sweep
//!   ([`crate::sweep`]).
//! - `POST /dead-letters`: events whose deliveries exhausted their retries
//!   ([`crate::dead_letters`]).
//!
//! Every handler is level-triggered: an event only says *which* store to
//! look at; the verdict comes from the cluster as it is now, so a late,
//! repeated or out-of-order event cannot move a store backwards.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use cloudevents::AttributesReader;
use storefleet_shared::chain::answer::respond;
use storefleet_shared::chain::{EventKey, Incoming, Outcome, Refusal, incoming, skip};
use storefleet_shared::context::Context;
use storefleet_shared::db::{dedup, stores};
use storefleet_shared::domain::EventType;
use storefleet_shared::telemetry;
use tracing::Instrument;

pub fn router(ctx: Context) -> Router {
    storefleet_shared::chain::oidc::protect(
        Router::new()
            .route("/events", post(on_event))
            .route("/dead-letters", post(on_dead_letter)),
        ctx,
    )
}

async fn on_event(State(ctx): State<Context>, Incoming(event): Incoming) -> Response {
    let ty = event.ty().to_owned();
    let result = handle(&ctx, &event).await;
    respond(&ctx.metrics, &ty, result)
}

async fn on_dead_letter(State(ctx): State<Context>, Incoming(event): Incoming) -> Response {
    let result = crate::dead_letters::handle(&ctx, &event).await;
    respond(&ctx.metrics, "dead-letter", result)
}

#[tracing::instrument(name = "readiness-checker.check", skip_all, fields(event_id = %event.id(), event_type = %event.ty(), store_id = tracing::field::Empty))]
async fn handle(ctx: &Context, event: &cloudevents::Event) -> Result<Outcome, Refusal> {
    let key = EventKey::of(event);
    let refused = || {
        Err(Refusal::BadEvent(format!(
            "readiness-checker does not handle {}",
            event.ty()
        )))
    };
    let Some(event_type) = EventType::parse(event.ty()) else {
        return refused();
    };
    let id = match event_type {
        EventType::Ping => return crate::sweep::run(ctx, &key).await,
        EventType::StoreInstalled => {
            incoming::storefleet_store_id(event).map_err(Refusal::BadEvent)?
        }
        EventType::ApiServerAdd | EventType::ApiServerUpdate | EventType::ApiServerDelete => {
            match incoming::apiserver_store_id(event) {
                Some(id) => id,
                // the ApiServerSource's selectors only pass store objects; anything
                // else is acknowledged and left alone
                None => return Ok(Outcome::Ignored("not a store object".into())),
            }
        }
        // create-store's and delete-store's, and the announcements nobody subscribes to
        EventType::StoreRequested
        | EventType::StoreDeleteRequested
        | EventType::StoreReady
        | EventType::StoreFailed
        | EventType::StoreDeleted => return refused(),
    };
    tracing::Span::current().record("store_id", id.as_str());
    if dedup::already_processed(&ctx.pool, &key).await? {
        return Ok(Outcome::Duplicate);
    }
    let Some(store) = stores::get(&ctx.pool, &id).await? else {
        return skip(ctx, &key, format!("no store {id}")).await;
    };
    if event_type == EventType::StoreInstalled {
        // the event carries the store's trace (its `traceparent`)
        return crate::reconcile::reconcile(ctx, Some(&key), &store).await;
    }
    // an ApiServerSource event carries none: the check joins the store's trace
    let span =
        telemetry::store_trace::span(&ctx.pool, id.as_str(), "readiness-checker.check-store").await;
    crate::reconcile::reconcile(ctx, Some(&key), &store)
        .instrument(span)
        .await
}
