//! One fixture per case in `fixtures/readiness/` (multi-document YAML of the
//! namespace's Deployments, StatefulSets and Pods, as the API returns them).

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;

use super::*;

fn load(name: &str) -> Observed {
    let path = format!("{}/fixtures/readiness/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut observed = Observed::default();
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let value = serde_yaml_ng::Value::deserialize(document).unwrap();
        if value.is_null() {
            continue;
        }
        let kind = value["kind"].as_str().unwrap_or_default().to_owned();
        match kind.as_str() {
            "Deployment" => observed
                .deployments
                .push(serde_yaml_ng::from_value(value).unwrap()),
            "StatefulSet" => observed
                .stateful_sets
                .push(serde_yaml_ng::from_value(value).unwrap()),
            "Pod" => observed
                .pods
                .push(serde_yaml_ng::from_value(value).unwrap()),
            "Event" => observed
                .events
                .push(serde_yaml_ng::from_value(value).unwrap()),
            other => panic!("{path}: unexpected kind {other:?}"),
        }
    }
    observed
}

fn policy() -> ReadinessPolicy {
    ReadinessPolicy::for_engine(Engine::WooCommerce)
}

/// Ten minutes after the fixtures' pods were created.
fn now() -> Timestamp {
    "2026-11-22T10:10:00Z".parse().unwrap()
}

fn verdict(name: &str) -> Verdict {
    assess(&load(name), &policy(), now())
}

#[track_caller]
fn failed_with(name: &str, parts: &[&str]) {
    match verdict(name) {
        Verdict::Failed { reason } => {
            for part in parts {
                assert!(reason.contains(part), "{name}: {reason:?} lacks {part:?}");
            }
        }
        other => panic!("{name}: expected Failed, got {other:?}"),
    }
}

#[track_caller]
fn progressing_with(name: &str, parts: &[&str]) {
    match verdict(name) {
        Verdict::Progressing { waiting_for } => {
            for part in parts {
                assert!(
                    waiting_for.contains(part),
                    "{name}: {waiting_for:?} lacks {part:?}"
                );
            }
        }
        other => panic!("{name}: expected Progressing, got {other:?}"),
    }
}

#[test]
fn everything_available_is_ready() {
    assert_eq!(verdict("ready.yaml"), Verdict::Ready);
}

#[test]
fn a_generation_the_controller_has_not_observed_is_progressing() {
    progressing_with(
        "rollout-not-observed.yaml",
        &["Deployment wordpress", "observe generation 3"],
    );
}

#[test]
fn fewer_workloads_than_the_chart_renders_is_progressing() {
    progressing_with(
        "missing-statefulset.yaml",
        &["StatefulSets to be created (0 of 1)"],
    );
    progressing_with_nothing();
}

fn progressing_with_nothing() {
    let verdict = assess(&Observed::default(), &policy(), now());
    assert!(
        matches!(verdict, Verdict::Progressing { .. }),
        "{verdict:?}"
    );
}

#[test]
fn image_pull_back_off_names_the_image() {
    failed_with(
        "image-pull-backoff.yaml",
        &[
            "container wordpress",
            "cannot pull its image wordpress:6.8-nonexistent",
            "ImagePullBackOff",
        ],
    );
}

#[test]
fn err_image_pull_names_the_image_and_the_cause() {
    failed_with(
        "err-image-pull.yaml",
        &[
            "registry.invalid/wordpress:6.8",
            "ErrImagePull",
            "no such host",
        ],
    );
}

#[test]
fn invalid_image_name_is_failed() {
    failed_with(
        "invalid-image-name.yaml",
        &["invalid image name WordPress:Latest"],
    );
}

#[test]
fn create_container_config_error_carries_the_kubelet_message() {
    failed_with(
        "create-container-config-error.yaml",
        &[
            "cannot be created (CreateContainerConfigError)",
            "secret \"store-credentials\" not found",
        ],
    );
}

#[test]
fn crash_loop_names_the_container_and_the_last_exit() {
    failed_with(
        "crash-loop.yaml",
        &[
            "container mysql of pod mysql-0 keeps crashing",
            "restarted 5 times",
            "last exit code 1 (Error)",
            "Aborting",
        ],
    );
}

