//! The Kubernetes actions of Storefleet, as a library the functions call.
//!
//! Each module does one job:
//! - [`names`]: the store id and the names and labels every part agrees on
//!   (`docs/development.md`).
//! - [`namespace`]: server-side apply of the store namespace; deletion that
//!   refuses namespaces Storefleet does not own.
//! - [`secret`]: the store's generated credentials, created once and never rotated.
//! - [`rbac`]: the per-store RoleBinding for the functions' ServiceAccounts.
//! - [`helm`]: the helm CLI runner (bounded time, a concurrency cap, durations).
//! - [`readiness`]: a pure verdict over the namespace's workloads and pods.
//! - [`storefront`]: the HTTP check of the storefront through the ingress controller.
//! - [`client`]: building the kube client from the environment.
//! - [`actions`]: the provision and teardown sequences, in their safe order.
//!
//! Nothing here is global: the caller builds a [`kube::Client`], a
//! [`helm::Helm`] runner and a [`storefront::StorefrontCheck`] once and passes
//! them in.

pub mod actions;
pub mod client;
mod error;
pub mod helm;
pub mod names;
pub mod namespace;
pub mod rbac;
pub mod readiness;
pub mod secret;
pub mod storefront;
#[cfg(test)]
mod testing;

pub use error::{Error, Result};
pub use names::{Engine, StoreId};
