//! What the tenant is told about a verdict: one fixed sentence per case.
//!
//! The Kubernetes texts behind a verdict (the kubelet's pull errors with
//! registry addresses and image names, a container's termination message,
//! the scheduler's view of the nodes, a FailedMount's volume and Secret
//! names) describe the platform, not the store: they go to the log, in the
//! verdict's `detail`. The tenant reads `failure_reason`, the activity log
//! and the dashboard, which get only these sentences. No variant carries
//! text, so no cluster text can reach them.

use k8s_openapi::api::core::v1::Pod;

/// Which part of the store a pod or container is, by its name in the store
/// chart (`helm/store`: the `mysql` StatefulSet, the `wordpress` Deployment
/// with its init containers `wordpress-files` and `woocommerce-setup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Database,
    WordPress,
    WordPressFiles,
    WooCommerceSetup,
    /// A container the chart does not name (another engine's, a test chart's).
    Other,
}

impl Part {
    pub(super) fn of_container(name: &str) -> Self {
        match name {
            "mysql" => Self::Database,
            "wordpress" => Self::WordPress,
            "wordpress-files" => Self::WordPressFiles,
            "woocommerce-setup" => Self::WooCommerceSetup,
            _ => Self::Other,
        }
    }

    /// The component label the chart gives each pod, else the workload's name
    /// the pod's name starts with (`mysql-0`, `wordpress-6d5f7-x2x9z`).
    pub(super) fn of_pod(pod: &Pod) -> Self {
        let component = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("app.kubernetes.io/component"))
            .map(String::as_str);
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        match component {
            Some(component) => Self::of_container(component),
            None if name.starts_with("mysql-") => Self::Database,
            None if name.starts_with("wordpress-") => Self::WordPress,
            None => Self::Other,
        }
    }

    pub(super) fn of_workload(name: &str) -> Self {
        Self::of_container(name)
    }

    fn subject(self) -> &'static str {
        match self {
            Self::Database => "the database",
            Self::WordPress => "WordPress",
            Self::WordPressFiles => "copying the WordPress files",
            Self::WooCommerceSetup => "the WooCommerce setup",
            Self::Other => "a store service",
        }
    }
}

/// What a progressing store waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// helm has not applied every workload yet, or a controller has not
    /// reported on it.
    Created,
    Starting(Part),
    /// A setup step exited non-zero and the kubelet runs it again.
    Retrying(Part),
    Scheduling,
    Volume,
    Mounting,
    /// A rollout: old pods terminating, a new generation.
    Updating,
}

impl Wait {
    pub fn sentence(self) -> &'static str {
        match self {
            Self::Created => "the store's services are being created",
            Self::Starting(Part::Database) => "the database is starting",
            Self::Starting(Part::WordPress) => "WordPress is starting",
            Self::Starting(Part::WordPressFiles) => "the WordPress files are being copied",
            Self::Starting(Part::WooCommerceSetup) => "the WooCommerce setup is running",
            Self::Starting(Part::Other) => "the store's services are starting",
            Self::Retrying(_) => "the store setup is being retried",
            Self::Scheduling => "the store is waiting for room in the cluster",
            Self::Volume => "the store's storage is being prepared",
            Self::Mounting => "the store's storage and settings are being attached",
            Self::Updating => "the store's services are being updated",
        }
    }
}

/// Why a store failed, as far as the tenant is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// ImagePullBackOff, ErrImagePull, InvalidImageName.
    Image(Part),
    /// CreateContainerConfigError, CreateContainerError.
    Config(Part),
    /// CrashLoopBackOff of a serving container.
    Crashing(Part),
    /// A setup (init) container failed for good.
    Setup(Part),
    Unschedulable,
    Volume,
    Mount,
    /// The Deployment passed its progress deadline.
    Stalled,
}

/// Said after every failure: the tenant cannot fix the cluster, the platform
/// team can, and it has the detail.
const NEXT: &str = "the platform team can see why in the platform's logs. Delete the store and create it again, or ask them.";

impl Failure {
    pub fn sentence(self) -> String {
        let what = match self {
            Self::Image(part) => format!(
                "{} cannot start: its image cannot be pulled",
                part.subject()
            ),
            Self::Config(part) => format!(
                "{} cannot start: its configuration is incomplete",
                part.subject()
            ),
            Self::Crashing(part) => format!("{} keeps crashing", part.subject()),
            Self::Setup(Part::WordPressFiles) => "copying the WordPress files failed".to_owned(),
            Self::Setup(_) => "the store setup failed".to_owned(),
            Self::Unschedulable => "the cluster has no room for the store".to_owned(),
            Self::Volume => "the store's storage could not be provided in time".to_owned(),
            Self::Mount => "the store's storage or settings could not be attached".to_owned(),
            Self::Stalled => "the store's services did not finish starting in time".to_owned(),
        };
        format!("{what}; {NEXT}")
    }
}
