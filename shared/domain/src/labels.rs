//! The labels every object Storefleet creates carries (binding:
//! `docs/development.md`, "Names shared by functions, charts and tests").

/// Ownership label: only objects carrying it (with the store id) are ever deleted.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "storefleet";
pub const STORE_ID_LABEL: &str = "storefleet.io/store-id";
pub const ENGINE_LABEL: &str = "storefleet.io/engine";
