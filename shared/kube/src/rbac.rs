//! The per-store RoleBindings: the functions' ServiceAccounts get the
//! ClusterRole `storefleet-store-manager` (what helm and create-store write),
//! `storefleet-store-deleter` (what `helm uninstall` needs: delete-store) and,
//! for the ServiceAccounts that only read the store's Secret,
//! `storefleet-store-reader`, and for the ones that only observe the store
//! (readiness-checker, the ApiServerSource) `storefleet-store-checker` and
//! `storefleet-store-watcher`, inside this store's namespace only, never
//! cluster-wide.

use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use kube::api::{ObjectMeta, Patch, PatchParams};
use kube::{Api, Client};

use crate::names::{
    FIELD_MANAGER, STORE_CHECKER_BINDING, STORE_CHECKER_CLUSTER_ROLE, STORE_DELETER_BINDING,
    STORE_DELETER_CLUSTER_ROLE, STORE_MANAGER_BINDING, STORE_MANAGER_CLUSTER_ROLE,
    STORE_READER_BINDING, STORE_READER_CLUSTER_ROLE, STORE_WATCHER_BINDING,
    STORE_WATCHER_CLUSTER_ROLE,
};
use crate::{Error, Result, StoreId};

/// The setting that names the subjects of `storefleet-store-manager`.
pub const MANAGER_SUBJECTS_VAR: &str = "STOREFLEET_STORE_MANAGER_SUBJECTS";
/// The setting that names the subjects of `storefleet-store-reader`.
pub const READER_SUBJECTS_VAR: &str = "STOREFLEET_STORE_READER_SUBJECTS";
/// The setting that names the subjects of `storefleet-store-deleter`.
pub const DELETER_SUBJECTS_VAR: &str = "STOREFLEET_STORE_DELETER_SUBJECTS";
/// The setting that names the subjects of `storefleet-store-checker`.
pub const CHECKER_SUBJECTS_VAR: &str = "STOREFLEET_STORE_CHECKER_SUBJECTS";
/// The setting that names the subjects of `storefleet-store-watcher`.
pub const WATCHER_SUBJECTS_VAR: &str = "STOREFLEET_STORE_WATCHER_SUBJECTS";

/// A ServiceAccount named as `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountRef {
    pub namespace: String,
    pub name: String,
}

/// Parse `STOREFLEET_STORE_MANAGER_SUBJECTS`: a comma list of `namespace/name`,
/// at least one (create-store itself writes through this binding).
pub fn parse_subjects(list: &str) -> Result<Vec<ServiceAccountRef>> {
    let subjects = parse_subject_list(MANAGER_SUBJECTS_VAR, list)?;
    if subjects.is_empty() {
        return Err(Error::Config(format!(
            "{MANAGER_SUBJECTS_VAR} is empty: name at least one ServiceAccount as namespace/name"
        )));
    }
    Ok(subjects)
}

/// Parse `STOREFLEET_STORE_READER_SUBJECTS`: the same comma list of
/// `namespace/name`, which may be empty (then no reader binding is applied).
pub fn parse_reader_subjects(list: &str) -> Result<Vec<ServiceAccountRef>> {
    parse_subject_list(READER_SUBJECTS_VAR, list)
}

/// Parse `STOREFLEET_STORE_DELETER_SUBJECTS`: the same comma list, which may
/// be empty (then no deleter binding is applied).
pub fn parse_deleter_subjects(list: &str) -> Result<Vec<ServiceAccountRef>> {
    parse_subject_list(DELETER_SUBJECTS_VAR, list)
}

/// Parse `STOREFLEET_STORE_CHECKER_SUBJECTS` (may be empty: no checker binding).
pub fn parse_checker_subjects(list: &str) -> Result<Vec<ServiceAccountRef>> {
    parse_subject_list(CHECKER_SUBJECTS_VAR, list)
}

/// Parse `STOREFLEET_STORE_WATCHER_SUBJECTS` (may be empty: no watcher binding).
pub fn parse_watcher_subjects(list: &str) -> Result<Vec<ServiceAccountRef>> {
    parse_subject_list(WATCHER_SUBJECTS_VAR, list)
}

