//! The store lifecycle on the real test cluster (docs/lifecycle-tests.md).
//!
//! A harness, not a product crate: it starts what production runs — the four
//! function binaries and the local broker standing in for Knative — against
//! a real kube-apiserver (scripts/test-cluster), real PostgreSQL and the real
//! helm, each function authenticated by a real ServiceAccount token of the
//! platform chart's RBAC, so a missing or excess permission shows up.
//!
//! - [`cluster`]: the cluster, the platform chart's RBAC, tokens and kubeconfigs.
//! - [`database`]: a fresh PostgreSQL database per test.
//! - [`platform`]: the function processes, the local broker, the HTTP API.
//! - [`proxy`]: faults between the broker and a function (every event twice; events held and lost).
//! - [`checks`]: what the tests check in the cluster afterwards.
//! - [`wait`]: polling with a bound.
//!
//! Gated on `STOREFLEET_LIFECYCLE_KUBECONFIG` (set by `make test-lifecycle`):
//! without it every test says it skipped, so `cargo test --workspace` runs on
//! a machine without a cluster.

pub mod checks;
pub mod cluster;
pub mod database;
pub mod platform;
pub mod proxy;
pub mod wait;

/// The workspace root and random names: the shared test platform's.
pub use storefleet_test_support::{random_suffix, repo_root};
