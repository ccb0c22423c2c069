//! Typed reading of the `knative/` manifests.
//!
//! Every YAML document is classified by `apiVersion` + `kind`:
//! - kinds the broker routes by are deserialized into the structs below with
//!   `deny_unknown_fields`, so a field the broker would not honour is an error
//!   (with the file, the document index and the field path), never ignored;
//! - kinds that matter in a cluster but not for routing (RBAC, ServiceAccount,
//!   ConfigMap, Namespace) are listed in [`NON_ROUTING_KINDS`] and skipped;
//! - anything else is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::filter::Filter;
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

// ---------------------------------------------------------------- raw shapes

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectMeta {
    pub name: String,
    pub namespace: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A Knative object the broker routes by: `spec` is typed and strict.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Object<S> {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    metadata: ObjectMeta,
    spec: S,
}

/// `duckv1.KReference`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// `duckv1.Destination`: a reference, a URI, or a reference plus a URI
/// resolved against the reference's address.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    #[serde(rename = "ref")]
    pub reference: Option<KReference>,
    pub uri: Option<String>,
    /// The OIDC audience of the destination (Knative's `authentication-oidc`):
    /// deliveries carry a token for it; without one they carry none, as in
    /// Knative, and the functions refuse them.
    pub audience: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BackoffPolicy {
    Linear,
    Exponential,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawDelivery {
    retry: Option<u32>,
    backoff_policy: Option<BackoffPolicy>,
    backoff_delay: Option<String>,
    timeout: Option<String>,
    dead_letter_sink: Option<Destination>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBrokerSpec {
    #[allow(dead_code)]
    config: Option<KReference>,
    delivery: Option<RawDelivery>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTriggerFilter {
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

/// One entry of `spec.filters` (the Subscriptions API dialects).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFilter {
    pub exact: Option<BTreeMap<String, String>>,
    pub prefix: Option<BTreeMap<String, String>>,
    pub suffix: Option<BTreeMap<String, String>>,
    pub all: Option<Vec<RawFilter>>,
    pub any: Option<Vec<RawFilter>>,
    pub not: Option<Box<RawFilter>>,
    pub cesql: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTriggerSpec {
    broker: String,
    filter: Option<RawTriggerFilter>,
    filters: Option<Vec<RawFilter>>,
    subscriber: Destination,
    delivery: Option<RawDelivery>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    pub values: Option<Vec<String>>,
}

/// `metav1.LabelSelector`, strict.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: Option<BTreeMap<String, String>>,
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CeOverrides {
    #[serde(default)]
    extensions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiResource {
    pub api_version: String,
    pub kind: String,
    pub selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawApiServerSourceSpec {
    mode: Option<String>,
    resources: Vec<ApiResource>,
    namespace_selector: Option<LabelSelector>,
    #[allow(dead_code)]
    service_account_name: Option<String>,
    sink: Destination,
    ce_overrides: Option<CeOverrides>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPingSourceSpec {
    schedule: String,
    timezone: Option<String>,
    content_type: Option<String>,
    data: Option<String>,
    data_base64: Option<String>,
    sink: Destination,
    ce_overrides: Option<CeOverrides>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSubject {
    api_version: String,
    kind: String,
    name: Option<String>,
    namespace: Option<String>,
    selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSinkBindingSpec {
    subject: RawSubject,
    sink: Destination,
    ce_overrides: Option<CeOverrides>,
}

/// A Knative Service: the broker needs only its name and namespace (the
/// subscriber of Triggers), so its spec is not interpreted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawService {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    metadata: ObjectMeta,
    #[allow(dead_code)]
    spec: serde_yaml_ng::Value,
}

// ---------------------------------------------------------- checked shapes

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
            let o: Object<Option<RawBrokerSpec>> = typed(&origin, value)?;
            let namespace = require_namespace(&origin, &o.metadata)?;
            let delivery = o
                .spec
                .and_then(|s| s.delivery)
                .map(|d| checked_delivery(&origin, "spec.delivery", d))
                .transpose()?;
            self.brokers.push(Broker {
                namespace,
                name: o.metadata.name,
                delivery,
                origin,
            });
        } else if key == TRIGGER {
            let o: Object<RawTriggerSpec> = typed(&origin, value)?;
            let namespace = require_namespace(&origin, &o.metadata)?;
            // Knative: `filters` wins when both are set.
            let filter = match (o.spec.filters, o.spec.filter) {
                (Some(filters), _) => Filter::from_filters(&filters)
                    .map_err(|m| manifest_error(&origin, format!("spec.filters: {m}")))?,
                (None, Some(f)) => Filter::from_attributes(&f.attributes),
                (None, None) => Filter::All(vec![]),
            };
            check_destination(&origin, "spec.subscriber", &o.spec.subscriber)?;
            let delivery = match o.spec.delivery {
                Some(d) => checked_delivery(&origin, "spec.delivery", d)?,
                None => Delivery::default(),
            };
            self.triggers.push(Trigger {
                namespace,
                name: o.metadata.name,
                broker: o.spec.broker,
                filter,
                subscriber: o.spec.subscriber,
                delivery,
                origin,
            });
        } else if key == API_SERVER_SOURCE {
            let o: Object<RawApiServerSourceSpec> = typed(&origin, value)?;
            let namespace = require_namespace(&origin, &o.metadata)?;
            match o.spec.mode.as_deref() {
                Some("Resource") => {}
                other => {
                    return Err(manifest_error(
                        &origin,
                        format!(
                            "spec.mode: {:?} is not supported by the local broker; it emulates `mode: Resource` only (the whole object as data), which Storefleet's readiness-checker relies on",
                            other.unwrap_or("<unset, Knative's default Reference>")
                        ),
                    ));
                }
            }
            if o.spec.resources.is_empty() {
                return Err(manifest_error(&origin, "spec.resources: empty".into()));
            }
            for (i, r) in o.spec.resources.iter().enumerate() {
                if let Some(s) = &r.selector {
                    crate::apiserver::to_selector(s).map_err(|m| {
                        manifest_error(&origin, format!("spec.resources[{i}].selector: {m}"))
                    })?;
                }
            }
            if let Some(s) = &o.spec.namespace_selector {
                crate::apiserver::to_selector(s)
                    .map_err(|m| manifest_error(&origin, format!("spec.namespaceSelector: {m}")))?;
            }
            check_destination(&origin, "spec.sink", &o.spec.sink)?;
            self.api_server_sources.push(ApiServerSource {
                namespace,
                name: o.metadata.name,
                resources: o.spec.resources,
                namespace_selector: o.spec.namespace_selector,
                sink: o.spec.sink,
                extensions: o.spec.ce_overrides.unwrap_or_default().extensions,
                origin,
            });
        } else if key == PING_SOURCE {
            let o: Object<RawPingSourceSpec> = typed(&origin, value)?;
            let namespace = require_namespace(&origin, &o.metadata)?;
            if let Some(tz) = o.spec.timezone.as_deref()
                && !matches!(tz, "UTC" | "Etc/UTC")
            {
                return Err(manifest_error(
                    &origin,
                    format!(
                        "spec.timezone: {tz:?} is not supported by the local broker (UTC only)"
                    ),
                ));
            }
            let schedule = crate::ping::Schedule::parse(&o.spec.schedule)
                .map_err(|m| manifest_error(&origin, format!("spec.schedule: {m}")))?;
            let data = match (o.spec.data, o.spec.data_base64) {
                (Some(_), Some(_)) => {
                    return Err(manifest_error(
                        &origin,
                        "spec.data and spec.dataBase64 are mutually exclusive".into(),
                    ));
                }
                (Some(d), None) => d.into_bytes(),
                (None, Some(b)) => {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD
                        .decode(b.trim())
                        .map_err(|e| {
                            manifest_error(&origin, format!("spec.dataBase64: not base64: {e}"))
                        })?
                }
                (None, None) => Vec::new(),
            };
            check_destination(&origin, "spec.sink", &o.spec.sink)?;
            self.ping_sources.push(PingSource {
                namespace,
                name: o.metadata.name,
                schedule,
                content_type: o.spec.content_type,
                data,
                sink: o.spec.sink,
                extensions: o.spec.ce_overrides.unwrap_or_default().extensions,
                origin,
            });
        } else if key == SINK_BINDING {
            let o: Object<RawSinkBindingSpec> = typed(&origin, value)?;
            let namespace = require_namespace(&origin, &o.metadata)?;
            let subject = o.spec.subject;
            let subject_service = match (
                subject.api_version.as_str(),
                subject.kind.as_str(),
                subject.name,
                &subject.selector,
            ) {
                ("serving.knative.dev/v1", "Service", Some(name), None) => name,
                _ => {
                    return Err(manifest_error(
                        &origin,
                        "spec.subject: the local broker binds only Knative Services by name (apiVersion serving.knative.dev/v1, kind Service, name), because those are the processes it starts".into(),
                    ));
                }
            };
            if subject.namespace.as_deref().is_some_and(|n| n != namespace) {
                return Err(manifest_error(
                    &origin,
                    "spec.subject.namespace: must be the SinkBinding's own namespace".into(),
                ));
            }
            if o.spec
                .ce_overrides
                .is_some_and(|c| !c.extensions.is_empty())
            {
                return Err(manifest_error(
                    &origin,
                    "spec.ceOverrides: K_CE_OVERRIDES is not passed on by the local broker".into(),
                ));
            }
            check_destination(&origin, "spec.sink", &o.spec.sink)?;
            self.sink_bindings.push(SinkBinding {
                namespace,
                name: o.metadata.name,
                subject_service,
                sink: o.spec.sink,
                origin,
            });
        } else if key == SERVICE {
            let o: RawService = typed(&origin, value)?;
            let namespace = require_namespace(&origin, &o.metadata)?;
            self.services.push(Service {
                namespace,
                name: o.metadata.name,
                origin,
            });
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

    /// Every reference must point at an object defined in the manifests, and
    /// names must be unique, so a typo fails at load time instead of as a
    /// delivery that never happens.
    pub fn check_references(&self) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        let all_origins = self
            .brokers
            .iter()
            .map(|b| (&b.origin, &b.namespace))
            .chain(self.triggers.iter().map(|t| (&t.origin, &t.namespace)))
            .chain(
                self.api_server_sources
                    .iter()
                    .map(|s| (&s.origin, &s.namespace)),
            )
            .chain(self.ping_sources.iter().map(|s| (&s.origin, &s.namespace)))
            .chain(self.sink_bindings.iter().map(|s| (&s.origin, &s.namespace)))
            .chain(self.services.iter().map(|s| (&s.origin, &s.namespace)));
        for (origin, namespace) in all_origins {
            if !seen.insert((origin.kind.clone(), namespace.clone(), origin.name.clone())) {
                return Err(manifest_error(
                    origin,
                    format!(
                        "a second {} named {:?} in namespace {namespace}",
                        origin.kind, origin.name
                    ),
                ));
            }
        }
        for t in &self.triggers {
            if self.broker(&t.namespace, &t.broker).is_none() {
                return Err(manifest_error(
                    &t.origin,
                    format!(
                        "spec.broker: no Broker {:?} in namespace {}",
                        t.broker, t.namespace
                    ),
                ));
            }
            self.check_destination_target(
                &t.origin,
                "spec.subscriber",
                &t.namespace,
                &t.subscriber,
            )?;
            if let Some(d) = &t.delivery.dead_letter_sink {
                self.check_destination_target(
                    &t.origin,
                    "spec.delivery.deadLetterSink",
                    &t.namespace,
                    d,
                )?;
            }
        }
        for s in &self.api_server_sources {
            self.check_destination_target(&s.origin, "spec.sink", &s.namespace, &s.sink)?;
        }
        for s in &self.ping_sources {
            self.check_destination_target(&s.origin, "spec.sink", &s.namespace, &s.sink)?;
        }
        for s in &self.sink_bindings {
            self.check_destination_target(&s.origin, "spec.sink", &s.namespace, &s.sink)?;
            if self.service(&s.namespace, &s.subject_service).is_none() {
                return Err(manifest_error(
                    &s.origin,
                    format!(
                        "spec.subject: no Service {:?} in namespace {}",
                        s.subject_service, s.namespace
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_destination_target(
        &self,
        origin: &Origin,
        field: &str,
        namespace: &str,
        destination: &Destination,
    ) -> Result<()> {
        let Some(r) = &destination.reference else {
            return Ok(());
        };
        let ns = r.namespace.as_deref().unwrap_or(namespace);
        let found = match (r.api_version.as_str(), r.kind.as_str()) {
            ("eventing.knative.dev/v1", "Broker") => self.broker(ns, &r.name).is_some(),
            ("serving.knative.dev/v1", "Service") => self.service(ns, &r.name).is_some(),
            _ => unreachable!("check_destination accepted only Brokers and Services"),
        };
        if found {
            Ok(())
        } else {
            Err(manifest_error(
                origin,
                format!(
                    "{field}.ref: no {} {:?} in namespace {ns} in these manifests",
                    r.kind, r.name
                ),
            ))
        }
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

fn manifest_error(origin: &Origin, message: String) -> Error {
    Error::Manifest {
        at: origin.to_string(),
        message,
    }
}

fn string_field(value: &serde_yaml_ng::Value, field: &str) -> Result<String, String> {
    value
        .get(field)
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("`{field}` is missing or not a string"))
}

/// Deserializes with the path of the offending field in the error.
fn typed<T: DeserializeOwned>(origin: &Origin, value: serde_yaml_ng::Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        manifest_error(origin, format!("{path}: {inner}"))
    })
}

fn require_namespace(origin: &Origin, meta: &ObjectMeta) -> Result<String> {
    meta.namespace.clone().ok_or_else(|| {
        manifest_error(
            origin,
            "metadata.namespace is required: the local broker cannot know which namespace `kubectl apply` would pick".into(),
        )
    })
}

/// Only Brokers and Knative Services can be referenced: those are the things
/// the local broker has an address for.
fn check_destination(origin: &Origin, field: &str, d: &Destination) -> Result<()> {
    match (&d.reference, &d.uri) {
        (None, None) => Err(manifest_error(
            origin,
            format!("{field}: needs `ref` or `uri`"),
        )),
        (Some(r), _) => match (r.api_version.as_str(), r.kind.as_str()) {
            ("eventing.knative.dev/v1", "Broker") | ("serving.knative.dev/v1", "Service") => Ok(()),
            (a, k) => Err(manifest_error(
                origin,
                format!(
                    "{field}.ref: {a} {k} cannot be resolved by the local broker (only eventing.knative.dev/v1 Broker and serving.knative.dev/v1 Service)"
                ),
            )),
        },
        (None, Some(uri)) => reqwest::Url::parse(uri).map(|_| ()).map_err(|e| {
            manifest_error(
                origin,
                format!("{field}.uri: {uri:?} is not an absolute URL: {e}"),
            )
        }),
    }
}

fn checked_delivery(origin: &Origin, field: &str, raw: RawDelivery) -> Result<Delivery> {
    let duration = |name: &str, text: &Option<String>| -> Result<Option<Duration>> {
        text.as_deref()
            .map(|t| {
                parse_iso8601_duration(t)
                    .map_err(|m| manifest_error(origin, format!("{field}.{name}: {m}")))
            })
            .transpose()
    };
    if let Some(d) = &raw.dead_letter_sink {
        check_destination(origin, &format!("{field}.deadLetterSink"), d)?;
    }
    Ok(Delivery {
        retry: raw.retry.unwrap_or(0),
        backoff_policy: raw.backoff_policy.unwrap_or(BackoffPolicy::Exponential),
        backoff_delay: duration("backoffDelay", &raw.backoff_delay)?.unwrap_or(Duration::ZERO),
        timeout: duration("timeout", &raw.timeout)?,
        dead_letter_sink: raw.dead_letter_sink,
    })
}

/// `PT0.5S`, `PT1M`, `P1D`... as Knative accepts them.
pub fn parse_iso8601_duration(text: &str) -> Result<Duration, String> {
    let parsed: iso8601::Duration = text
        .parse()
        .map_err(|_| format!("{text:?} is not an ISO 8601 duration (e.g. PT0.5S, PT10S, PT1M)"))?;
    Ok(parsed.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_durations() {
        assert_eq!(
            parse_iso8601_duration("PT0.5S").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            parse_iso8601_duration("PT10S").unwrap(),
            Duration::from_secs(10)
        );
        assert_eq!(
            parse_iso8601_duration("PT1M30S").unwrap(),
            Duration::from_secs(90)
        );
        assert!(parse_iso8601_duration("500ms").is_err());
        assert!(parse_iso8601_duration("").is_err());
    }
}