/// A comma list of `namespace/name`; errors name `variable` and the item.
fn parse_subject_list(variable: &str, list: &str) -> Result<Vec<ServiceAccountRef>> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('/') {
            Some((namespace, name))
                if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
            {
                Ok(ServiceAccountRef {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                })
            }
            _ => Err(Error::Config(format!(
                "{variable}: {item:?} is not namespace/name"
            ))),
        })
        .collect()
}

/// The manager RoleBinding as Storefleet wants it.
pub fn desired_role_binding(id: &StoreId, subjects: &[ServiceAccountRef]) -> RoleBinding {
    store_binding(
        id,
        STORE_MANAGER_BINDING,
        STORE_MANAGER_CLUSTER_ROLE,
        subjects,
    )
}

/// The reader RoleBinding as Storefleet wants it.
pub fn desired_reader_binding(id: &StoreId, subjects: &[ServiceAccountRef]) -> RoleBinding {
    store_binding(
        id,
        STORE_READER_BINDING,
        STORE_READER_CLUSTER_ROLE,
        subjects,
    )
}

/// The deleter RoleBinding as Storefleet wants it.
pub fn desired_deleter_binding(id: &StoreId, subjects: &[ServiceAccountRef]) -> RoleBinding {
    store_binding(
        id,
        STORE_DELETER_BINDING,
        STORE_DELETER_CLUSTER_ROLE,
        subjects,
    )
}

/// The checker RoleBinding (readiness-checker reads the store) as Storefleet wants it.
pub fn desired_checker_binding(id: &StoreId, subjects: &[ServiceAccountRef]) -> RoleBinding {
    store_binding(
        id,
        STORE_CHECKER_BINDING,
        STORE_CHECKER_CLUSTER_ROLE,
        subjects,
    )
}

/// The watcher RoleBinding (the ApiServerSource watches the store) as Storefleet wants it.
pub fn desired_watcher_binding(id: &StoreId, subjects: &[ServiceAccountRef]) -> RoleBinding {
    store_binding(
        id,
        STORE_WATCHER_BINDING,
        STORE_WATCHER_CLUSTER_ROLE,
        subjects,
    )
}

/// A RoleBinding `name` in the store namespace to the ClusterRole `role`
/// (the admission policy lets create-store bind a ClusterRole only under its
/// own name, and only for ServiceAccounts).
fn store_binding(
    id: &StoreId,
    name: &str,
    role: &str,
    subjects: &[ServiceAccountRef],
) -> RoleBinding {
    RoleBinding {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(id.namespace()),
            labels: Some(id.ownership_labels()),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".to_owned()),
            kind: "ClusterRole".to_owned(),
            name: role.to_owned(),
        },
        subjects: Some(
            subjects
                .iter()
                .map(|sa| Subject {
                    kind: "ServiceAccount".to_owned(),
                    name: sa.name.clone(),
                    namespace: Some(sa.namespace.clone()),
                    api_group: None,
                })
                .collect(),
        ),
    }
}

/// Server-side apply the manager RoleBinding (idempotent; a changed subject
/// list converges on the next apply).
pub async fn apply_store_role_binding(
    client: &Client,
    id: &StoreId,
    subjects: &[ServiceAccountRef],
) -> Result<RoleBinding> {
    apply(client, id, desired_role_binding(id, subjects)).await
}

/// Server-side apply the reader RoleBinding, the same way. With no subjects
/// nothing is sent and `None` is returned (a RoleBinding without subjects
/// would grant nothing). A binding left from an earlier, non-empty list is
/// not removed.
pub async fn apply_store_reader_binding(
    client: &Client,
    id: &StoreId,
    subjects: &[ServiceAccountRef],
) -> Result<Option<RoleBinding>> {
    apply_unless_empty(client, id, desired_reader_binding(id, subjects)).await
}

/// Server-side apply the deleter RoleBinding, the same way (none without
/// subjects).
pub async fn apply_store_deleter_binding(
    client: &Client,
    id: &StoreId,
    subjects: &[ServiceAccountRef],
) -> Result<Option<RoleBinding>> {
    apply_unless_empty(client, id, desired_deleter_binding(id, subjects)).await
}

