//! The store id and the names and labels shared by functions, charts and tests
//! (binding: `docs/development.md`, "Names shared by functions, charts and tests").

use std::collections::BTreeMap;
use std::fmt;

use crate::{Error, Result};

/// Field manager of every server-side apply Storefleet makes.
pub const FIELD_MANAGER: &str = "storefleet";
/// Ownership label: only objects carrying it (with the store id) are ever deleted.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "storefleet";
pub const STORE_ID_LABEL: &str = "storefleet.io/store-id";
pub const ENGINE_LABEL: &str = "storefleet.io/engine";
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

/// A validated store id: 8 characters of `[a-z0-9]`.
///
/// Validating once here means every name built from it (namespace, release,
/// label value) is a valid DNS label and a valid helm release name, and no
/// argument passed to helm can start with `-`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StoreId(String);

impl StoreId {
    pub fn parse(id: &str) -> Result<Self> {
        let valid = id.len() == 8
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if valid {
            Ok(Self(id.to_owned()))
        } else {
            Err(Error::InvalidStoreId(id.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `store-<id>`
    pub fn namespace(&self) -> String {
        format!("store-{}", self.0)
    }

    /// `store-<id>` (the helm release lives in the namespace of the same name).
    pub fn release(&self) -> String {
        format!("store-{}", self.0)
    }

    /// The id from a namespace name `store-<id>`, if it is one.
    pub fn from_namespace(namespace: &str) -> Option<Self> {
        namespace
            .strip_prefix("store-")
            .and_then(|id| Self::parse(id).ok())
    }

    /// The two ownership labels every object Storefleet creates carries.
    pub fn ownership_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
            (STORE_ID_LABEL.to_owned(), self.0.clone()),
        ])
    }

    /// Whether `labels` say this object is Storefleet's and belongs to this store.
    pub fn owns(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        labels.is_some_and(|labels| {
            labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY_VALUE)
                && labels.get(STORE_ID_LABEL) == Some(&self.0)
        })
    }
}

impl fmt::Display for StoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreId({})", self.0)
    }
}

/// The store types; the value of the `storefleet.io/engine` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    WooCommerce,
    Medusa,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::WooCommerce => "woocommerce",
            Engine::Medusa => "medusa",
        }
    }

    pub fn parse(engine: &str) -> Result<Self> {
        match engine {
            "woocommerce" => Ok(Engine::WooCommerce),
            "medusa" => Ok(Engine::Medusa),
            other => Err(Error::Config(format!(
                "unknown engine {other:?}: expected woocommerce or medusa"
            ))),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_eight_lowercase_alphanumerics() {
        let id = StoreId::parse("k7m2q9xd").unwrap();
        assert_eq!(id.namespace(), "store-k7m2q9xd");
        assert_eq!(id.release(), "store-k7m2q9xd");
        assert_eq!(StoreId::from_namespace("store-k7m2q9xd"), Some(id));
    }

    #[test]
    fn rejects_anything_else() {
        for bad in [
            "",
            "k7m2q9x",
            "k7m2q9xdd",
            "K7M2Q9XD",
            "-7m2q9xd",
            "k7m2q9x.",
            "k7m2 9xd",
            "ä7m2q9x",
        ] {
            let err = StoreId::parse(bad).unwrap_err();
            assert!(err.to_string().contains("8 characters"), "{bad:?}: {err}");
        }
        assert_eq!(StoreId::from_namespace("kube-system"), None);
    }

    #[test]
    fn ownership_needs_both_labels_with_the_matching_id() {
        let id = StoreId::parse("abcd1234").unwrap();
        assert!(id.owns(Some(&id.ownership_labels())));
        let other = StoreId::parse("zzzz9999").unwrap();
        assert!(!id.owns(Some(&other.ownership_labels())));
        let mut only_id = id.ownership_labels();
        only_id.remove(MANAGED_BY_LABEL);
        assert!(!id.owns(Some(&only_id)));
        let mut wrong_manager = id.ownership_labels();
        wrong_manager.insert(MANAGED_BY_LABEL.into(), "Helm".into());
        assert!(!id.owns(Some(&wrong_manager)));
        assert!(!id.owns(None));
    }
}
