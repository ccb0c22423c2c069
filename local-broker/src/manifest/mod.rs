//! Typed reading of the `knative/` manifests.
//!
//! Every YAML document is classified by `apiVersion` + `kind`:
//! - kinds the broker routes by are deserialized into the structs of [`raw`] with
//!   `deny_unknown_fields`, so a field the broker would not honour is an error
//!   (with the file, the document index and the field path), never ignored;
//! - kinds that matter in a cluster but not for routing (RBAC, ServiceAccount,
//!   ConfigMap, Namespace) are listed in [`NON_ROUTING_KINDS`] and skipped;
//! - anything else is an error.

//!
//! - [`raw`]: the YAML shapes; [`model`]: the checked shapes;
//! - [`kinds`]: one document of each kind, from one to the other;
//! - [`references`]: the cross-checks of the whole set.

mod kinds;
mod model;
mod raw;
mod references;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use kinds::parse_iso8601_duration;
use kinds::{manifest_error, string_field};
pub use model::{
    ApiServerSource, Broker, Delivery, Origin, PingSource, Service, SinkBinding, Trigger,
};
pub(crate) use raw::RawFilter;
pub use raw::{
    ApiResource, BackoffPolicy, Destination, KReference, LabelSelector, LabelSelectorRequirement,
    ObjectMeta,
};

use crate::{Error, Result};

/// Kinds that shape a cluster (permissions, configuration) but not where
/// events go. They are accepted and skipped; nothing else is.
pub const NON_ROUTING_KINDS: &[(&str, &str)] = &[
    ("v1", "ServiceAccount"),
    ("v1", "ConfigMap"),
    ("v1", "Namespace"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    // who may send to the Broker (authentication-oidc); the local broker's
    // ingress listens on loopback only
    ("eventing.knative.dev/v1alpha1", "EventPolicy"),
];

const BROKER: (&str, &str) = ("eventing.knative.dev/v1", "Broker");
const TRIGGER: (&str, &str) = ("eventing.knative.dev/v1", "Trigger");
const API_SERVER_SOURCE: (&str, &str) = ("sources.knative.dev/v1", "ApiServerSource");
const PING_SOURCE: (&str, &str) = ("sources.knative.dev/v1", "PingSource");
const SINK_BINDING: (&str, &str) = ("sources.knative.dev/v1", "SinkBinding");
const SERVICE: (&str, &str) = ("serving.knative.dev/v1", "Service");

/// Everything the broker routes by, loaded and cross-checked.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    pub brokers: Vec<Broker>,
    pub triggers: Vec<Trigger>,
    pub api_server_sources: Vec<ApiServerSource>,
    pub ping_sources: Vec<PingSource>,
    pub sink_bindings: Vec<SinkBinding>,
    pub services: Vec<Service>,
    /// `(apiVersion, kind, name)` of the documents skipped on purpose.
    pub skipped: Vec<(String, String, String)>,
}

impl Manifests {
    /// Reads every `*.yaml`/`*.yml` file of `dir` (sorted by name).
    pub fn load_dir(dir: &Path) -> Result<Manifests> {
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::Manifest {
                at: dir.display().to_string(),
                message: "no *.yaml files: point --manifests at the knative/ directory".into(),
            });
        }
        let mut manifests = Manifests::default();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|source| Error::Read {
                path: file.clone(),
                source,
            })?;
            manifests.add_file(&file, &text)?;
        }
        manifests.check_references()?;
        Ok(manifests)
    }

    /// Parses one file's documents into `self` (no cross-checks).
    pub fn add_file(&mut self, file: &Path, text: &str) -> Result<()> {
        for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
            let at = |message: String| Error::Manifest {
                at: format!("{}, document {}", file.display(), index + 1),
                message,
            };
            let value = serde_yaml_ng::Value::deserialize(document)
                .map_err(|e| at(format!("not valid YAML: {e}")))?;
            if value.is_null() {
                continue; // an empty document, e.g. a trailing `---`
            }
            let api_version = string_field(&value, "apiVersion").map_err(&at)?;
            let kind = string_field(&value, "kind").map_err(&at)?;
            let name = value
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(|n| n.as_str())
                .unwrap_or("<no name>")
                .to_string();
            let origin = Origin {
                file: file.to_path_buf(),
                document: index + 1,
                kind: kind.clone(),
                name,
            };
            self.add_document(origin, &api_version, &kind, value)?;
        }
        Ok(())
    }

    fn add_document(
        &mut self,
        origin: Origin,
        api_version: &str,
        kind: &str,
        value: serde_yaml_ng::Value,
    ) -> Result<()> {
        let key = (api_version, kind);
        if key == BROKER {
            self.brokers.push(kinds::broker(origin, value)?);
        } else if key == TRIGGER {
            self.triggers.push(kinds::trigger(origin, value)?);
        } else if key == API_SERVER_SOURCE {
            self.api_server_sources
                .push(kinds::api_server_source(origin, value)?);
        } else if key == PING_SOURCE {
            self.ping_sources.push(kinds::ping_source(origin, value)?);
        } else if key == SINK_BINDING {
            self.sink_bindings.push(kinds::sink_binding(origin, value)?);
        } else if key == SERVICE {
            self.services.push(kinds::service(origin, value)?);
        } else if NON_ROUTING_KINDS.contains(&key) {
            self.skipped
                .push((api_version.to_string(), kind.to_string(), origin.name));
        } else {
            let known: Vec<String> = [
                BROKER,
                TRIGGER,
                API_SERVER_SOURCE,
                PING_SOURCE,
                SINK_BINDING,
                SERVICE,
            ]
            .iter()
            .chain(NON_ROUTING_KINDS)
            .map(|(a, k)| format!("{a} {k}"))
            .collect();
            return Err(manifest_error(
                &origin,
                format!(
                    "apiVersion {api_version} kind {kind} is not understood by the local broker; known: {}",
                    known.join(", ")
                ),
            ));
        }
        Ok(())
    }

    pub fn broker(&self, namespace: &str, name: &str) -> Option<&Broker> {
        self.brokers
            .iter()
            .find(|b| b.namespace == namespace && b.name == name)
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        self.services
            .iter()
            .find(|s| s.namespace == namespace && s.name == name)
    }
}
