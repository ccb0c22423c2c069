//! Is a store ready? A pure verdict over what its namespace holds, plus
//! [`observe`] which lists the objects and applies it.
//!
//! Ready means: every Deployment and StatefulSet is available at its current
//! generation and at least the chart's workloads exist. The WooCommerce setup
//! runs as init containers of the WordPress pod (`docs/kubernetes-actions.md`),
//! so an available WordPress Deployment implies the setup completed.
//!
//! Failed means something a person must fix, said so they can: an image that
//! cannot be pulled, a container that keeps crashing, a failed setup step, a
//! container that cannot be configured, a pod no node can take. Everything
//! else is progressing.
//!
//! A verdict carries two texts: the tenant's fixed sentence ([`Wait`],
//! [`Failure`]: the API, the activity log and the dashboard show only these)
//! and the cluster's own words for the log (`detail`: image names, exit
//! messages, the scheduler's node counts, volume and Secret names).

mod pods;
mod tenant;
mod workloads;

pub use tenant::{Failure, Part, Wait};

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::{Api, Client};

use crate::{Engine, Result, StoreId};

/// The verdict on one store. `detail` is for the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ready,
    Progressing { waiting_for: Wait, detail: String },
    Failed { reason: Failure, detail: String },
}

/// What a store's namespace holds, as listed from the API.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub deployments: Vec<Deployment>,
    pub stateful_sets: Vec<StatefulSet>,
    pub pods: Vec<Pod>,
    /// The namespace's events; only `FailedMount` of a pod is used (a pod
    /// stuck in ContainerCreating says why nowhere else).
    pub events: Vec<Event>,
}

/// What "ready" requires of one kind of store, and how patient to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadinessPolicy {
    /// The chart renders at least this many Deployments (WordPress) ...
    pub expected_deployments: usize,
    /// ... and StatefulSets (MySQL); fewer means helm has not applied them yet.
    pub expected_stateful_sets: usize,
    /// A pod waiting for its PersistentVolumeClaim to be bound is normal for a
    /// while (dynamic provisioning takes seconds to minutes); past this it is
    /// failed with the scheduler's message.
    pub unbound_volume_grace: Duration,
    /// Any other Unschedulable verdict is retried by the scheduler and is
    /// often momentary (a PersistentVolume not yet in the scheduler's cache,
    /// a node joining, another store's pods terminating); past this it is
    /// failed with the scheduler's message.
    pub unschedulable_grace: Duration,
    /// A setup (init) container that exited non-zero is retried by the
    /// kubelet; after this many restarts it is a failed setup, even before
    /// the kubelet reports CrashLoopBackOff.
    pub init_restart_limit: i32,
    /// A pod that cannot mount its volumes (a missing Secret or ConfigMap) is
    /// failed once it has been waiting this long with `FailedMount` events:
    /// the kubelet retries, and a Secret created a moment later is fine.
    pub mount_grace: Duration,
}

impl ReadinessPolicy {
    pub fn for_engine(engine: Engine) -> Self {
        match engine {
            // helm/store: the WordPress Deployment and the MySQL StatefulSet.
            Engine::WooCommerce => Self {
                expected_deployments: 1,
                expected_stateful_sets: 1,
                unbound_volume_grace: Duration::from_secs(180),
                unschedulable_grace: Duration::from_secs(60),
                init_restart_limit: 3,
                mount_grace: Duration::from_secs(120),
            },
            // Medusa: the server Deployment and PostgreSQL (not built yet).
            Engine::Medusa => Self {
                expected_deployments: 1,
                expected_stateful_sets: 1,
                unbound_volume_grace: Duration::from_secs(180),
                unschedulable_grace: Duration::from_secs(60),
                init_restart_limit: 3,
                mount_grace: Duration::from_secs(120),
            },
        }
    }
}

/// The verdict over `observed` at time `now` (pure: no I/O, no clock).
pub fn assess(observed: &Observed, policy: &ReadinessPolicy, now: Timestamp) -> Verdict {
    // Pods first: they carry the reasons a person can act on, while the
    // workloads only say "not available".
    let mut pods: Vec<&Pod> = observed.pods.iter().collect();
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let mut pod_waits = Vec::new();
    for pod in &pods {
        match pods::assess_pod(pod, &observed.events, policy, now) {
            pods::PodState::Failed(reason, detail) => return Verdict::Failed { reason, detail },
            pods::PodState::Waiting(wait, detail) => pod_waits.push((wait, detail)),
            pods::PodState::Fine => {}
        }
    }
    if let Some((reason, detail)) = workloads::stalled(observed) {
        return Verdict::Failed { reason, detail };
    }
    // Pod-level detail first ("setup step ... is being retried") as it says
    // more than the workload's "0 of 1 available" it explains.
    let mut waits = pod_waits;
    waits.extend(workloads::not_available(observed, policy));
    // WordPress is not available while its setup steps run: say which one.
    let step = pods.iter().find_map(|pod| pods::running_step(pod));
    let mut waits = waits.into_iter().map(|(wait, detail)| match (wait, step) {
        (Wait::Starting(Part::WordPress), Some(step)) => (Wait::Starting(step), detail),
        _ => (wait, detail),
    });
    let Some((waiting_for, first)) = waits.next() else {
        return Verdict::Ready;
    };
    let more = waits.count();
    Verdict::Progressing {
        waiting_for,
        detail: if more == 0 {
            first
        } else {
            format!("{first} (and {more} more)")
        },
    }
}

/// List the store namespace's Deployments, StatefulSets, Pods and `FailedMount` events.
pub async fn list_observed(client: &Client, id: &StoreId) -> Result<Observed> {
    let namespace = id.namespace();
    let params = ListParams::default();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
    let stateful_sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let events: Api<Event> = Api::namespaced(client.clone(), &namespace);
    let failed_mounts = ListParams::default().fields("reason=FailedMount");
    let (deployments, stateful_sets, pods, events) = tokio::try_join!(
        deployments.list(&params),
        stateful_sets.list(&params),
        pods.list(&params),
        events.list(&failed_mounts),
    )?;
    Ok(Observed {
        deployments: deployments.items,
        stateful_sets: stateful_sets.items,
        pods: pods.items,
        events: events.items,
    })
}

/// List the objects and assess them now. The namespace's own existence is
/// [`crate::namespace::store_namespace_state`]'s job: an absent namespace
/// simply has no workloads here (progressing).
pub async fn observe(client: &Client, id: &StoreId, policy: &ReadinessPolicy) -> Result<Verdict> {
    let observed = list_observed(client, id).await?;
    Ok(assess(&observed, policy, Timestamp::now()))
}

/// Cut an API message (termination messages can be long) for a reason line.
fn short(message: &str) -> String {
    const MAX: usize = 300;
    let message = message.trim();
    if message.chars().count() <= MAX {
        message.to_owned()
    } else {
        let mut cut: String = message.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests;
