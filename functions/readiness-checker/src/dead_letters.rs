//! `POST /dead-letters`: the dead-letter sink of every Trigger. An event
//! arrives here when its deliveries exhausted their retries (or were refused
//! with a non-retryable status), carrying `knativeerrordest`,
//! `knativeerrorcode` and `knativeerrordata` (the subscriber's last answer
//! body, base64).
//!
//! The store's own step events (`requested`, `installed`, `delete-requested`)
//! make the store `failed` with a fixed reason (the answer's body is logged,
//! never shown: it is internal, or a forger's text) — unless the last answer was `429`:
//! back-pressure (the helm cap, another operation on the store) says "later",
//! never "broken", so such a store keeps its status and the sweep re-drives
//! its step (and fails it only at the provisioning timeout). A dead-lettered
//! ApiServerSource event or sweep tick is logged and counted only, since the
//! next sweep looks at every unsettled store anyway.

use base64::Engine as _;
use cloudevents::AttributesReader;
use serde_json::json;
use storefleet_shared::chain::{EventKey, Outcome, Refusal, announce_failure, incoming, skip};
use storefleet_shared::context::Context;
use storefleet_shared::db::{activity, dedup, stores};
use storefleet_shared::domain::{ActivityKind, EventType, Step};
use storefleet_shared::reasons;

/// The longest reason kept from the subscriber's answer.
const MAX_DETAIL: usize = 500;

#[tracing::instrument(name = "readiness-checker.dead-letter", skip_all, fields(event_id = %event.id(), event_type = %event.ty(), store_id = tracing::field::Empty))]
pub async fn handle(ctx: &Context, event: &cloudevents::Event) -> Result<Outcome, Refusal> {
    // the broker always says where and how a delivery failed; an event
    // without it did not come from a dead-letter path
    for extension in ["knativeerrordest", "knativeerrorcode"] {
        if event
            .extension(extension)
            .is_none_or(|v| v.to_string().trim().is_empty())
        {
            return Err(Refusal::BadEvent(format!(
                "a dead letter carries {extension} (the broker sets knativeerrordest and knativeerrorcode)"
            )));
        }
    }
    let key = EventKey::of(event);
    if dedup::already_processed(&ctx.pool, &key).await? {
        return Ok(Outcome::Duplicate);
    }
    let back_pressure = was_back_pressure(event);
    // what the broker says happened: for the log only (its body is whatever
    // the last answer, or a forger, wrote)
    let cause = cause(event, back_pressure);
    // a step's own event (the chain's table, domain::step) fails its store
    let step = EventType::parse(event.ty()).and_then(Step::started_by);
    let id = if step.is_some() {
        incoming::storefleet_store_id(event).ok()
    } else {
        incoming::apiserver_store_id(event)
    };
    tracing::error!(event_type = event.ty(), store_id = ?id, cause = %cause, "dead letter");
    let Some(id) = id else {
        return skip(ctx, &key, "dead letter without a store".into()).await;
    };
    let Some(store) = stores::get(&ctx.pool, &id).await? else {
        return skip(ctx, &key, format!("dead letter for unknown store {id}")).await;
    };
    // what the tenant reads: fixed sentences (crate storefleet_shared::reasons)
    let reason = match step {
        Some(_) if back_pressure => reasons::RETRIES_EXHAUSTED_BUSY.to_owned(),
        Some(step) => reasons::retries_exhausted(store.engine, step.is_teardown()),
        None => reasons::CLUSTER_EVENT_DROPPED.to_owned(),
    };
    let mut tx = ctx.pool.begin().await?;
    if !dedup::claim(&mut tx, &key).await? {
        return Ok(Outcome::Duplicate);
    }
    let detail = step.map(|_| json!({ "event_type": event.ty() }));
    // back-pressure to the end: not a failure, the sweep re-drives the step
    let failure = match step.filter(|_| !back_pressure) {
        Some(step) => stores::fail(&mut tx, &id, step.expects, &reason, detail.clone()).await?,
        None => None,
    };
    if failure.is_none() {
        activity::append(&mut tx, &id, ActivityKind::DeadLetter, &reason, detail).await?;
    }
    tx.commit().await?;
    if let Some(failure) = failure {
        announce_failure(ctx, &failure).await;
    }
    Ok(Outcome::Done)
}

/// Whether the subscriber's last answer was `429 Too Many Requests`.
fn was_back_pressure(event: &cloudevents::Event) -> bool {
    event
        .extension("knativeerrorcode")
        .is_some_and(|code| code.to_string().trim() == "429")
}

/// A sentence for the log from the `knativeerror*` extensions: the
/// `detail` of our own problem+json answers, else the raw body.
fn cause(event: &cloudevents::Event, back_pressure: bool) -> String {
    let ext = |name: &str| event.extension(name).map(|v| v.to_string());
    let code = ext("knativeerrorcode").unwrap_or_else(|| "unknown".into());
    let body = ext("knativeerrordata").map(|data| {
        base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or(data)
    });
    let detail = body.map(|body| {
        serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|json| json["detail"].as_str().map(str::to_owned))
            .unwrap_or(body)
    });
    let mut reason = format!(
        "{} was not handled after the broker's retries (last answer {code}",
        event.ty()
    );
    if let Some(detail) = detail.filter(|d| !d.trim().is_empty()) {
        reason.push_str(": ");
        reason.extend(detail.trim().chars().take(MAX_DETAIL));
    }
    reason.push(')');
    if back_pressure {
        reason.push_str("; the store keeps its status and the sweep retries the step");
    }
    reason
}
