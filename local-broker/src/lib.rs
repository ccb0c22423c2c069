//! The local broker: Storefleet's event chain without Knative.
//!
//! It reads the same `knative/` manifests production applies and behaves like
//! them: a Broker ingress with an in-memory queue, Trigger filters and
//! delivery (retry, backoff, timeout, dead-letter sink), reply events,
//! SinkBindings (`K_SINK` of the functions it starts), the PingSource schedule
//! and an ApiServerSource emulation over kube-rs watches. A second listener
//! serves the dev gateway: `/api/*` routed to the functions and the
//! dashboard's built files (the ingress is not reachable there). See
//! `docs/local-broker.md`.

pub mod apiserver;
pub mod broker;
pub mod delivery;
pub mod filter;
pub mod gateway;
pub mod held;
pub mod manifest;
pub mod ping;
pub mod server;
pub mod supervise;

use std::path::PathBuf;

/// Everything that can go wrong while loading manifests or starting up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A manifest the broker cannot use; `at` names the file and document.
    #[error("{at}: {message}")]
    Manifest { at: String, message: String },
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start {name} ({path}): {source}")]
    Spawn {
        name: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
