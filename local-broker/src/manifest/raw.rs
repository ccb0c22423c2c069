//! The manifests' YAML shapes as Knative defines them, strict
//! (`deny_unknown_fields`): a field the broker would not honour is an error.

use std::collections::BTreeMap;

use serde::Deserialize;

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
pub(super) struct Object<S> {
    #[allow(dead_code)]
    pub(super) api_version: String,
    #[allow(dead_code)]
    pub(super) kind: String,
    pub(super) metadata: ObjectMeta,
    pub(super) spec: S,
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
pub(super) struct RawDelivery {
    pub(super) retry: Option<u32>,
    pub(super) backoff_policy: Option<BackoffPolicy>,
    pub(super) backoff_delay: Option<String>,
    pub(super) timeout: Option<String>,
    pub(super) dead_letter_sink: Option<Destination>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBrokerSpec {
    #[allow(dead_code)]
    pub(super) config: Option<KReference>,
    pub(super) delivery: Option<RawDelivery>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTriggerFilter {
    #[serde(default)]
    pub(super) attributes: BTreeMap<String, String>,
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
pub(super) struct RawTriggerSpec {
    pub(super) broker: String,
    pub(super) filter: Option<RawTriggerFilter>,
    pub(super) filters: Option<Vec<RawFilter>>,
    pub(super) subscriber: Destination,
    pub(super) delivery: Option<RawDelivery>,
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
pub(super) struct CeOverrides {
    #[serde(default)]
    pub(super) extensions: BTreeMap<String, String>,
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
pub(super) struct RawApiServerSourceSpec {
    pub(super) mode: Option<String>,
    pub(super) resources: Vec<ApiResource>,
    pub(super) namespace_selector: Option<LabelSelector>,
    #[allow(dead_code)]
    pub(super) service_account_name: Option<String>,
    pub(super) sink: Destination,
    pub(super) ce_overrides: Option<CeOverrides>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPingSourceSpec {
    pub(super) schedule: String,
    pub(super) timezone: Option<String>,
    pub(super) content_type: Option<String>,
    pub(super) data: Option<String>,
    pub(super) data_base64: Option<String>,
    pub(super) sink: Destination,
    pub(super) ce_overrides: Option<CeOverrides>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSubject {
    pub(super) api_version: String,
    pub(super) kind: String,
    pub(super) name: Option<String>,
    pub(super) namespace: Option<String>,
    pub(super) selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSinkBindingSpec {
    pub(super) subject: RawSubject,
    pub(super) sink: Destination,
    pub(super) ce_overrides: Option<CeOverrides>,
}

/// A Knative Service: the broker needs only its name and namespace (the
/// subscriber of Triggers), so its spec is not interpreted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawService {
    #[allow(dead_code)]
    pub(super) api_version: String,
    #[allow(dead_code)]
    pub(super) kind: String,
    pub(super) metadata: ObjectMeta,
    #[allow(dead_code)]
    pub(super) spec: serde_yaml_ng::Value,
}
