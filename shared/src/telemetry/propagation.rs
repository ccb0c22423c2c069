//! The W3C trace context (`traceparent`, `tracestate`) in and out of HTTP
//! headers and CloudEvents.
//!
//! An event carries it as the CloudEvents distributed-tracing extension
//! (attributes `traceparent` and `tracestate`; in binary mode the headers
//! `ce-traceparent` and `ce-tracestate`). That is the trace the event
//! belongs to — the store's — and it wins over the hop's own `traceparent`
//! header, which a Broker with tracing on sets for its delivery.

use std::collections::HashMap;

use cloudevents::Event;
use cloudevents::event::ExtensionValue;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;

/// The extension attributes (and the header names without `ce-`).
pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";

/// Header names of a binary-mode CloudEvent's tracing extension.
const CE_TRACEPARENT: &str = "ce-traceparent";
const CE_TRACESTATE: &str = "ce-tracestate";

/// The parent context a request continues: the event's extension
/// (`ce-traceparent`) when it carries one, else the `traceparent` header,
/// else none (an invalid context: the span starts a new trace).
pub fn from_headers(headers: &axum::http::HeaderMap) -> opentelemetry::Context {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let carrier = match header(CE_TRACEPARENT) {
        Some(parent) => Carrier::of(Some(parent), header(CE_TRACESTATE)),
        None => Carrier::of(header(TRACEPARENT), header(TRACESTATE)),
    };
    TraceContextPropagator::new().extract(&carrier)
}

/// The trace context an event carries (its distributed-tracing extension).
pub fn from_event(event: &Event) -> opentelemetry::Context {
    let attribute = |name: &str| event.extension(name).map(ExtensionValue::to_string);
    let (parent, state) = (attribute(TRACEPARENT), attribute(TRACESTATE));
    TraceContextPropagator::new().extract(&Carrier::of(parent.as_deref(), state.as_deref()))
}

/// `cx` as W3C header values: `(traceparent, tracestate)`; `None` when `cx`
/// has no valid span context (nothing to continue).
pub fn to_w3c(cx: &opentelemetry::Context) -> Option<(String, Option<String>)> {
    let mut carrier = Carrier::default();
    TraceContextPropagator::new().inject_context(cx, &mut carrier);
    let parent = carrier.0.remove(TRACEPARENT)?;
    let state = carrier.0.remove(TRACESTATE).filter(|s| !s.is_empty());
    Some((parent, state))
}

/// Set the distributed-tracing extension of `event` from `cx`.
pub fn inject_into_event(cx: &opentelemetry::Context, event: &mut Event) {
    if let Some((parent, state)) = to_w3c(cx) {
        event.set_extension(TRACEPARENT, parent);
        if let Some(state) = state {
            event.set_extension(TRACESTATE, state);
        }
    }
}

/// `traceparent`/`tracestate` as a text map.
#[derive(Default)]
struct Carrier(HashMap<String, String>);

impl Carrier {
    fn of(parent: Option<&str>, state: Option<&str>) -> Carrier {
        let mut map = HashMap::new();
        for (key, value) in [(TRACEPARENT, parent), (TRACESTATE, state)] {
            if let Some(value) = value {
                map.insert(key.to_owned(), value.to_owned());
            }
        }
        Carrier(map)
    }
}

impl Extractor for Carrier {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

impl Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use cloudevents::{EventBuilder, EventBuilderV10};
    use opentelemetry::trace::TraceContextExt;

    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn trace_id(cx: &opentelemetry::Context) -> String {
        cx.span().span_context().trace_id().to_string()
    }

    #[test]
    fn the_events_extension_wins_over_the_hops_header() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            TRACEPARENT,
            "00-11111111111111111111111111111111-2222222222222222-01"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            trace_id(&from_headers(&headers)),
            "11111111111111111111111111111111"
        );
        headers.insert(CE_TRACEPARENT, PARENT.parse().unwrap());
        headers.insert(CE_TRACESTATE, "vendor=value".parse().unwrap());
        let cx = from_headers(&headers);
        assert_eq!(trace_id(&cx), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(cx.span().span_context().is_remote());
        assert_eq!(
            cx.span().span_context().trace_state().header(),
            "vendor=value"
        );
    }

    #[test]
    fn no_or_malformed_traceparent_is_no_parent() {
        assert!(
            !from_headers(&axum::http::HeaderMap::new())
                .span()
                .span_context()
                .is_valid()
        );
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(TRACEPARENT, "00-not-a-trace-01".parse().unwrap());
        assert!(!from_headers(&headers).span().span_context().is_valid());
    }

    #[test]
    fn an_events_extension_round_trips() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(TRACEPARENT, PARENT.parse().unwrap());
        headers.insert(TRACESTATE, "vendor=value".parse().unwrap());
        let cx = from_headers(&headers);
        let mut event = EventBuilderV10::new()
            .id("1")
            .ty("io.storefleet.store.requested")
            .source("/storefleet/test")
            .build()
            .unwrap();
        inject_into_event(&cx, &mut event);
        assert_eq!(event.extension(TRACEPARENT).unwrap().to_string(), PARENT);
        assert_eq!(
            event.extension(TRACESTATE).unwrap().to_string(),
            "vendor=value"
        );
        assert_eq!(
            trace_id(&from_event(&event)),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }

    #[test]
    fn no_context_sets_no_extension() {
        let mut event = EventBuilderV10::new()
            .id("1")
            .ty("t")
            .source("/s")
            .build()
            .unwrap();
        inject_into_event(&opentelemetry::Context::new(), &mut event);
        assert!(event.extension(TRACEPARENT).is_none());
        assert!(!from_event(&event).span().span_context().is_valid());
    }
}
