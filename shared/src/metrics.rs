//! Prometheus metrics of one function process, served at `GET /metrics`
//! (text exposition format, written by the `prometheus` crate).
//!
//! One [`Metrics`] per process, in the [`crate::context::Context`]; each has
//! its own registry (no global state), so tests can run several apps in one
//! process and read each one's numbers.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `storefleet_provisioning_duration_seconds` | histogram | `outcome` (`ready`, `failed`) |
//! | `storefleet_stores` | gauge, read from PostgreSQL at scrape time | `status` |
//! | `storefleet_events_handled_total` | counter | `type`, `outcome` (`done`, `duplicate`, `ignored`) |
//! | `storefleet_events_failed_total` | counter | `type`, `answer` (`400`, `429`, `503`, `500`) |
//! | `storefleet_helm_operation_duration_seconds` | histogram | `operation`, `outcome` (from storefleet-kube) |

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sqlx::PgPool;

use crate::domain::Status;
use crate::{Error, Result};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub provisioning_duration: HistogramVec,
    pub stores: IntGaugeVec,
    pub events_handled: IntCounterVec,
    pub events_failed: IntCounterVec,
    /// Given to the helm runner ([`storefleet_kube::helm::Helm::with_duration_histogram`]).
    pub helm_durations: HistogramVec,
}

impl Metrics {
    pub fn new() -> Result<Self> {
        let registry = Registry::new();
        let provisioning_duration = HistogramVec::new(
            HistogramOpts::new(
                "storefleet_provisioning_duration_seconds",
                "From the create request to the store's final provisioning outcome",
            )
            .buckets(vec![
                5.0, 15.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1800.0,
            ]),
            &["outcome"],
        )
        .map_err(metric_error)?;
        let stores = IntGaugeVec::new(
            Opts::new(
                "storefleet_stores",
                "Stores by status (read at scrape time)",
            ),
            &["status"],
        )
        .map_err(metric_error)?;
        let events_handled = IntCounterVec::new(
            Opts::new(
                "storefleet_events_handled_total",
                "CloudEvents handled (answered 2xx), by type and outcome",
            ),
            &["type", "outcome"],
        )
        .map_err(metric_error)?;
        let events_failed = IntCounterVec::new(
            Opts::new(
                "storefleet_events_failed_total",
                "CloudEvents answered with an error (the broker retries 429/5xx), by type and status",
            ),
            &["type", "answer"],
        )
        .map_err(metric_error)?;
        let helm_durations = storefleet_kube::helm::duration_histogram().map_err(metric_error)?;
        for collector in [
            Box::new(provisioning_duration.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(stores.clone()),
            Box::new(events_handled.clone()),
            Box::new(events_failed.clone()),
            Box::new(helm_durations.clone()),
        ] {
            registry.register(collector).map_err(metric_error)?;
        }
        Ok(Self {
            registry,
            provisioning_duration,
            stores,
            events_handled,
            events_failed,
            helm_durations,
        })
    }

    /// Refresh the per-status gauge from the database (every status is
    /// present, zero included, so a dashboard never sees a gap).
    pub async fn refresh_stores(&self, pool: &PgPool) -> Result<()> {
        let rows = crate::db::stores::count_by_status(pool).await?;
        for status in Status::ALL {
            let count = rows
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n);
            self.stores.with_label_values(&[status.as_str()]).set(count);
        }
        Ok(())
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> Result<String> {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .map_err(metric_error)?;
        String::from_utf8(buffer).map_err(|err| Error::Internal(format!("metrics: {err}")))
    }
}

fn metric_error(err: impl std::fmt::Display) -> Error {
    Error::Internal(format!("metrics: {err}"))
}

/// `GET /metrics` (no auth, like `/healthz`: in a cluster only Prometheus
/// reaches the functions, which are `cluster-local`).
pub fn router(metrics: Metrics, pool: PgPool) -> Router {
    Router::new()
        .route("/metrics", get(serve))
        .with_state((metrics, pool))
}

async fn serve(State((metrics, pool)): State<(Metrics, PgPool)>) -> Result<impl IntoResponse> {
    // A database that does not answer must not hide the other metrics.
    if let Err(err) = metrics.refresh_stores(&pool).await {
        tracing::warn!(error = %err, "storefleet_stores not refreshed");
    }
    Ok((
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        metrics.encode()?,
    ))
}
