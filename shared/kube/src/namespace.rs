//! The store namespace: created by server-side apply, deleted only when
//! Storefleet owns it.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, ObjectMeta, Patch, PatchParams, Preconditions};
use kube::{Api, Client};

use crate::names::{ENGINE_LABEL, FIELD_MANAGER};
use crate::{Engine, Error, Result, StoreId};

/// Pod Security Admission: `restricted`, enforced, warned and audited. Every
/// store pod meets it (WordPress runs as www-data and binds port 80 through
/// the namespaced sysctl `net.ipv4.ip_unprivileged_port_start`, MySQL as
/// mysql; helm/store's cluster test installs into a `restricted` namespace).
/// No `enforce-version`: the level follows the cluster's release. The
/// platform's admission policy refuses a store namespace with any other
/// enforce level or a version pin (helm/platform admission-policy.yaml).
const POD_SECURITY_LABELS: [(&str, &str); 3] = [
    ("pod-security.kubernetes.io/enforce", "restricted"),
    ("pod-security.kubernetes.io/warn", "restricted"),
    ("pod-security.kubernetes.io/audit", "restricted"),
];

/// The namespace as Storefleet wants it: only the fields it manages.
pub fn desired_namespace(id: &StoreId, engine: Engine) -> Namespace {
    let mut labels = id.ownership_labels();
    labels.insert(ENGINE_LABEL.to_owned(), engine.as_str().to_owned());
    for (key, value) in POD_SECURITY_LABELS {
        labels.insert(key.to_owned(), value.to_owned());
    }
    Namespace {
        metadata: ObjectMeta {
            name: Some(id.namespace()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    }
}

/// Create or update the store namespace with server-side apply.
///
/// Apply (not create) makes a retried event converge instead of failing, and
/// `force` lets Storefleet take its labels back if someone edited them with
/// another field manager. A namespace of that name that carries another
/// store's id is refused: applying would relabel it as ours.
pub async fn apply_store_namespace(
    client: &Client,
    id: &StoreId,
    engine: Engine,
) -> Result<Namespace> {
    let api: Api<Namespace> = Api::all(client.clone());
    let name = id.namespace();
    if let Some(existing) = api.get_opt(&name).await?
        && claimed_by_someone_else(id, &existing)
    {
        return Err(Error::ForeignNamespace {
            namespace: name,
            store_id: id.to_string(),
        });
    }
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let applied = api
        .patch(
            &name,
            &params,
            &Patch::Apply(&desired_namespace(id, engine)),
        )
        .await?;
    Ok(applied)
}

/// A namespace of the store's name that does not carry this store's
/// ownership labels. Storefleet never leaves an unlabelled one behind (the
/// apply creates the namespace with its labels in one request), so an
/// unlabelled or half-labelled `store-<id>` is someone else's and is never
/// adopted; the admission policy refuses that update too (issue 11, item 2).
fn claimed_by_someone_else(id: &StoreId, ns: &Namespace) -> bool {
    !id.owns(ns.metadata.labels.as_ref())
}

/// Where the deletion of a store namespace stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceDeletion {
    /// The namespace is terminating: its finalizers (and the foreground
    /// deletion of its objects) are still running. Check again later.
    Deleting,
    /// The namespace no longer exists.
    Gone,
}

/// What the store namespace looks like right now (for the sweep: a `ready`
/// store whose namespace vanished is failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceState {
    Absent,
    Active,
    Terminating,
}

pub async fn store_namespace_state(client: &Client, id: &StoreId) -> Result<NamespaceState> {
    let api: Api<Namespace> = Api::all(client.clone());
    Ok(match api.get_opt(&id.namespace()).await? {
        None => NamespaceState::Absent,
        Some(ns) if ns.metadata.deletion_timestamp.is_some() => NamespaceState::Terminating,
        Some(_) => NamespaceState::Active,
    })
}

