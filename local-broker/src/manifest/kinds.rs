//! Each routed kind, from its YAML document to its checked shape: the
//! per-kind rules (what the local broker can emulate) and the shared checks
//! (namespace, destinations, delivery durations).

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::model::{
    ApiServerSource, Broker, Delivery, Origin, PingSource, Service, SinkBinding, Trigger,
};
use super::raw::{
    BackoffPolicy, Destination, Object, ObjectMeta, RawApiServerSourceSpec, RawBrokerSpec,
    RawDelivery, RawPingSourceSpec, RawService, RawSinkBindingSpec, RawTriggerSpec,
};
use crate::filter::Filter;
use crate::{Error, Result};

pub(super) fn broker(origin: Origin, value: serde_yaml_ng::Value) -> Result<Broker> {
    let o: Object<Option<RawBrokerSpec>> = typed(&origin, value)?;
    let namespace = require_namespace(&origin, &o.metadata)?;
    let delivery = o
        .spec
        .and_then(|s| s.delivery)
        .map(|d| checked_delivery(&origin, "spec.delivery", d))
        .transpose()?;
    Ok(Broker {
        namespace,
        name: o.metadata.name,
        delivery,
        origin,
    })
}

pub(super) fn trigger(origin: Origin, value: serde_yaml_ng::Value) -> Result<Trigger> {
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
    Ok(Trigger {
        namespace,
        name: o.metadata.name,
        broker: o.spec.broker,
        filter,
        subscriber: o.spec.subscriber,
        delivery,
        origin,
    })
}

pub(super) fn api_server_source(
    origin: Origin,
    value: serde_yaml_ng::Value,
) -> Result<ApiServerSource> {
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
    Ok(ApiServerSource {
        namespace,
        name: o.metadata.name,
        resources: o.spec.resources,
        namespace_selector: o.spec.namespace_selector,
        sink: o.spec.sink,
        extensions: o.spec.ce_overrides.unwrap_or_default().extensions,
        origin,
    })
}

pub(super) fn ping_source(origin: Origin, value: serde_yaml_ng::Value) -> Result<PingSource> {
    let o: Object<RawPingSourceSpec> = typed(&origin, value)?;
    let namespace = require_namespace(&origin, &o.metadata)?;
    if let Some(tz) = o.spec.timezone.as_deref()
        && !matches!(tz, "UTC" | "Etc/UTC")
    {
        return Err(manifest_error(
            &origin,
            format!("spec.timezone: {tz:?} is not supported by the local broker (UTC only)"),
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
                .map_err(|e| manifest_error(&origin, format!("spec.dataBase64: not base64: {e}")))?
        }
        (None, None) => Vec::new(),
    };
    check_destination(&origin, "spec.sink", &o.spec.sink)?;
    Ok(PingSource {
        namespace,
        name: o.metadata.name,
        schedule,
        content_type: o.spec.content_type,
        data,
        sink: o.spec.sink,
        extensions: o.spec.ce_overrides.unwrap_or_default().extensions,
        origin,
    })
}

pub(super) fn sink_binding(origin: Origin, value: serde_yaml_ng::Value) -> Result<SinkBinding> {
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
    Ok(SinkBinding {
        namespace,
        name: o.metadata.name,
        subject_service,
        sink: o.spec.sink,
        origin,
    })
}

pub(super) fn service(origin: Origin, value: serde_yaml_ng::Value) -> Result<Service> {
    let o: RawService = typed(&origin, value)?;
    let namespace = require_namespace(&origin, &o.metadata)?;
    Ok(Service {
        namespace,
        name: o.metadata.name,
        origin,
    })
}

pub(super) fn manifest_error(origin: &Origin, message: String) -> Error {
    Error::Manifest {
        at: origin.to_string(),
        message,
    }
}

pub(super) fn string_field(value: &serde_yaml_ng::Value, field: &str) -> Result<String, String> {
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
