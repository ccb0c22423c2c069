//! Logs and traces (controller-rs' telemetry.rs): JSON log lines, every span
//! an OpenTelemetry span, and optional OTLP export (docs/observability.md).
//!
//! - The trace context is always kept, export or not: a request's or an
//!   event's `traceparent` becomes the parent of its span ([`propagation`]),
//!   every emitted CloudEvent carries the current one as the distributed-
//!   tracing extension ([`propagation::inject_into_event`]), and a store
//!   remembers the trace of the operation under way ([`store_trace`]), so one
//!   store's whole provisioning is one trace.
//! - Export is off by default. `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//!   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns on OTLP/HTTP (protobuf)
//!   export in batches; `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`
//!   keep it off. The SDK reads the other standard variables itself:
//!   `OTEL_SERVICE_NAME` (default: the function's name),
//!   `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)` (default
//!   `parentbased_always_on`), `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_*HEADERS`,
//!   `…_TIMEOUT`.
//! - The span of a request or an event records its `trace_id` as a field, so
//!   every JSON log line inside it (helm's too) names the trace.

pub mod propagation;
pub mod store_trace;

use std::sync::OnceLock;

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The provider of this process, flushed by [`shutdown`].
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether the standard variables ask for OTLP export.
pub fn export_enabled(env: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| env(name).is_some_and(|value| !value.trim().is_empty());
    let disabled = env("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let no_exporter = env("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim() == "none");
    !disabled
        && !no_exporter
        && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

/// Install the subscriber: `RUST_LOG` (default `info`) filters spans and
/// logs alike; logs are JSON (or `STOREFLEET_LOG_FORMAT=pretty`). Spans go to
/// OTLP when [`export_enabled`]. Called once per process; a second call (tests)
/// keeps the first subscriber.
pub fn init(function: &str) {
    let env = |name: &str| std::env::var(name).ok();
    let provider = match tracer_provider(function, export_enabled(env)) {
        Ok(provider) => provider,
        Err(err) => {
            // tracing is not up yet: stderr is the log
            eprintln!("{function}: OTLP export not started ({err}); spans are not exported");
            tracer_provider(function, false).unwrap_or_default()
        }
    };
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer(function.to_owned()));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let installed = if std::env::var("STOREFLEET_LOG_FORMAT").as_deref() == Ok("pretty") {
        registry.with(tracing_subscriber::fmt::layer()).try_init()
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().json().flatten_event(true))
            .try_init()
    };
    if installed.is_ok() {
        let _ = PROVIDER.set(provider);
    }
}

fn tracer_provider(function: &str, export: bool) -> Result<SdkTracerProvider, String> {
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(function.to_owned());
    }
    // the sampler comes from OTEL_TRACES_SAMPLER (the SDK's default config)
    let mut builder = SdkTracerProvider::builder().with_resource(resource.build());
    if export {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|err| err.to_string())?;
        builder = builder.with_batch_exporter(exporter);
    }
    Ok(builder.build())
}

/// Export what is still buffered (the end of `serve`, and of `migrate`).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(err) = provider.shutdown()
    {
        tracing::warn!(error = %err, "spans not exported at shutdown");
    }
}

/// Make `parent` (a remote trace context) the parent of `span`, which must
/// not have been entered yet, and record the span's trace id in its
/// `trace_id` field. An invalid `parent` (none was sent) leaves `span` the
/// root of a new trace.
pub fn continue_trace(span: &tracing::Span, parent: opentelemetry::Context) {
    if parent.span().span_context().is_valid()
        && let Err(err) = span.set_parent(parent)
    {
        tracing::debug!(error = %err, "trace parent not set");
    }
    record_trace_id(span);
}

/// Record `span`'s trace id in its `trace_id` field (the log lines' key).
pub fn record_trace_id(span: &tracing::Span) {
    let trace_id = span.context().span().span_context().trace_id();
    if trace_id != opentelemetry::TraceId::INVALID {
        span.record("trace_id", tracing::field::display(trace_id));
    }
}

/// The trace id of the current span, if it has one (hex, 32 digits).
pub fn current_trace_id() -> Option<String> {
    let trace_id = tracing::Span::current()
        .context()
        .span()
        .span_context()
        .trace_id();
    (trace_id != opentelemetry::TraceId::INVALID).then(|| trace_id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn export_is_off_unless_an_endpoint_is_set() {
        assert!(!export_enabled(env_of(&[])));
        assert!(!export_enabled(env_of(&[("OTEL_SERVICE_NAME", "x")])));
        assert!(!export_enabled(env_of(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            " "
        )])));
        assert!(export_enabled(env_of(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:4318"
        )])));
        assert!(export_enabled(env_of(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:4318/v1/traces"
        )])));
    }

    #[test]
    fn the_standard_switches_keep_export_off() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        assert!(!export_enabled(env_of(&[
            endpoint,
            ("OTEL_TRACES_EXPORTER", "none")
        ])));
        assert!(!export_enabled(env_of(&[
            endpoint,
            ("OTEL_SDK_DISABLED", "TRUE")
        ])));
        assert!(export_enabled(env_of(&[
            endpoint,
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_SDK_DISABLED", "false")
        ])));
    }
}
