//! What one pod says about the store.

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};
use k8s_openapi::jiff::Timestamp;

use super::tenant::{Failure, Part, Wait};
use super::{ReadinessPolicy, short};

/// Each non-fine state carries what the tenant is told and, for the log,
/// the cluster's own words.
pub(super) enum PodState {
    Fine,
    Waiting(Wait, String),
    Failed(Failure, String),
}

/// Waiting reasons that never resolve without a change by a person.
const IMAGE_REASONS: [&str; 3] = ["ImagePullBackOff", "ErrImagePull", "InvalidImageName"];
const CONFIG_REASONS: [&str; 2] = ["CreateContainerConfigError", "CreateContainerError"];

pub(super) fn assess_pod(
    pod: &Pod,
    events: &[Event],
    policy: &ReadinessPolicy,
    now: Timestamp,
) -> PodState {
    // A pod being deleted (an old ReplicaSet's, a rollout's) no longer counts.
    if pod.metadata.deletion_timestamp.is_some() {
        return PodState::Fine;
    }
    let name = pod.metadata.name.as_deref().unwrap_or("?");
    let Some(status) = pod.status.as_ref() else {
        return PodState::Waiting(
            Wait::Starting(Part::of_pod(pod)),
            format!("pod {name} has no status yet"),
        );
    };
    if status.phase.as_deref() == Some("Succeeded") {
        return PodState::Fine;
    }

    if let Some(state) = unschedulable(pod, name, policy, now) {
        return state;
    }

    let image_of = |container: &str, init: bool| -> String {
        let spec = pod.spec.as_ref();
        let containers = spec.map(|s| {
            if init {
                s.init_containers.clone().unwrap_or_default()
            } else {
                s.containers.clone()
            }
        });
        containers
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.name == container)
            .and_then(|c| c.image)
            .unwrap_or_else(|| "?".to_owned())
    };

    let pod_failed = status.phase.as_deref() == Some("Failed");
    for init in status.init_container_statuses.iter().flatten() {
        if let Some(state) = common_failure(init, name, &image_of(&init.name, true)) {
            return state;
        }
        if let Some(state) = setup_step(init, name, pod_failed, policy) {
            return state;
        }
    }
    for container in status.container_statuses.iter().flatten() {
        if let Some(state) = common_failure(container, name, &image_of(&container.name, false)) {
            return state;
        }
        if waiting_reason(container) == Some("CrashLoopBackOff") {
            return PodState::Failed(
                Failure::Crashing(Part::of_container(&container.name)),
                format!(
                    "container {} of pod {name} keeps crashing (restarted {} times{})",
                    container.name,
                    container.restart_count,
                    last_exit(container)
                ),
            );
        }
    }
    if let Some(state) = failed_mount(pod, name, events, policy, now) {
        return state;
    }
    PodState::Fine
}

/// The setup step a pod is running now (an init container in state
/// `running`), for the tenant's "the WordPress files are being copied".
pub(super) fn running_step(pod: &Pod) -> Option<Part> {
    if pod.metadata.deletion_timestamp.is_some() {
        return None;
    }
    pod.status
        .as_ref()?
        .init_container_statuses
        .iter()
        .flatten()
        .find(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
        .map(|c| Part::of_container(&c.name))
}

/// A pod still creating its containers because a volume cannot be mounted:
/// the kubelet's `FailedMount` event is the only place that says why.
fn failed_mount(
    pod: &Pod,
    name: &str,
    events: &[Event],
    policy: &ReadinessPolicy,
    now: Timestamp,
) -> Option<PodState> {
    let creating = pod
        .status
        .as_ref()?
        .container_statuses
        .iter()
        .flatten()
        .chain(
            pod.status
                .as_ref()?
                .init_container_statuses
                .iter()
                .flatten(),
        )
        .any(|c| {
            waiting_reason(c) == Some("ContainerCreating")
                || waiting_reason(c) == Some("PodInitializing")
        });
    if !creating {
        return None;
    }
    let latest = events
        .iter()
        .filter(|e| {
            e.reason.as_deref() == Some("FailedMount")
                && e.involved_object.kind.as_deref() == Some("Pod")
                && e.involved_object.name.as_deref() == Some(name)
        })
        .max_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0))?;
    let since = pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let waited = since.map_or(0, |since| now.as_second() - since.as_second());
    if waited < policy.mount_grace.as_secs() as i64 {
        return Some(PodState::Waiting(
            Wait::Mounting,
            format!("pod {name} is waiting to mount its volumes"),
        ));
    }
    Some(PodState::Failed(
        Failure::Mount,
        format!(
            "pod {name} cannot mount its volumes: {}",
            short(latest.message.as_deref().unwrap_or("FailedMount"))
        ),
    ))
}

