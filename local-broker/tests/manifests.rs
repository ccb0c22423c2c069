//! Loading `knative/`: the real directory loads, and every kind of mistake is
//! an error that names the file, the document and the field.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::path::{Path, PathBuf};

use local_broker::manifest::Manifests;

fn knative_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../knative")
}

#[test]
fn the_real_knative_directory_loads() {
    let m = Manifests::load_dir(&knative_dir()).expect("knative/ loads");
    assert_eq!(m.brokers.len(), 1);
    assert_eq!(
        (m.brokers[0].namespace.as_str(), m.brokers[0].name.as_str()),
        ("storefleet", "default")
    );
    let mut services: Vec<&str> = m.services.iter().map(|s| s.name.as_str()).collect();
    services.sort();
    assert_eq!(
        services,
        [
            "create-store",
            "delete-store",
            "list-stores",
            "readiness-checker"
        ]
    );
    assert_eq!(m.api_server_sources.len(), 1);
    assert_eq!(m.ping_sources.len(), 1);
    let mut bound: Vec<&str> = m
        .sink_bindings
        .iter()
        .map(|b| b.subject_service.as_str())
        .collect();
    bound.sort();
    assert_eq!(bound, ["create-store", "delete-store", "readiness-checker"]);
    // Every Trigger has retries and a dead-letter sink at readiness-checker's /dead-letters.
    for t in &m.triggers {
        assert!(t.delivery.retry > 0, "{}", t.name);
        let dls = t
            .delivery
            .dead_letter_sink
            .as_ref()
            .expect("deadLetterSink");
        assert_eq!(
            dls.reference.as_ref().unwrap().name,
            "readiness-checker",
            "{}",
            t.name
        );
        assert_eq!(dls.uri.as_deref(), Some("/dead-letters"), "{}", t.name);
        assert_eq!(t.subscriber.uri.as_deref(), Some("/events"), "{}", t.name);
    }
    // The RBAC of the ApiServerSource is understood and skipped on purpose.
    let skipped: Vec<&str> = m.skipped.iter().map(|(_, k, _)| k.as_str()).collect();
    assert!(skipped.contains(&"ClusterRole") && skipped.contains(&"ServiceAccount"));
}

/// Loads `yaml` as `bad.yaml` and returns the error text.
fn error_of(yaml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), yaml).unwrap();
    Manifests::load_dir(dir.path())
        .expect_err("must not load")
        .to_string()
}

const BROKER: &str = "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: default, namespace: storefleet}\n---\napiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: fn, namespace: storefleet}\nspec: {}\n---\n";

fn assert_contains(error: &str, parts: &[&str]) {
    for p in parts {
        assert!(error.contains(p), "error {error:?} should contain {p:?}");
    }
}

#[test]
fn unknown_field_in_a_trigger_names_file_document_and_field() {
    let e = error_of(&format!(
        "{BROKER}apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {{name: t, namespace: storefleet}}\nspec:\n  broker: default\n  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: fn}}}}\n  delivery:\n    retries: 3\n"
    ));
    assert_contains(
        &e,
        &[
            "bad.yaml",
            "document 3",
            "Trigger t",
            "spec.delivery",
            "unknown field `retries`",
        ],
    );
}

#[test]
fn unknown_kind_is_an_error() {
    let e = error_of(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\nspec: {}\n",
    );
    assert_contains(
        &e,
        &[
            "bad.yaml",
            "document 1",
            "apps/v1 kind Deployment is not understood",
        ],
    );
}

#[test]
fn cesql_is_refused_at_load_time() {
    let e = error_of(&format!(
        "{BROKER}apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {{name: t, namespace: storefleet}}\nspec:\n  broker: default\n  filters:\n    - cesql: \"type = 'x'\"\n  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: fn}}}}\n"
    ));
    assert_contains(
        &e,
        &[
            "document 3",
            "spec.filters: [0].cesql",
            "not supported by the local broker",
        ],
    );
}

