//! What the Deployments and StatefulSets say.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};

use super::tenant::{Failure, Part, Wait};
use super::{Observed, ReadinessPolicy, short};

/// A Deployment past its progress deadline: the controller gave up.
pub(super) fn stalled(observed: &Observed) -> Option<(Failure, String)> {
    observed.deployments.iter().find_map(|d| {
        let condition = d.status.as_ref()?.conditions.as_ref()?.iter().find(|c| {
            c.type_.as_deref() == Some("Progressing")
                && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        })?;
        Some((
            Failure::Stalled,
            format!(
                "Deployment {} did not finish rolling out in time: {}",
                name(&d.metadata.name),
                short(
                    condition
                        .message
                        .as_deref()
                        .unwrap_or("progress deadline exceeded")
                )
            ),
        ))
    })
}

/// Why the workloads are not all available yet; empty when they are.
pub(super) fn not_available(observed: &Observed, policy: &ReadinessPolicy) -> Vec<(Wait, String)> {
    let mut waits = Vec::new();
    if observed.deployments.len() < policy.expected_deployments {
        waits.push((
            Wait::Created,
            format!(
                "Deployments to be created ({} of {})",
                observed.deployments.len(),
                policy.expected_deployments
            ),
        ));
    }
    if observed.stateful_sets.len() < policy.expected_stateful_sets {
        waits.push((
            Wait::Created,
            format!(
                "StatefulSets to be created ({} of {})",
                observed.stateful_sets.len(),
                policy.expected_stateful_sets
            ),
        ));
    }
    waits.extend(observed.deployments.iter().filter_map(deployment_wait));
    waits.extend(observed.stateful_sets.iter().filter_map(stateful_set_wait));
    waits
}

fn name(name: &Option<String>) -> &str {
    name.as_deref().unwrap_or("?")
}

fn deployment_wait(d: &Deployment) -> Option<(Wait, String)> {
    let name = name(&d.metadata.name);
    let starting = Wait::Starting(Part::of_workload(name));
    let desired = d.spec.replicas.unwrap_or(1);
    let Some(status) = d.status.as_ref() else {
        return Some((
            Wait::Created,
            format!("Deployment {name} to report its status"),
        ));
    };
    if let Some(wait) = generation_wait(
        "Deployment",
        name,
        d.metadata.generation,
        status.observed_generation,
    ) {
        return Some(wait);
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    if updated < desired || ready < desired || available < desired {
        return Some((
            starting,
            format!(
                "Deployment {name}: {available} of {desired} replicas available ({updated} updated, {ready} ready)"
            ),
        ));
    }
    if total > desired {
        return Some((
            Wait::Updating,
            format!(
                "Deployment {name}: {} old replicas still terminating",
                total - desired
            ),
        ));
    }
    let available_condition =
        status.conditions.iter().flatten().any(|c| {
            c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True")
        });
    if !available_condition {
        return Some((
            starting,
            format!("Deployment {name} to report the Available condition"),
        ));
    }
    None
}

fn stateful_set_wait(s: &StatefulSet) -> Option<(Wait, String)> {
    let name = name(&s.metadata.name);
    let starting = Wait::Starting(Part::of_workload(name));
    let desired = s.spec.replicas.unwrap_or(1);
    let Some(status) = s.status.as_ref() else {
        return Some((
            Wait::Created,
            format!("StatefulSet {name} to report its status"),
        ));
    };
    if let Some(wait) = generation_wait(
        "StatefulSet",
        name,
        s.metadata.generation,
        status.observed_generation,
    ) {
        return Some(wait);
    }
    let updated = status.updated_replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < desired || ready < desired || available < desired {
        return Some((
            starting,
            format!(
                "StatefulSet {name}: {available} of {desired} replicas available ({updated} updated, {ready} ready)"
            ),
        ));
    }
    // A rolling update is done when the current revision is the update revision.
    if let (Some(current), Some(update)) = (&status.current_revision, &status.update_revision)
        && current != update
    {
        return Some((
            Wait::Updating,
            format!("StatefulSet {name} to finish its rolling update"),
        ));
    }
    None
}

/// The controller has not yet acted on the latest spec: its status describes
/// an older generation and says nothing about the current one.
fn generation_wait(
    kind: &str,
    name: &str,
    generation: Option<i64>,
    observed: Option<i64>,
) -> Option<(Wait, String)> {
    let generation = generation.unwrap_or(0);
    let observed = observed.unwrap_or(0);
    (observed < generation).then(|| {
        (
            Wait::Updating,
            format!(
                "{kind} {name}: the controller to observe generation {generation} (seen {observed})"
            ),
        )
    })
}