/// Image and configuration problems, for init and regular containers alike.
fn common_failure(container: &ContainerStatus, pod: &str, image: &str) -> Option<PodState> {
    let reason = waiting_reason(container)?;
    let message = container
        .state
        .as_ref()
        .and_then(|s| s.waiting.as_ref())
        .and_then(|w| w.message.as_deref())
        .map(|m| format!(": {}", short(m)))
        .unwrap_or_default();
    let part = Part::of_container(&container.name);
    if IMAGE_REASONS.contains(&reason) {
        let what = if reason == "InvalidImageName" {
            "has an invalid image name"
        } else {
            "cannot pull its image"
        };
        return Some(PodState::Failed(
            Failure::Image(part),
            format!(
                "container {} of pod {pod} {what} {image} ({reason}){message}",
                container.name
            ),
        ));
    }
    if CONFIG_REASONS.contains(&reason) {
        return Some(PodState::Failed(
            Failure::Config(part),
            format!(
                "container {} of pod {pod} cannot be created ({reason}){message}",
                container.name
            ),
        ));
    }
    None
}

/// An init container: the store's setup steps (WordPress files, the
/// WooCommerce setup script). Named in the reason so the log tells which step.
fn setup_step(
    init: &ContainerStatus,
    pod: &str,
    pod_failed: bool,
    policy: &ReadinessPolicy,
) -> Option<PodState> {
    let part = Part::of_container(&init.name);
    let failed_setup = || {
        PodState::Failed(
            Failure::Setup(part),
            format!(
                "the store setup failed: init container {} of pod {pod}{}",
                init.name,
                last_exit(init)
            ),
        )
    };
    if waiting_reason(init) == Some("CrashLoopBackOff") {
        return Some(failed_setup());
    }
    let terminated = init.state.as_ref().and_then(|s| s.terminated.as_ref());
    // The current state decides: a step whose retry ended with exit 0 is done,
    // whatever its earlier attempts (lastState) say.
    if terminated.is_some_and(|t| t.exit_code == 0) {
        return None;
    }
    let last_terminated = init.last_state.as_ref().and_then(|s| s.terminated.as_ref());
    let failed_now = terminated.is_some_and(|t| t.exit_code != 0);
    let failed_before = last_terminated.is_some_and(|t| t.exit_code != 0);
    if (failed_now || failed_before)
        && (pod_failed || init.restart_count >= policy.init_restart_limit)
    {
        return Some(failed_setup());
    }
    if failed_now || failed_before {
        return Some(PodState::Waiting(
            Wait::Retrying(part),
            format!(
                "setup step {} of pod {pod} is being retried{}",
                init.name,
                last_exit(init)
            ),
        ));
    }
    None
}

/// `; last exit code N (Reason): message` from the current or last termination.
fn last_exit(container: &ContainerStatus) -> String {
    let terminated = container
        .state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .or_else(|| {
            container
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
        });
    let Some(t) = terminated else {
        return String::new();
    };
    let mut out = format!("; last exit code {}", t.exit_code);
    if let Some(reason) = t.reason.as_deref().filter(|r| !r.is_empty()) {
        out.push_str(&format!(" ({reason})"));
    }
    if let Some(message) = t.message.as_deref().filter(|m| !m.trim().is_empty()) {
        out.push_str(&format!(": {}", short(message)));
    }
    out
}

fn waiting_reason(container: &ContainerStatus) -> Option<&str> {
    container
        .state
        .as_ref()?
        .waiting
        .as_ref()?
        .reason
        .as_deref()
}

/// The scheduler's verdict. The scheduler keeps retrying an unschedulable
/// pod, so it is waited for: an unbound PersistentVolumeClaim for the volume
/// grace period (the provisioner may still be creating the volume), anything
/// else for the shorter unschedulable grace; then it is failed with the
/// scheduler's words.
fn unschedulable(
    pod: &Pod,
    name: &str,
    policy: &ReadinessPolicy,
    now: Timestamp,
) -> Option<PodState> {
    let condition = pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| {
        c.type_ == "PodScheduled"
            && c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
    })?;
    let message = condition.message.as_deref().unwrap_or("no node fits");
    let since = condition
        .last_transition_time
        .as_ref()
        .or(pod.metadata.creation_timestamp.as_ref())
        .map(|t| t.0);
    let waited = since.map_or(0, |since| now.as_second() - since.as_second());
    if message.contains("unbound") && message.contains("PersistentVolumeClaim") {
        if waited < policy.unbound_volume_grace.as_secs() as i64 {
            return Some(PodState::Waiting(
                Wait::Volume,
                format!("pod {name} is waiting for its volume to be bound"),
            ));
        }
        return Some(PodState::Failed(
            Failure::Volume,
            format!(
                "pod {name} cannot be scheduled: its volume was not bound within {}s: {}",
                policy.unbound_volume_grace.as_secs(),
                short(message)
            ),
        ));
    }
    if waited < policy.unschedulable_grace.as_secs() as i64 {
        return Some(PodState::Waiting(
            Wait::Scheduling,
            format!("pod {name} is waiting to be scheduled: {}", short(message)),
        ));
    }
    Some(PodState::Failed(
        Failure::Unschedulable,
        format!("pod {name} cannot be scheduled: {}", short(message)),
    ))
}