#[test]
fn filter_with_two_dialects_or_two_attributes_is_refused() {
    let e = error_of(&format!(
        "{BROKER}apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {{name: t, namespace: storefleet}}\nspec:\n  broker: default\n  filters:\n    - all:\n      - exact: {{type: a, source: b}}\n  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: fn}}}}\n"
    ));
    assert_contains(
        &e,
        &["spec.filters: [0].all[0].exact: exactly one attribute"],
    );
    let e = error_of(&format!(
        "{BROKER}apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {{name: t, namespace: storefleet}}\nspec:\n  broker: default\n  filters:\n    - exact: {{type: a}}\n      prefix: {{type: b}}\n  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: fn}}}}\n"
    ));
    assert_contains(&e, &["exactly one dialect", "found 2"]);
}

#[test]
fn bad_durations_and_policies_are_refused() {
    let trig = |delivery: &str| {
        format!(
            "{BROKER}apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {{name: t, namespace: storefleet}}\nspec:\n  broker: default\n  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: fn}}}}\n  delivery:\n{delivery}"
        )
    };
    assert_contains(
        &error_of(&trig("    backoffDelay: 500ms\n")),
        &["spec.delivery.backoffDelay", "not an ISO 8601 duration"],
    );
    assert_contains(
        &error_of(&trig("    backoffPolicy: fibonacci\n")),
        &["spec.delivery.backoffPolicy", "fibonacci"],
    );
}

#[test]
fn references_to_missing_objects_are_refused() {
    let e = error_of(&format!(
        "{BROKER}apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {{name: t, namespace: storefleet}}\nspec:\n  broker: other\n  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: fn}}}}\n"
    ));
    assert_contains(&e, &["Trigger t", "spec.broker: no Broker \"other\""]);
    let e = error_of(&format!(
        "{BROKER}apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {{name: t, namespace: storefleet}}\nspec:\n  broker: default\n  subscriber: {{ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: typo}}}}\n"
    ));
    assert_contains(&e, &["spec.subscriber.ref: no Service \"typo\""]);
}

#[test]
fn apiserversource_must_use_resource_mode() {
    let e = error_of(&format!(
        "{BROKER}apiVersion: sources.knative.dev/v1\nkind: ApiServerSource\nmetadata: {{name: s, namespace: storefleet}}\nspec:\n  resources: [{{apiVersion: v1, kind: Pod}}]\n  sink: {{ref: {{apiVersion: eventing.knative.dev/v1, kind: Broker, name: default}}}}\n"
    ));
    assert_contains(&e, &["ApiServerSource s", "spec.mode", "mode: Resource"]);
    let e = error_of(&format!(
        "{BROKER}apiVersion: sources.knative.dev/v1\nkind: ApiServerSource\nmetadata: {{name: s, namespace: storefleet}}\nspec:\n  mode: Resource\n  resources: [{{apiVersion: v1, kind: Pod, selector: {{matchExpressions: [{{key: a, operator: Sometimes}}]}}}}]\n  sink: {{ref: {{apiVersion: eventing.knative.dev/v1, kind: Broker, name: default}}}}\n"
    ));
    assert_contains(&e, &["spec.resources[0].selector"]);
}

#[test]
fn ping_source_schedule_is_checked() {
    let ping = |schedule: &str| {
        format!(
            "{BROKER}apiVersion: sources.knative.dev/v1\nkind: PingSource\nmetadata: {{name: p, namespace: storefleet}}\nspec:\n  schedule: \"{schedule}\"\n  sink: {{ref: {{apiVersion: eventing.knative.dev/v1, kind: Broker, name: default}}}}\n"
        )
    };
    assert_contains(
        &error_of(&ping("every minute")),
        &["PingSource p", "spec.schedule"],
    );
    assert_contains(
        &error_of(&ping("0 * * * * *")),
        &["spec.schedule", "six fields"],
    );
}

#[test]
fn missing_namespace_and_duplicate_names_are_refused() {
    let e =
        error_of("apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: default}\n");
    assert_contains(&e, &["Broker default", "metadata.namespace is required"]);
    let e = error_of(&format!(
        "{BROKER}apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {{name: default, namespace: storefleet}}\n"
    ));
    assert_contains(&e, &["document 3", "a second Broker named \"default\""]);
}

#[test]
fn unknown_field_in_metadata_or_service_top_level_is_refused() {
    let e = error_of(
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: fn, namespace: s}\nspec: {}\nstatus: {}\n",
    );
    assert_contains(&e, &["Service fn", "unknown field `status`"]);
}