/// Server-side apply the checker RoleBinding (none without subjects).
pub async fn apply_store_checker_binding(
    client: &Client,
    id: &StoreId,
    subjects: &[ServiceAccountRef],
) -> Result<Option<RoleBinding>> {
    apply_unless_empty(client, id, desired_checker_binding(id, subjects)).await
}

/// Server-side apply the watcher RoleBinding (none without subjects).
pub async fn apply_store_watcher_binding(
    client: &Client,
    id: &StoreId,
    subjects: &[ServiceAccountRef],
) -> Result<Option<RoleBinding>> {
    apply_unless_empty(client, id, desired_watcher_binding(id, subjects)).await
}

async fn apply_unless_empty(
    client: &Client,
    id: &StoreId,
    binding: RoleBinding,
) -> Result<Option<RoleBinding>> {
    if binding.subjects.as_ref().is_none_or(Vec::is_empty) {
        return Ok(None);
    }
    apply(client, id, binding).await.map(Some)
}

async fn apply(client: &Client, id: &StoreId, binding: RoleBinding) -> Result<RoleBinding> {
    let api: Api<RoleBinding> = Api::namespaced(client.clone(), &id.namespace());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let name = binding.metadata.name.clone().unwrap_or_default();
    let applied = api.patch(&name, &params, &Patch::Apply(&binding)).await?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_default_subject_list() {
        let subjects = parse_subjects(
            "storefleet/create-store, storefleet/delete-store,storefleet/readiness-checker,storefleet/list-stores",
        )
        .unwrap();
        assert_eq!(subjects.len(), 4);
        assert_eq!(
            subjects[1],
            ServiceAccountRef {
                namespace: "storefleet".into(),
                name: "delete-store".into()
            }
        );
    }

    #[test]
    fn rejects_malformed_subjects_with_a_message_that_names_the_item() {
        for bad in ["create-store", "/x", "ns/", "a/b/c"] {
            let err = parse_subjects(bad).unwrap_err().to_string();
            assert!(err.contains(bad) && err.contains("namespace/name"), "{err}");
        }
        assert!(
            parse_subjects(" , ")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }

    #[test]
    fn reader_subjects_may_be_empty_and_are_checked_like_the_manager_list() {
        assert_eq!(parse_reader_subjects("").unwrap(), vec![]);
        assert_eq!(parse_reader_subjects(" , ").unwrap(), vec![]);
        assert_eq!(
            parse_reader_subjects(" storefleet/list-stores ").unwrap(),
            vec![ServiceAccountRef {
                namespace: "storefleet".into(),
                name: "list-stores".into()
            }]
        );
        for bad in ["list-stores", "/x", "ns/", "a/b/c"] {
            let err = parse_reader_subjects(&format!("storefleet/list-stores,{bad}"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(READER_SUBJECTS_VAR)
                    && err.contains(bad)
                    && err.contains("namespace/name"),
                "{err}"
            );
            let err = parse_subjects(bad).unwrap_err().to_string();
            assert!(err.contains(MANAGER_SUBJECTS_VAR), "{err}");
        }
    }

    #[tokio::test]
    async fn applies_the_binding_server_side_as_storefleet() {
        use http::Method;
        use serde_json::json;

        use crate::testing::{Exchange, scripted};

        let id = StoreId::parse("abcd1234").unwrap();
        let subjects = parse_subjects("storefleet/create-store,storefleet/delete-store").unwrap();
        let (client, api) = scripted(vec![Exchange::new(
            Method::PATCH,
            "/apis/rbac.authorization.k8s.io/v1/namespaces/store-abcd1234/rolebindings/storefleet-store-manager?&force=true&fieldManager=storefleet",
            200,
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "storefleet-store-manager"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "storefleet-store-manager"}}),
        )
        .body(|body| {
            assert_eq!(body["roleRef"]["kind"], "ClusterRole");
            assert_eq!(body["roleRef"]["name"], "storefleet-store-manager");
            assert_eq!(body["metadata"]["labels"]["storefleet.io/store-id"], "abcd1234");
            assert_eq!(
                body["subjects"],
                json!([
                    {"kind": "ServiceAccount", "name": "create-store", "namespace": "storefleet"},
                    {"kind": "ServiceAccount", "name": "delete-store", "namespace": "storefleet"},
                ])
            );
        })]);
        apply_store_role_binding(&client, &id, &subjects)
            .await
            .unwrap();
        api.await.unwrap();
    }

    #[tokio::test]
    async fn applies_the_reader_binding_server_side_as_storefleet() {
        use http::Method;
        use serde_json::json;

        use crate::testing::{Exchange, scripted};

        let id = StoreId::parse("abcd1234").unwrap();
        let subjects = parse_reader_subjects("storefleet/list-stores").unwrap();
        let (client, api) = scripted(vec![Exchange::new(
            Method::PATCH,
            "/apis/rbac.authorization.k8s.io/v1/namespaces/store-abcd1234/rolebindings/storefleet-store-reader?&force=true&fieldManager=storefleet",
            200,
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "storefleet-store-reader"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "storefleet-store-reader"}}),
        )
        .body(|body| {
            assert_eq!(body["kind"], "RoleBinding");
            assert_eq!(body["metadata"]["name"], "storefleet-store-reader");
            assert_eq!(body["metadata"]["namespace"], "store-abcd1234");
            assert_eq!(
                body["roleRef"],
                json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "storefleet-store-reader"})
            );
            assert_eq!(body["metadata"]["labels"]["storefleet.io/store-id"], "abcd1234");
            assert_eq!(
                body["metadata"]["labels"]["app.kubernetes.io/managed-by"],
                "storefleet"
            );
            assert_eq!(
                body["subjects"],
                json!([{"kind": "ServiceAccount", "name": "list-stores", "namespace": "storefleet"}])
            );
        })]);
        let applied = apply_store_reader_binding(&client, &id, &subjects)
            .await
            .unwrap();
        assert_eq!(applied.unwrap().role_ref.name, STORE_READER_CLUSTER_ROLE);
        api.await.unwrap();
    }

    #[tokio::test]
    async fn applies_the_deleter_binding_server_side_as_storefleet() {
        use http::Method;
        use serde_json::json;

        use crate::testing::{Exchange, scripted};

        let id = StoreId::parse("abcd1234").unwrap();
        let subjects = parse_deleter_subjects("storefleet/delete-store").unwrap();
        let (client, api) = scripted(vec![Exchange::new(
            Method::PATCH,
            "/apis/rbac.authorization.k8s.io/v1/namespaces/store-abcd1234/rolebindings/storefleet-store-deleter?&force=true&fieldManager=storefleet",
            200,
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "storefleet-store-deleter"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "storefleet-store-deleter"}}),
        )
        .body(|body| {
            assert_eq!(
                body["roleRef"],
                json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "storefleet-store-deleter"})
            );
            assert_eq!(body["metadata"]["labels"]["storefleet.io/store-id"], "abcd1234");
            assert_eq!(
                body["subjects"],
                json!([{"kind": "ServiceAccount", "name": "delete-store", "namespace": "storefleet"}])
            );
        })]);
        let applied = apply_store_deleter_binding(&client, &id, &subjects)
            .await
            .unwrap();
        assert_eq!(applied.unwrap().role_ref.name, STORE_DELETER_CLUSTER_ROLE);
        api.await.unwrap();
        // No subjects: nothing is sent (an empty script fails on any request).
        let (client, api) = scripted(vec![]);
        assert!(
            apply_store_deleter_binding(&client, &id, &[])
                .await
                .unwrap()
                .is_none()
        );
        drop(client);
        api.await.unwrap();
    }

    #[tokio::test]
    async fn no_reader_subjects_sends_nothing() {
        use crate::testing::scripted;

        let id = StoreId::parse("abcd1234").unwrap();
        // An empty script: any request fails the test.
        let (client, api) = scripted(vec![]);
        let applied = apply_store_reader_binding(&client, &id, &[]).await.unwrap();
        assert!(applied.is_none());
        drop(client);
        api.await.unwrap();
    }
}
