//! The CloudEvent extractor of the handlers: binary or structured mode, with
//! a body limit of its own.
//!
//! Why not cloudevents-sdk's `Event` extractor directly: it reads the whole
//! body without a limit, and ApiServerSource events (`mode: Resource`) carry
//! whole objects — far larger than the 16 KiB the API routes allow, but still
//! bounded. A body over [`EVENT_BODY_LIMIT`] is `413`; something that is not a
//! CloudEvent is `400` (never retried).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use cloudevents::{AttributesReader, Event};

use crate::chain::answer::problem;
use crate::domain::StoreId;

/// The largest event body accepted (1 MiB): a Pod or a Deployment as JSON is
/// a few tens of KiB.
pub const EVENT_BODY_LIMIT: usize = 1024 * 1024;

/// The longest `id` and `source` accepted (bytes). Together they are the key
/// of `processed_events`; a longer pair would fail the index (a permanent
/// error the broker would retry seven times) and no sender of ours comes close
/// (a UUID, `/storefleet/<function>`, Knative's source URIs).
pub const MAX_ID_SOURCE_LEN: usize = 400;

/// A received CloudEvent.
pub struct Incoming(pub Event);

impl<S: Send + Sync> FromRequest<S> for Incoming {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes: Bytes = axum::body::to_bytes(body, EVENT_BODY_LIMIT)
            .await
            .map_err(|_| {
                problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the event body is over {EVENT_BODY_LIMIT} bytes"),
                )
            })?;
        let event = cloudevents::binding::http::to_event(&parts.headers, bytes.to_vec()).map_err(
            |err| {
                problem(
                    StatusCode::BAD_REQUEST,
                    &format!("not a CloudEvent (binary or structured mode): {err}"),
                )
            },
        )?;
        check_attributes(&event).map_err(|why| problem(StatusCode::BAD_REQUEST, &why))?;
        Ok(Incoming(event))
    }
}

/// What the handlers rely on and the SDK lets through: CloudEvents 1.0 only
/// (the SDK also reads 0.3), a non-empty `id`, and `id`/`source` short enough
/// for the dedup key. Refused with `400`, never retried.
pub fn check_attributes(event: &Event) -> Result<(), String> {
    if event.specversion() != cloudevents::event::SpecVersion::V10 {
        return Err(format!(
            "specversion must be 1.0, not {}",
            event.specversion()
        ));
    }
    if event.id().trim().is_empty() {
        return Err("the event id (ce-id) must not be empty".into());
    }
    let source = event.source().to_string();
    for (attribute, value) in [("id (ce-id)", event.id()), ("source (ce-source)", &source)] {
        if value.len() > MAX_ID_SOURCE_LEN {
            return Err(format!(
                "the event {attribute} is {} bytes long; at most {MAX_ID_SOURCE_LEN} are accepted",
                value.len()
            ));
        }
    }
    Ok(())
}

/// The event's data as JSON (binary mode delivers JSON as bytes).
pub fn data_json(event: &Event) -> Option<serde_json::Value> {
    match event.data()? {
        cloudevents::Data::Json(value) => Some(value.clone()),
        cloudevents::Data::Binary(bytes) => serde_json::from_slice(bytes).ok(),
        cloudevents::Data::String(text) => serde_json::from_str(text).ok(),
    }
}

/// The store an `io.storefleet.*` event is about: `subject`, or `data.store_id`.
pub fn storefleet_store_id(event: &Event) -> Result<StoreId, String> {
    let from_data = data_json(event).and_then(|d| d["store_id"].as_str().map(str::to_owned));
    let id = event
        .subject()
        .map(str::to_owned)
        .or(from_data)
        .ok_or_else(|| format!("{} has no subject and no data.store_id", event.ty()))?;
    StoreId::parse(&id).map_err(|_| {
        format!(
            "{}: {id:?} is not a store id (8 characters of [a-z0-9])",
            event.ty()
        )
    })
}

/// The store an ApiServerSource event (`mode: Resource`) is about: the
/// object's `storefleet.io/store-id` label, else its namespace `store-<id>`
/// (the `namespace` extension), else — for a Namespace — its name.
pub fn apiserver_store_id(event: &Event) -> Option<StoreId> {
    let ext = |name: &str| event.extension(name).map(|v| v.to_string());
    let from_label = data_json(event).and_then(|d| {
        d["metadata"]["labels"]["storefleet.io/store-id"]
            .as_str()
            .map(str::to_owned)
    });
    let from_namespace = ext("namespace")
        .filter(|ns| !ns.is_empty())
        .or_else(|| {
            (ext("kind").as_deref() == Some("Namespace"))
                .then(|| ext("name"))
                .flatten()
        })
        .and_then(|ns| StoreId::from_namespace(&ns));
    from_label
        .and_then(|id| StoreId::parse(&id).ok())
        .or(from_namespace)
}
