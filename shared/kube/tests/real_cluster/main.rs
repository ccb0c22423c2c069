//! The Kubernetes actions against a real kube-apiserver and the real helm
//! binary (the test cluster of docs/test-cluster.md).
//!
//! Gated on `STOREFLEET_TEST_KUBECONFIG` (set by `make test-kube`): without it
//! every test prints that it skipped and passes, so `cargo test --workspace`
//! works on a machine without a cluster. Never point it at a cluster you care
//! about: the tests create and delete `store-<random>` namespaces.
//! `STOREFLEET_TEST_HELM_BIN` names the helm binary (default: `scripts/tool helm`).

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

//!
//! - [`support`]: the cluster, ids, helm and waiting helpers.
//! - [`namespaces`]: namespaces, Secrets and bindings; foreign namespaces.
//! - [`helm`]: installs, observation, recovery of a killed or timed-out helm.
//! - [`bench`]: `make bench-kube`'s table (ignored in `make test`).

mod bench;
mod helm;
mod namespaces;
mod support;
