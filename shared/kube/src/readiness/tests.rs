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

/// Failed with `expected` for the tenant and `parts` in the log's detail.
#[track_caller]
fn failed_with(name: &str, expected: Failure, parts: &[&str]) {
    match verdict(name) {
        Verdict::Failed { reason, detail } => {
            assert_eq!(reason, expected, "{name}: {detail}");
            for part in parts {
                assert!(detail.contains(part), "{name}: {detail:?} lacks {part:?}");
            }
        }
        other => panic!("{name}: expected Failed, got {other:?}"),
    }
}

/// Progressing on `expected` for the tenant with `parts` in the detail.
#[track_caller]
fn progressing_with(name: &str, expected: Wait, parts: &[&str]) {
    match verdict(name) {
        Verdict::Progressing {
            waiting_for,
            detail,
        } => {
            assert_eq!(waiting_for, expected, "{name}: {detail}");
            for part in parts {
                assert!(detail.contains(part), "{name}: {detail:?} lacks {part:?}");
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
        Wait::Updating,
        &["Deployment wordpress", "observe generation 3"],
    );
}

#[test]
fn fewer_workloads_than_the_chart_renders_is_progressing() {
    progressing_with(
        "missing-statefulset.yaml",
        Wait::Created,
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
        Failure::Image(Part::WordPress),
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
        Failure::Image(Part::WordPress),
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
        Failure::Image(Part::WordPress),
        &["invalid image name WordPress:Latest"],
    );
}

#[test]
fn create_container_config_error_carries_the_kubelet_message() {
    failed_with(
        "create-container-config-error.yaml",
        Failure::Config(Part::WordPress),
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
        Failure::Crashing(Part::Database),
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
        Failure::Setup(Part::WooCommerceSetup),
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
        Wait::Retrying(Part::WooCommerceSetup),
        &["setup step woocommerce-setup", "being retried"],
    );
    let strict = ReadinessPolicy {
        init_restart_limit: 1,
        ..policy()
    };
    let verdict = assess(&load("setup-retrying.yaml"), &strict, now());
    assert!(
        matches!(&verdict, Verdict::Failed { reason: Failure::Setup(Part::WooCommerceSetup), detail } if detail.contains("the store setup failed")),
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
        Failure::Unschedulable,
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
        matches!(&verdict, Verdict::Progressing { waiting_for: Wait::Scheduling, detail } if detail.contains("waiting to be scheduled") && detail.contains("Insufficient memory")),
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
        matches!(&verdict, Verdict::Progressing { waiting_for: Wait::Volume, detail } if detail.contains("volume to be bound")),
        "{verdict:?}"
    );
    // With the default 3 minutes, 10 minutes is too long.
    failed_with(
        "unbound-volume.yaml",
        Failure::Volume,
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
        Failure::Stalled,
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
        Failure::Mount,
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
        matches!(&verdict, Verdict::Progressing { waiting_for: Wait::Mounting, detail } if detail.contains("waiting to mount")),
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

#[test]
fn the_running_setup_step_is_what_the_tenant_reads() {
    progressing_with(
        "copying-files.yaml",
        Wait::Starting(Part::WordPressFiles),
        &["Deployment wordpress: 0 of 1 replicas available"],
    );
    assert_eq!(
        Wait::Starting(Part::WordPressFiles).sentence(),
        "the WordPress files are being copied"
    );
    progressing_with(
        "missing-statefulset.yaml",
        Wait::Created,
        &["StatefulSets to be created"],
    );
}

/// Texts of the cluster that must never reach the tenant: every hostile
/// fixture carries some of them in the field its verdict reads.
const HOSTILE: [&str; 16] = [
    "registry.internal.example",
    "secret-tag",
    "10.43.0.",
    "10.0.0.",
    "http",
    "/etc/rancher",
    ".kube/config",
    "kubeconfig",
    "nodes are available",
    "0/7",
    "taint",
    "serviceaccount",
    "store-zzzz9999",
    "store-credentials",
    "worker-3",
    "x2x9z",
];

/// The tenant's text of a verdict and the log's.
fn texts(verdict: &Verdict) -> Option<(String, String)> {
    match verdict {
        Verdict::Ready => None,
        Verdict::Progressing {
            waiting_for,
            detail,
        } => Some((waiting_for.sentence().to_owned(), detail.clone())),
        Verdict::Failed { reason, detail } => Some((reason.sentence(), detail.clone())),
    }
}

#[test]
fn hostile_cluster_texts_reach_the_log_only() {
    let patient = ReadinessPolicy {
        unschedulable_grace: Duration::from_secs(900),
        mount_grace: Duration::from_secs(900),
        ..policy()
    };
    for (fixture, policy, expected) in [
        (
            "hostile-image.yaml",
            policy(),
            "registry.internal.example:5000",
        ),
        (
            "hostile-unschedulable.yaml",
            policy(),
            "0/7 nodes are available",
        ),
        (
            "hostile-unschedulable.yaml",
            patient.clone(),
            "0/7 nodes are available",
        ),
        (
            "hostile-setup.yaml",
            policy(),
            "storefront-check.storefleet.svc",
        ),
        (
            "hostile-setup-retrying.yaml",
            policy(),
            "/home/ops/.kube/config",
        ),
        ("hostile-mount.yaml", policy(), "https://10.43.0.1:443"),
        (
            "hostile-crash-loop.yaml",
            policy(),
            "http://config.internal.example",
        ),
    ] {
        let verdict = assess(&load(fixture), &policy, now());
        let (tenant, log) = texts(&verdict).unwrap_or_else(|| panic!("{fixture}: Ready"));
        // the fixture does exercise a path that reads the hostile field ...
        assert!(
            log.contains(expected),
            "{fixture}: the log lacks {expected:?}: {log}"
        );
        // ... and the tenant reads none of it
        for hostile in HOSTILE {
            assert!(
                !tenant.contains(hostile),
                "{fixture}: the tenant reads {hostile:?}: {tenant}"
            );
        }
    }
}

/// Every fixture, under the default and a patient policy: the tenant's
/// sentence names no pod, container image, node count or address.
#[test]
fn no_verdict_shows_the_tenant_cluster_text() {
    let patient = ReadinessPolicy {
        unschedulable_grace: Duration::from_secs(900),
        unbound_volume_grace: Duration::from_secs(900),
        mount_grace: Duration::from_secs(900),
        ..policy()
    };
    let dir = format!("{}/fixtures/readiness", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        for policy in [policy(), patient.clone()] {
            let Some((tenant, _)) = texts(&assess(&load(&name), &policy, now())) else {
                continue;
            };
            seen += 1;
            for cluster_text in HOSTILE.iter().chain(&[
                "wordpress:",
                "mysql:",
                "mysql-0",
                "pod ",
                "container ",
                "Back",
            ]) {
                assert!(
                    !tenant.contains(cluster_text),
                    "{name}: the tenant reads {cluster_text:?}: {tenant}"
                );
            }
        }
    }
    assert!(seen >= 30, "only {seen} verdicts looked at");
}