/// Delete the store namespace, only if Storefleet owns it.
///
/// - absent: [`NamespaceDeletion::Gone`] (a repeated delete is harmless);
/// - present without `app.kubernetes.io/managed-by=storefleet` and the
///   matching `storefleet.io/store-id`: [`Error::ForeignNamespace`], nothing
///   is touched;
/// - otherwise deleted with foreground propagation. Finalizers are never
///   stripped: a namespace stuck terminating is reported as `Deleting`, never
///   forced, because forcing orphans volumes and cloud resources.
///
/// The delete carries a UID precondition, so a namespace deleted and
/// re-created by someone else between the check and the delete is not hit.
pub async fn delete_store_namespace(client: &Client, id: &StoreId) -> Result<NamespaceDeletion> {
    let api: Api<Namespace> = Api::all(client.clone());
    let name = id.namespace();
    let Some(existing) = api.get_opt(&name).await? else {
        return Ok(NamespaceDeletion::Gone);
    };
    if !id.owns(existing.metadata.labels.as_ref()) {
        return Err(Error::ForeignNamespace {
            namespace: name,
            store_id: id.to_string(),
        });
    }
    if existing.metadata.deletion_timestamp.is_some() {
        return Ok(NamespaceDeletion::Deleting);
    }
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: existing.metadata.uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::foreground()
    };
    match api.delete(&name, &params).await {
        // Left: the object is still there, terminating; Right: a Status saying it is gone.
        Ok(answer) if answer.is_left() => Ok(NamespaceDeletion::Deleting),
        Ok(_) => Ok(NamespaceDeletion::Gone),
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(NamespaceDeletion::Gone),
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use http::Method;
    use serde_json::json;

    use super::*;
    use crate::testing::{Exchange, scripted, status};

    fn id() -> StoreId {
        StoreId::parse("abcd1234").unwrap()
    }

    const NS_PATH: &str = "/api/v1/namespaces/store-abcd1234";

    fn namespace(labels: serde_json::Value, terminating: bool) -> serde_json::Value {
        let mut ns = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "store-abcd1234", "uid": "uid-1", "labels": labels},
        });
        if terminating {
            ns["metadata"]["deletionTimestamp"] = json!("2026-11-22T10:00:00Z");
        }
        ns
    }

    fn ours() -> serde_json::Value {
        json!({"app.kubernetes.io/managed-by": "storefleet", "storefleet.io/store-id": "abcd1234"})
    }

    #[tokio::test]
    async fn apply_is_a_forced_server_side_apply_by_storefleet_with_every_label() {
        let (client, api) = scripted(vec![
            Exchange::new(
                Method::GET,
                NS_PATH,
                404,
                status(404, "NotFound", "not found"),
            ),
            Exchange::new(
                Method::PATCH,
                format!("{NS_PATH}?&force=true&fieldManager=storefleet"),
                200,
                namespace(ours(), false),
            )
            .body(|body| {
                assert_eq!(body["apiVersion"], "v1");
                assert_eq!(body["kind"], "Namespace");
                assert_eq!(body["metadata"]["name"], "store-abcd1234");
                assert_eq!(
                    body["metadata"]["labels"],
                    json!({
                        "app.kubernetes.io/managed-by": "storefleet",
                        "storefleet.io/store-id": "abcd1234",
                        "storefleet.io/engine": "woocommerce",
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/warn": "restricted",
                        "pod-security.kubernetes.io/audit": "restricted",
                    })
                );
            }),
        ]);
        apply_store_namespace(&client, &id(), Engine::WooCommerce)
            .await
            .unwrap();
        api.await.unwrap();
    }

    #[tokio::test]
    async fn apply_refuses_a_namespace_it_does_not_own_and_sends_no_patch() {
        // Unlabelled and half-labelled ones too: adopting them is what a
        // stolen token would do (issue 11, item 2).
        for labels in [
            json!({"app.kubernetes.io/managed-by": "argocd"}),
            json!({}),
            json!({"app.kubernetes.io/managed-by": "storefleet"}),
            json!({"storefleet.io/store-id": "abcd1234"}),
            json!({"app.kubernetes.io/managed-by": "storefleet", "storefleet.io/store-id": "zzzz9999"}),
        ] {
            // The script holds only the GET: a PATCH would fail the test.
            let (client, api) = scripted(vec![Exchange::new(
                Method::GET,
                NS_PATH,
                200,
                namespace(labels.clone(), false),
            )]);
            let err = apply_store_namespace(&client, &id(), Engine::WooCommerce)
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::ForeignNamespace { .. }),
                "{labels}: {err}"
            );
            api.await.unwrap();
        }
    }

    #[tokio::test]
    async fn delete_of_an_absent_namespace_is_gone() {
        let (client, api) = scripted(vec![Exchange::new(
            Method::GET,
            NS_PATH,
            404,
            status(404, "NotFound", "namespaces \"store-abcd1234\" not found"),
        )]);
        assert_eq!(
            delete_store_namespace(&client, &id()).await.unwrap(),
            NamespaceDeletion::Gone
        );
        api.await.unwrap();
    }

    #[tokio::test]
    async fn delete_refuses_foreign_namespaces_and_sends_no_delete() {
        for labels in [
            json!({}),
            json!({"app.kubernetes.io/managed-by": "storefleet"}),
            json!({"storefleet.io/store-id": "abcd1234"}),
            json!({"app.kubernetes.io/managed-by": "storefleet", "storefleet.io/store-id": "zzzz9999"}),
            json!({"app.kubernetes.io/managed-by": "Helm", "storefleet.io/store-id": "abcd1234"}),
        ] {
            // The script holds only the GET: a DELETE would fail the test.
            let (client, api) = scripted(vec![Exchange::new(
                Method::GET,
                NS_PATH,
                200,
                namespace(labels.clone(), false),
            )]);
            let err = delete_store_namespace(&client, &id()).await.unwrap_err();
            assert!(
                matches!(err, Error::ForeignNamespace { .. }),
                "{labels}: {err}"
            );
            assert!(
                err.to_string()
                    .contains("refusing to delete namespace store-abcd1234")
            );
            api.await.unwrap();
        }
    }

    #[tokio::test]
    async fn delete_is_foreground_with_a_uid_precondition() {
        let (client, api) = scripted(vec![
            Exchange::new(Method::GET, NS_PATH, 200, namespace(ours(), false)),
            Exchange::new(
                Method::DELETE,
                format!("{NS_PATH}?"),
                200,
                namespace(ours(), true),
            )
            .body(|body| {
                assert_eq!(body["propagationPolicy"], "Foreground");
                assert_eq!(body["preconditions"]["uid"], "uid-1");
            }),
        ]);
        assert_eq!(
            delete_store_namespace(&client, &id()).await.unwrap(),
            NamespaceDeletion::Deleting
        );
        api.await.unwrap();
    }

    #[tokio::test]
    async fn a_terminating_namespace_is_left_to_its_finalizers() {
        // No DELETE, no finalizer patch: just "still deleting".
        let (client, api) = scripted(vec![Exchange::new(
            Method::GET,
            NS_PATH,
            200,
            namespace(ours(), true),
        )]);
        assert_eq!(
            delete_store_namespace(&client, &id()).await.unwrap(),
            NamespaceDeletion::Deleting
        );
        api.await.unwrap();
    }

    #[tokio::test]
    async fn a_namespace_gone_between_get_and_delete_is_gone() {
        let (client, api) = scripted(vec![
            Exchange::new(Method::GET, NS_PATH, 200, namespace(ours(), false)),
            Exchange::new(
                Method::DELETE,
                format!("{NS_PATH}?"),
                404,
                status(404, "NotFound", "gone"),
            ),
        ]);
        assert_eq!(
            delete_store_namespace(&client, &id()).await.unwrap(),
            NamespaceDeletion::Gone
        );
        api.await.unwrap();
    }

    #[tokio::test]
    async fn state_tells_absent_active_and_terminating_apart() {
        let (client, api) = scripted(vec![
            Exchange::new(Method::GET, NS_PATH, 404, status(404, "NotFound", "gone")),
            Exchange::new(Method::GET, NS_PATH, 200, namespace(ours(), false)),
            Exchange::new(Method::GET, NS_PATH, 200, namespace(ours(), true)),
        ]);
        assert_eq!(
            store_namespace_state(&client, &id()).await.unwrap(),
            NamespaceState::Absent
        );
        assert_eq!(
            store_namespace_state(&client, &id()).await.unwrap(),
            NamespaceState::Active
        );
        assert_eq!(
            store_namespace_state(&client, &id()).await.unwrap(),
            NamespaceState::Terminating
        );
        api.await.unwrap();
    }
}
