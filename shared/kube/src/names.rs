//! The names and labels shared by functions, charts and tests
//! (binding: `docs/development.md`, "Names shared by functions, charts and tests");
//! the store id, the engine and the ownership labels are `storefleet_domain`'s.

pub use storefleet_domain::labels::{
    ENGINE_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, STORE_ID_LABEL,
};
pub use storefleet_domain::{Engine, StoreId};

/// Field manager of every server-side apply Storefleet makes.
pub const FIELD_MANAGER: &str = "storefleet";
/// The store's Secret, created by create-store and passed to the chart as
/// `existingSecret`: MySQL's passwords and WordPress's salts, which no
/// function ever reads back.
pub const STORE_SECRET_NAME: &str = "store-credentials";
/// The store's second Secret, passed to the chart as `existingAdminSecret`:
/// the WordPress administrator's login, the one thing the owner is shown
/// (`GET /api/stores/{id}/credentials`), so list-stores may read this one
/// and nothing else.
pub const STORE_ADMIN_SECRET_NAME: &str = "store-admin";
/// The per-store RoleBinding and the ClusterRole it binds.
pub const STORE_MANAGER_BINDING: &str = "storefleet-store-manager";
pub const STORE_MANAGER_CLUSTER_ROLE: &str = "storefleet-store-manager";
/// The per-store read-only RoleBinding (list-stores: get `store-admin`)
/// and the ClusterRole it binds.
pub const STORE_READER_BINDING: &str = "storefleet-store-reader";
pub const STORE_READER_CLUSTER_ROLE: &str = "storefleet-store-reader";
/// The per-store RoleBinding of delete-store (what `helm uninstall` needs:
/// read and delete, never create or change) and the ClusterRole it binds.
pub const STORE_DELETER_BINDING: &str = "storefleet-store-deleter";
pub const STORE_DELETER_CLUSTER_ROLE: &str = "storefleet-store-deleter";
/// The per-store RoleBinding of readiness-checker (list the store's pods,
/// events and workloads) and the ClusterRole it binds.
pub const STORE_CHECKER_BINDING: &str = "storefleet-store-checker";
pub const STORE_CHECKER_CLUSTER_ROLE: &str = "storefleet-store-checker";
/// The per-store RoleBinding of the ApiServerSource's ServiceAccount
/// (get/list/watch the store's pods and workloads) and the ClusterRole it binds.
pub const STORE_WATCHER_BINDING: &str = "storefleet-store-watcher";
pub const STORE_WATCHER_CLUSTER_ROLE: &str = "storefleet-store-watcher";
