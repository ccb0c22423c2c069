//! Reads the real `knative/` Triggers and checks that every event type the
//! functions emit is consumed by exactly the intended function(s), and
//! nothing is consumed twice by accident.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::collections::BTreeMap;
use std::path::Path;

use cloudevents::{EventBuilder, EventBuilderV10};
use local_broker::manifest::Manifests;

/// Every event type that reaches the Broker, with the Services that must
/// consume it (docs/events.md). An empty list: accepted by the broker,
/// consumed by nobody (the emitter already wrote the activity log).
/// `the_list_is_every_type_the_functions_emit` ties it to the functions'
/// own constants, so a new type cannot be added without this test seeing it.
const EMITTED: &[(&str, &[&str])] = &[
    ("io.storefleet.store.requested", &["create-store"]),
    ("io.storefleet.store.installed", &["readiness-checker"]),
    ("io.storefleet.store.ready", &[]),
    ("io.storefleet.store.failed", &[]),
    ("io.storefleet.store.delete-requested", &["delete-store"]),
    ("io.storefleet.store.deleted", &[]),
    ("dev.knative.apiserver.resource.add", &["readiness-checker"]),
    (
        "dev.knative.apiserver.resource.update",
        &["readiness-checker"],
    ),
    (
        "dev.knative.apiserver.resource.delete",
        &["readiness-checker"],
    ),
    ("dev.knative.sources.ping", &["readiness-checker"]),
];

fn event_of_type(ty: &str) -> cloudevents::Event {
    EventBuilderV10::new()
        .id("coverage")
        .source("/storefleet/test")
        .ty(ty)
        .subject("abcd1234")
        .extension("kind", "Pod")
        .extension("namespace", "store-abcd1234")
        .build()
        .unwrap()
}

#[test]
fn every_emitted_type_reaches_exactly_the_intended_functions() {
    let m = Manifests::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../knative")).unwrap();
    let mut used_triggers = BTreeMap::new();
    for (ty, want) in EMITTED {
        let event = event_of_type(ty);
        let mut got: Vec<&str> = m
            .triggers
            .iter()
            .filter(|t| t.filter.matches(&event))
            .map(|t| {
                *used_triggers.entry(t.name.clone()).or_insert(0) += 1;
                t.subscriber.reference.as_ref().unwrap().name.as_str()
            })
            .collect();
        got.sort();
        assert_eq!(&got, want, "{ty}: consumed by {got:?}, intended {want:?}");
    }
    // Every Trigger serves some emitted type, and exactly one: a Trigger
    // matching several types would deliver each twice if another Trigger
    // for the same function matched too.
    for t in &m.triggers {
        assert_eq!(
            used_triggers.get(&t.name),
            Some(&1),
            "Trigger {} should match exactly one emitted type",
            t.name
        );
    }
}

#[test]
fn the_list_is_every_type_the_functions_emit() {
    use storefleet_shared::domain::EventType;
    let mut emitted: Vec<&str> = EventType::ALL.iter().map(|ty| ty.as_str()).collect();
    emitted.sort();
    let mut listed: Vec<&str> = EMITTED.iter().map(|(ty, _)| *ty).collect();
    listed.sort();
    assert_eq!(listed, emitted, "EMITTED must list every event type");
}

#[test]
fn triggers_never_match_a_type_nobody_emits() {
    let m = Manifests::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../knative")).unwrap();
    for stray in [
        "io.storefleet.store.unknown",
        "io.storefleet.store",
        "dev.knative.apiserver.ref.add",
    ] {
        let e = event_of_type(stray);
        let hits: Vec<_> = m
            .triggers
            .iter()
            .filter(|t| t.filter.matches(&e))
            .map(|t| &t.name)
            .collect();
        assert!(hits.is_empty(), "{stray} matched {hits:?}");
    }
}

/// Every delivery is authenticated (docs/events.md): each Trigger's
/// subscriber and dead-letter sink names the audience its function accepts
/// (`storefleet/<Service>`, the default of STOREFLEET_EVENTS_OIDC_AUDIENCE), so
/// Knative and the local broker send a token for it. A Destination without
/// an audience would get no token, and the function would refuse every event.
#[test]
fn every_subscriber_and_dead_letter_sink_names_its_functions_audience() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../knative");
    let m = Manifests::load_dir(&root).expect("knative/ loads");
    assert!(!m.triggers.is_empty());
    for t in &m.triggers {
        let sinks = std::iter::once(("subscriber", &t.subscriber)).chain(
            t.delivery
                .dead_letter_sink
                .iter()
                .map(|d| ("deadLetterSink", d)),
        );
        for (field, d) in sinks {
            let service = &d.reference.as_ref().expect("a Service ref").name;
            assert_eq!(
                d.audience.as_deref(),
                Some(format!("storefleet/{service}").as_str()),
                "Trigger {}: spec.{field}.audience",
                t.name
            );
        }
    }
}
