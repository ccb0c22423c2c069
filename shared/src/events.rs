//! Emitting CloudEvents (binary mode) to `K_SINK` from the HTTP routes
//! (docs/events.md: type `io.storefleet.*`, source `/storefleet/<function>`,
//! subject = store id, data = JSON with `store_id`, and the current trace as
//! the distributed-tracing extension `traceparent`/`tracestate`).
//!
//! Decision: the route commits the store first and emits afterwards. If the
//! emit fails, the store is not lost: the failure is logged and written to
//! the activity log, the `202` stands, and the readiness-checker's sweep
//! re-drives stores left in `provisioning`/`deleting`. Functions that emit
//! refuse to start without `K_SINK` ([`crate::Config::require_sink`]); only
//! tests build an [`Emitter`] without a sink.

use std::time::Duration;

use cloudevents::binding::reqwest::RequestBuilderExt;
use cloudevents::{EventBuilder, EventBuilderV10};
use serde_json::json;

use crate::domain::EventType;
use crate::{Error, Result};

// The types as text, for tests and tools that compare strings; the
// functions use [`EventType`] itself.
pub const STORE_REQUESTED: &str = EventType::StoreRequested.as_str();
pub const STORE_DELETE_REQUESTED: &str = EventType::StoreDeleteRequested.as_str();
pub const STORE_INSTALLED: &str = EventType::StoreInstalled.as_str();
pub const STORE_READY: &str = EventType::StoreReady.as_str();
pub const STORE_FAILED: &str = EventType::StoreFailed.as_str();
pub const STORE_DELETED: &str = EventType::StoreDeleted.as_str();

/// Every `io.storefleet.*` type the functions emit ([`EventType::STOREFLEET`]).
pub const STOREFLEET_TYPES: [&str; 6] = [
    STORE_REQUESTED,
    STORE_INSTALLED,
    STORE_READY,
    STORE_FAILED,
    STORE_DELETE_REQUESTED,
    STORE_DELETED,
];

#[derive(Debug, Clone)]
pub struct Emitter {
    client: reqwest::Client,
    sink: Option<String>,
    source: String,
    /// `K_SINK_TOKEN_FILE`: an OIDC token for the Broker's audience (a
    /// projected ServiceAccount token; kubelet rotates it, so it is read per
    /// event). A Broker with `authentication-oidc` refuses events without one.
    token_file: Option<std::path::PathBuf>,
}

impl Emitter {
    /// `function` names the source: `/storefleet/<function>`.
    pub fn new(sink: &str, function: &str) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|err| Error::Internal(format!("http client: {err}")))?;
        Ok(Self {
            client,
            sink: Some(sink.to_owned()),
            source: format!("/storefleet/{function}"),
            token_file: None,
        })
    }

    /// Send `Authorization: Bearer <the file's token>` with every event.
    pub fn with_token_file(mut self, path: Option<&str>) -> Self {
        self.token_file = path.map(std::path::PathBuf::from);
        self
    }

    /// An emitter that sends nothing (route tests without a broker); each
    /// would-be event is logged.
    pub fn without_sink(function: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            sink: None,
            source: format!("/storefleet/{function}"),
            token_file: None,
        }
    }

    /// Send one event about a store; `extra` fields are merged into the data.
    #[tracing::instrument(name = "emit", skip(self, event_type, extra), fields(otel.kind = "producer", event_type = %event_type))]
    pub async fn emit(
        &self,
        event_type: EventType,
        store_id: &str,
        extra: serde_json::Value,
    ) -> Result<()> {
        let event_type = event_type.as_str();
        let mut data = json!({ "store_id": store_id });
        if let (Some(data), serde_json::Value::Object(extra)) = (data.as_object_mut(), extra) {
            data.extend(extra);
        }
        let Some(sink) = &self.sink else {
            tracing::info!(event_type, store_id, "no K_SINK: event not sent");
            return Ok(());
        };
        let mut event = EventBuilderV10::new()
            .id(uuid::Uuid::new_v4().to_string())
            .ty(event_type)
            .source(self.source.as_str())
            .subject(store_id)
            .time(chrono::Utc::now())
            .data("application/json", data)
            .build()
            .map_err(|err| Error::Internal(format!("building the CloudEvent: {err}")))?;
        // the next function continues this span's trace (the store's)
        crate::telemetry::propagation::inject_into_event(
            &tracing_opentelemetry::OpenTelemetrySpanExt::context(&tracing::Span::current()),
            &mut event,
        );
        let mut request = self.client.post(sink);
        if let Some(path) = &self.token_file {
            let token = std::fs::read_to_string(path).map_err(|err| {
                Error::Unavailable(format!(
                    "K_SINK_TOKEN_FILE {} cannot be read: {err}",
                    path.display()
                ))
            })?;
            request = request.bearer_auth(token.trim());
        }
        let response = request
            .event(event)
            .map_err(|err| Error::Unavailable(format!("encoding the CloudEvent: {err}")))?
            .send()
            .await
            .map_err(|err| Error::Unavailable(format!("sending {event_type} to K_SINK: {err}")))?;
        if !response.status().is_success() {
            return Err(Error::Unavailable(format!(
                "K_SINK answered {} to {event_type}",
                response.status()
            )));
        }
        Ok(())
    }
}
