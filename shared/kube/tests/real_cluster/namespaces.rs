//! Namespaces, Secrets and RoleBindings on a real kube-apiserver.

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use storefleet_kube::actions::StoreActions;
use storefleet_kube::names::{STORE_ADMIN_SECRET_NAME, STORE_SECRET_NAME, StoreId};
use storefleet_kube::namespace::{self};
use storefleet_kube::{Engine, Error, rbac, secret};

use crate::support::*;

#[tokio::test]
async fn namespace_secret_and_binding_on_a_real_apiserver() {
    let Some(cluster) = cluster("namespace_secret_and_binding_on_a_real_apiserver").await else {
        return;
    };
    // Every log line of the test, down to TRACE (kube's HTTP layer included),
    // is kept to check that no Secret value reaches a log.
    let logs = CapturedLogs::default();
    let _logging = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(logs.clone())
            .finish(),
    );
    let client = &cluster.client;
    let id = StoreId::random();

    // Applying twice converges; the labels are what docs/development.md says.
    namespace::apply_store_namespace(client, &id, Engine::WooCommerce)
        .await
        .unwrap();
    let ns = namespace::apply_store_namespace(client, &id, Engine::WooCommerce)
        .await
        .unwrap();
    let labels = ns.metadata.labels.unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "storefleet");
    assert_eq!(labels["storefleet.io/store-id"], id.as_str());
    assert_eq!(labels["storefleet.io/engine"], "woocommerce");
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
    assert_eq!(labels["pod-security.kubernetes.io/warn"], "restricted");
    assert_eq!(labels["pod-security.kubernetes.io/audit"], "restricted");
    let managers: Vec<_> = ns
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .filter_map(|f| f.manager)
        .collect();
    assert!(managers.contains(&"storefleet".to_owned()), "{managers:?}");

    // Created once; the second attempt (a retried event) rotates nothing.
    assert_eq!(
        secret::ensure_store_secret(client, &id, "owner@example.com")
            .await
            .unwrap(),
        secret::SecretOutcome::Created
    );
    let first = admin_password(client, &id).await;
    assert_eq!(
        secret::ensure_store_secret(client, &id, "owner@example.com")
            .await
            .unwrap(),
        secret::SecretOutcome::AlreadyExisted
    );
    assert_eq!(
        admin_password(client, &id).await,
        first,
        "the password was rotated"
    );
    let credentials = secret::read_credentials(client, &id).await.unwrap();
    assert!(credentials.admin_user.starts_with("admin-"));
    assert_eq!(
        credentials.admin_password.expose().as_bytes(),
        first.as_slice()
    );

    let subjects = rbac::parse_subjects("storefleet/create-store,storefleet/delete-store").unwrap();
    rbac::apply_store_role_binding(client, &id, &subjects)
        .await
        .unwrap();
    rbac::apply_store_role_binding(client, &id, &subjects)
        .await
        .unwrap();
    let readers = rbac::parse_reader_subjects("storefleet/list-stores").unwrap();
    for _ in 0..2 {
        let reader = rbac::apply_store_reader_binding(client, &id, &readers)
            .await
            .unwrap()
            .expect("a reader binding for a non-empty subject list");
        assert_eq!(reader.role_ref.name, "storefleet-store-reader");
    }

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &id.namespace());
    let mut data = secrets.get(STORE_SECRET_NAME).await.unwrap().data.unwrap();
    data.extend(
        secrets
            .get(STORE_ADMIN_SECRET_NAME)
            .await
            .unwrap()
            .data
            .unwrap(),
    );
    let values: Vec<String> = data
        .into_iter()
        .filter(|(key, _)| key.contains("password") || key.contains("key") || key.contains("salt"))
        .map(|(_, value)| String::from_utf8(value.0).unwrap())
        .collect();
    assert_eq!(values.len(), 11);

    delete_and_wait(client, &id).await;
    let err = secret::read_credentials(client, &id).await.unwrap_err();
    assert!(matches!(err, Error::CredentialsUnavailable { .. }), "{err}");

    let logs = logs.text();
    assert!(
        logs.lines().count() > 10,
        "the capture caught nothing:\n{logs}"
    );
    for value in values {
        assert!(!logs.contains(&value), "a Secret value reached the logs");
    }
}

#[tokio::test]
async fn foreign_namespaces_are_never_deleted() {
    let Some(cluster) = cluster("foreign_namespaces_are_never_deleted").await else {
        return;
    };
    let client = &cluster.client;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for labels in [
        None,
        Some([("app.kubernetes.io/managed-by", "someone-else")]),
        Some([("storefleet.io/store-id", "zzzz9999")]),
    ] {
        let id = StoreId::random();
        let foreign = Namespace {
            metadata: ObjectMeta {
                name: Some(id.namespace()),
                labels: labels.map(|l| {
                    l.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                }),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        namespaces
            .create(&PostParams::default(), &foreign)
            .await
            .unwrap();
        let err = namespace::delete_store_namespace(client, &id)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::ForeignNamespace { .. }),
            "{labels:?}: {err}"
        );
        let actions = StoreActions {
            client: client.clone(),
            helm: helm_for(&cluster, &fixture_chart(), vec![]),
            subjects: vec![],
            reader_subjects: vec![],
            deleter_subjects: vec![],
            checker_subjects: vec![],
            watcher_subjects: vec![],
        };
        let err = actions.teardown(&id).await.unwrap_err();
        assert!(
            matches!(err, Error::ForeignNamespace { .. }),
            "{labels:?}: {err}"
        );
        let still_there = namespaces.get(&id.namespace()).await.unwrap();
        assert!(
            still_there.metadata.deletion_timestamp.is_none(),
            "{labels:?}: it was deleted"
        );
        // Unlabelled too: Storefleet never leaves one behind, so it is not ours.
        let err = namespace::apply_store_namespace(client, &id, Engine::WooCommerce)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::ForeignNamespace { .. }),
            "{labels:?}: apply relabelled it: {err}"
        );
        namespaces
            .delete(&id.namespace(), &DeleteParams::default())
            .await
            .unwrap();
    }
}
