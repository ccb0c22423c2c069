//! The checked shapes the broker routes by: Knative's defaults applied,
//! references and durations validated, each with the [`Origin`] it came from.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::raw::{ApiResource, BackoffPolicy, Destination, LabelSelector};
use crate::filter::Filter;

/// Where a manifest came from, for error messages: `knative/triggers.yaml, document 3 (Trigger sweep)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    /// 1-based index of the YAML document in the file.
    pub document: usize,
    pub kind: String,
    pub name: String,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, document {} ({} {})",
            self.file.display(),
            self.document,
            self.kind,
            self.name
        )
    }
}

/// Delivery settings with Knative's defaults applied (retry 0, exponential).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub retry: u32,
    pub backoff_policy: BackoffPolicy,
    pub backoff_delay: Duration,
    pub timeout: Option<Duration>,
    pub dead_letter_sink: Option<Destination>,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            retry: 0,
            backoff_policy: BackoffPolicy::Exponential,
            backoff_delay: Duration::ZERO,
            timeout: None,
            dead_letter_sink: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Broker {
    pub origin: Origin,
    pub namespace: String,
    pub name: String,
    pub delivery: Option<Delivery>,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub origin: Origin,
    pub namespace: String,
    pub name: String,
    pub broker: String,
    pub filter: Filter,
    pub subscriber: Destination,
    pub delivery: Delivery,
}

#[derive(Debug, Clone)]
pub struct ApiServerSource {
    pub origin: Origin,
    pub namespace: String,
    pub name: String,
    pub resources: Vec<ApiResource>,
    /// `None`: only the source's own namespace (Knative's default).
    pub namespace_selector: Option<LabelSelector>,
    pub sink: Destination,
    pub extensions: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct PingSource {
    pub origin: Origin,
    pub namespace: String,
    pub name: String,
    pub schedule: crate::ping::Schedule,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
    pub sink: Destination,
    pub extensions: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct SinkBinding {
    pub origin: Origin,
    pub namespace: String,
    pub name: String,
    /// The Knative Service whose pods get `K_SINK`.
    pub subject_service: String,
    pub sink: Destination,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub origin: Origin,
    pub namespace: String,
    pub name: String,
}