#[test]
fn a_setup_in_crash_loop_is_a_failed_setup_with_its_message() {
    failed_with(
        "setup-crash-loop.yaml",
        &[
            "the store setup failed",
            "init container woocommerce-setup",
            "last exit code 1",
            "Could not create directory",
        ],
    );
}

#[test]
fn a_setup_failing_once_is_retried_then_failed_at_the_restart_limit() {
    progressing_with(
        "setup-retrying.yaml",
        &["setup step woocommerce-setup", "being retried"],
    );
    let strict = ReadinessPolicy {
        init_restart_limit: 1,
        ..policy()
    };
    let verdict = assess(&load("setup-retrying.yaml"), &strict, now());
    assert!(
        matches!(&verdict, Verdict::Failed { reason } if reason.contains("the store setup failed")),
        "{verdict:?}"
    );
}

/// A setup step that failed once and then succeeded (its current state is
/// terminated with exit 0, its last state a failure) is done: the store is
/// Ready, whatever the restart limit.
#[test]
fn a_setup_step_that_succeeded_on_its_retry_is_done() {
    assert_eq!(verdict("setup-succeeded-on-retry.yaml"), Verdict::Ready);
    let strict = ReadinessPolicy {
        init_restart_limit: 1,
        ..policy()
    };
    assert_eq!(
        assess(&load("setup-succeeded-on-retry.yaml"), &strict, now()),
        Verdict::Ready
    );
}

#[test]
fn unschedulable_carries_the_scheduler_message() {
    failed_with(
        "unschedulable.yaml",
        &["pod mysql-0 cannot be scheduled", "Insufficient memory"],
    );
}

#[test]
fn a_momentary_unschedulable_is_waited_for() {
    // Unschedulable for 10 minutes, but with a 15-minute grace: still progressing.
    let patient = ReadinessPolicy {
        unschedulable_grace: Duration::from_secs(900),
        ..policy()
    };
    let verdict = assess(&load("unschedulable.yaml"), &patient, now());
    assert!(
        matches!(&verdict, Verdict::Progressing { waiting_for } if waiting_for.contains("waiting to be scheduled") && waiting_for.contains("Insufficient memory")),
        "{verdict:?}"
    );
}

#[test]
fn an_unbound_volume_is_tolerated_for_the_grace_period_only() {
    // Pending for 10 minutes with a 15-minute grace: still progressing.
    let patient = ReadinessPolicy {
        unbound_volume_grace: Duration::from_secs(900),
        ..policy()
    };
    let verdict = assess(&load("unbound-volume.yaml"), &patient, now());
    assert!(
        matches!(&verdict, Verdict::Progressing { waiting_for } if waiting_for.contains("volume to be bound")),
        "{verdict:?}"
    );
    // With the default 3 minutes, 10 minutes is too long.
    failed_with(
        "unbound-volume.yaml",
        &[
            "volume was not bound within 180s",
            "unbound immediate PersistentVolumeClaims",
        ],
    );
}

#[test]
fn a_deployment_past_its_progress_deadline_is_failed() {
    failed_with(
        "progress-deadline.yaml",
        &[
            "Deployment wordpress did not finish rolling out",
            "timed out progressing",
        ],
    );
}

#[test]
fn pods_being_deleted_do_not_count() {
    let mut observed = load("crash-loop.yaml");
    for pod in &mut observed.pods {
        pod.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
    }
    let verdict = assess(&observed, &policy(), now());
    assert!(
        matches!(verdict, Verdict::Progressing { .. }),
        "{verdict:?}"
    );
}

#[test]
fn a_volume_that_cannot_be_mounted_is_failed_after_the_grace_period() {
    failed_with(
        "failed-mount.yaml",
        &[
            "pod wordpress-6d5f7-x2x9z cannot mount its volumes",
            "secret \"store-credentials\" not found",
        ],
    );
    let patient = ReadinessPolicy {
        mount_grace: Duration::from_secs(900),
        ..policy()
    };
    let verdict = assess(&load("failed-mount.yaml"), &patient, now());
    assert!(
        matches!(&verdict, Verdict::Progressing { waiting_for } if waiting_for.contains("waiting to mount")),
        "{verdict:?}"
    );
    // Without the event there is nothing to report but "not available yet".
    let mut observed = load("failed-mount.yaml");
    observed.events.clear();
    assert!(matches!(
        assess(&observed, &policy(), now()),
        Verdict::Progressing { .. }
    ));
}
