//! The test platform Storefleet's suites share (docs/development.md, "Test
//! platform"): the four function binaries and the local broker, each its own
//! process, each behind a loopback address the harness holds for the whole
//! test, reading a copy of `knative/`.
//!
//! - [`platform`]: start, kill and restart the processes; their logs.
//! - [`process`]: one process in its own process group, logging to a file.
//! - [`addresses`]: the held addresses and the runtime that forwards them.
//! - [`manifests`]: a test's copy of `knative/`, with its edits.
//! - [`cluster`]: the gated test cluster and the pinned helm.
//!
//! The chain suite (`functions/readiness-checker/tests/chain_support`) and
//! the lifecycle suite (`tests/lifecycle`) build on [`platform::Platform`];
//! what differs between them (the recording helm and the fixture chart, or
//! real ServiceAccount tokens and fault proxies) is theirs.

pub mod addresses;
pub mod cluster;
pub mod manifests;
pub mod platform;
pub mod process;

use std::path::{Path, PathBuf};

pub use platform::Platform;

/// The function binaries, each a Knative Service of the same name.
pub const FUNCTIONS: [&str; 4] = [
    "create-store",
    "delete-store",
    "list-stores",
    "readiness-checker",
];

/// The workspace root (this crate is `tests/support`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// A random store-id-shaped suffix: 8 characters of `[a-z0-9]`, for names
/// that must not collide between tests (databases, directories, namespaces).
pub fn random_suffix() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..8)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// The last `lines` lines of a file (empty when it cannot be read).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
