//! Code shared by every Storefleet function.
//!
//! Each module does one job:
//! - [`config`]: the environment, read once at start, with errors that name the variable.
//! - [`context`]: the state every router shares, and the start of every `main`.
//! - [`error`]: the one [`Error`] type and its `application/problem+json` answer.
//! - [`db`]: the data layer — the PostgreSQL pool, the migrations and every SQL statement
//!   (one module per table: stores, activity, dedup, lease, sweep claim, users, trace),
//!   checked at compile time against `.sqlx/`.
//! - [`auth`]: bearer tokens, users, the [`auth::Caller`] extractor.
//! - [`domain`]: the vocabulary — store id, engine, status, activity kinds, event types
//!   (the `storefleet-domain` crate).
//! - [`events`]: emitting CloudEvents to `K_SINK` from HTTP routes.
//! - [`chain`]: receiving CloudEvents: extractor, answers, dedup, the Kubernetes side.
//! - [`metrics`]: the Prometheus registry and `GET /metrics`.
//! - [`reasons`]: the fixed, tenant-safe failure reasons.
//! - [`server`]: the common runner (`$PORT` or Lambda, SIGTERM, `/healthz`, request spans).
//! - [`telemetry`]: logs, spans, the W3C trace context across the chain, OTLP export.
//! - [`json`]: the JSON body extractor whose rejections are problems.
//! - [`rate_limit`]: the API's per-token rate limits (governor).
//! - [`testing`]: helpers for the integration tests (the `testing` feature, off in production builds).

pub mod auth;
pub mod chain;
pub mod cli;
pub mod config;
pub mod context;
pub mod db;
pub use storefleet_domain as domain;
pub mod error;
pub mod events;
pub mod json;
pub mod metrics;
pub mod rate_limit;
pub mod reasons;
pub mod server;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use config::Config;
pub use error::{Error, Result};
