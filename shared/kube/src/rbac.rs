//! The per-store RoleBinding: the functions' ServiceAccounts get the
//! ClusterRole `storefleet-store-manager` inside this store's namespace only,
//! never cluster-wide.

use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use kube::api::{ObjectMeta, Patch, PatchParams};
use kube::{Api, Client};

use crate::names::{FIELD_MANAGER, STORE_MANAGER_BINDING, STORE_MANAGER_CLUSTER_ROLE};
use crate::{Error, Result, StoreId};

/// A ServiceAccount named as `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountRef {
    pub namespace: String,
    pub name: String,
}

/// Parse `STOREFLEET_STORE_MANAGER_SUBJECTS`: a comma list of `namespace/name`.
pub fn parse_subjects(list: &str) -> Result<Vec<ServiceAccountRef>> {
    let subjects: Vec<_> = list
        .split(',')
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
                "STOREFLEET_STORE_MANAGER_SUBJECTS: {item:?} is not namespace/name"
            ))),
        })
        .collect::<Result<_>>()?;
    if subjects.is_empty() {
        return Err(Error::Config(
            "STOREFLEET_STORE_MANAGER_SUBJECTS is empty: name at least one ServiceAccount as namespace/name".into(),
        ));
    }
    Ok(subjects)
}

/// The RoleBinding as Storefleet wants it.
pub fn desired_role_binding(id: &StoreId, subjects: &[ServiceAccountRef]) -> RoleBinding {
    RoleBinding {
        metadata: ObjectMeta {
            name: Some(STORE_MANAGER_BINDING.to_owned()),
            namespace: Some(id.namespace()),
            labels: Some(id.ownership_labels()),
            ..ObjectMeta::default()
        },
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".to_owned()),
            kind: "ClusterRole".to_owned(),
            name: STORE_MANAGER_CLUSTER_ROLE.to_owned(),
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

/// Server-side apply the RoleBinding (idempotent; a changed subject list
/// converges on the next apply).
pub async fn apply_store_role_binding(
    client: &Client,
    id: &StoreId,
    subjects: &[ServiceAccountRef],
) -> Result<RoleBinding> {
    let api: Api<RoleBinding> = Api::namespaced(client.clone(), &id.namespace());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let applied = api
        .patch(
            STORE_MANAGER_BINDING,
            &params,
            &Patch::Apply(&desired_role_binding(id, subjects)),
        )
        .await?;
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
}
