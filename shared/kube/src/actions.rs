//! The two sequences the functions run, in the one order that is safe, so
//! create-store and delete-store cannot get it wrong.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, Client};

use crate::helm::{Helm, HelmRun, StoreRelease, Uninstalled};
use crate::namespace::{self, NamespaceDeletion};
use crate::rbac::{self, ServiceAccountRef};
use crate::secret::{self, SecretOutcome};
use crate::{Engine, Error, Result, StoreId};

/// How long a `403` on the store's Secret, right after its RoleBinding was
/// applied, is taken for RBAC propagation rather than a missing permission.
pub const RBAC_PROPAGATION: Duration = Duration::from_secs(15);

/// What the store actions need, built once per process (the Context of
/// kube-rs' controller-rs style).
#[derive(Clone)]
pub struct StoreActions {
    pub client: Client,
    pub helm: Helm,
    /// `STOREFLEET_STORE_MANAGER_SUBJECTS`, parsed with [`rbac::parse_subjects`]:
    /// bound to `storefleet-store-manager` in each store namespace.
    pub subjects: Vec<ServiceAccountRef>,
    /// `STOREFLEET_STORE_READER_SUBJECTS`, parsed with
    /// [`rbac::parse_reader_subjects`]: bound to `storefleet-store-reader`
    /// (get `store-admin`) in each store namespace; empty: no such binding.
    pub reader_subjects: Vec<ServiceAccountRef>,
    /// `STOREFLEET_STORE_DELETER_SUBJECTS`, parsed with
    /// [`rbac::parse_deleter_subjects`]: bound to `storefleet-store-deleter`
    /// (what `helm uninstall` needs) in each store namespace; empty: no such
    /// binding.
    pub deleter_subjects: Vec<ServiceAccountRef>,
    /// `STOREFLEET_STORE_CHECKER_SUBJECTS` ([`rbac::parse_checker_subjects`]):
    /// bound to `storefleet-store-checker` (readiness-checker's reads) in
    /// each store namespace; empty: no such binding.
    pub checker_subjects: Vec<ServiceAccountRef>,
    /// `STOREFLEET_STORE_WATCHER_SUBJECTS` ([`rbac::parse_watcher_subjects`]):
    /// bound to `storefleet-store-watcher` (the ApiServerSource's watch) in
    /// each store namespace; empty: no such binding.
    pub watcher_subjects: Vec<ServiceAccountRef>,
}

/// What [`StoreActions::provision`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub secret: SecretOutcome,
    pub helm: HelmRun,
}

/// What [`StoreActions::teardown`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornDown {
    pub release: Uninstalled,
    pub namespace: NamespaceDeletion,
}

impl StoreActions {
    /// create-store's handler of `store.requested`: namespace, the
    /// RoleBindings (manager, reader, deleter, checker, watcher), Secret, then `helm upgrade
    /// --install` (no `--wait`). Every step is idempotent, so a repeated
    /// event converges; the helm cap is checked by the helm step
    /// ([`Error::Busy`] → answer 429).
    pub async fn provision(
        &self,
        store: &StoreRelease,
        engine: Engine,
        admin_email: &str,
    ) -> Result<Provisioned> {
        namespace::apply_store_namespace(&self.client, &store.id, engine).await?;
        // create-store may write Secrets only through the store's RoleBinding,
        // so the binding comes before the Secret ...
        rbac::apply_store_role_binding(&self.client, &store.id, &self.subjects).await?;
        // The read-only binding (list-stores reads the Secret through it).
        rbac::apply_store_reader_binding(&self.client, &store.id, &self.reader_subjects).await?;
        // delete-store's: read and delete, for `helm uninstall`.
        rbac::apply_store_deleter_binding(&self.client, &store.id, &self.deleter_subjects).await?;
        // What observes the store, in it only: readiness-checker's reads and
        // the ApiServerSource's watch (neither is granted cluster-wide).
        rbac::apply_store_checker_binding(&self.client, &store.id, &self.checker_subjects).await?;
        rbac::apply_store_watcher_binding(&self.client, &store.id, &self.watcher_subjects).await?;
        let secret = self
            .ensure_secret_once_bound(&store.id, admin_email)
            .await?;
        let helm = self.helm.upgrade_install(store).await?;
        Ok(Provisioned { secret, helm })
    }

    /// ... and a binding takes a moment to reach every API server's
    /// authorizer cache: a `403 Forbidden` just after it was applied is
    /// retried with backoff for up to [`RBAC_PROPAGATION`]. A 403 that
    /// outlasts it is a real missing permission and is returned.
    async fn ensure_secret_once_bound(
        &self,
        id: &StoreId,
        admin_email: &str,
    ) -> Result<SecretOutcome> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(2))
            .with_total_delay(Some(RBAC_PROPAGATION))
            .without_max_times()
            .with_jitter();
        (|| secret::ensure_store_secret(&self.client, id, admin_email))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(Error::is_forbidden)
            .notify(|_, after| {
                tracing::debug!(store_id = %id, ?after, "Secret forbidden while the RoleBinding propagates; retrying");
            })
            .await
    }

    /// delete-store's handler of `store.delete-requested`: refuse a namespace
    /// Storefleet does not own *before* touching anything in it, then
    /// `helm uninstall --wait --cascade foreground`, then delete the
    /// namespace (foreground). Call again until the namespace is `Gone`.
    pub async fn teardown(&self, id: &StoreId) -> Result<TornDown> {
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        if let Some(existing) = namespaces.get_opt(&id.namespace()).await?
            && !id.owns(existing.metadata.labels.as_ref())
        {
            return Err(Error::ForeignNamespace {
                namespace: id.namespace(),
                store_id: id.to_string(),
            });
        }
        let (release, _) = self.helm.uninstall(id).await?;
        let namespace = namespace::delete_store_namespace(&self.client, id).await?;
        Ok(TornDown { release, namespace })
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use http::Method;
    use serde_json::json;

    use super::*;
    use crate::helm::HelmConfig;
    use crate::testing::{Exchange, scripted, status};

    const NS: &str = "/api/v1/namespaces/store-abcd1234";
    const BINDINGS: &str =
        "/apis/rbac.authorization.k8s.io/v1/namespaces/store-abcd1234/rolebindings";

    /// A `helm` that knows no release and installs anything.
    fn fake_helm(dir: &tempfile::TempDir) -> Helm {
        let bin = dir.path().join("helm");
        std::fs::write(
            &bin,
            "#!/bin/sh\nif [ \"$1\" = history ]; then echo 'Error: release: not found' >&2; exit 1; fi\nexit 0\n",
        )
        .unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        Helm::new(HelmConfig::new(bin, "/opt/storefleet/helm/store", vec![]))
    }

    fn binding_answer(name: &str) -> serde_json::Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": name},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}})
    }

    /// The kube requests of provision, in order, up to the Secret.
    fn provision_script(reader: bool, deleter: bool, observers: bool) -> Vec<Exchange> {
        let mut script = vec![
            Exchange::new(Method::GET, NS, 404, status(404, "NotFound", "not found")),
            Exchange::new(
                Method::PATCH,
                format!("{NS}?&force=true&fieldManager=storefleet"),
                200,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "store-abcd1234"}}),
            ),
            Exchange::new(
                Method::PATCH,
                format!("{BINDINGS}/storefleet-store-manager?&force=true&fieldManager=storefleet"),
                200,
                binding_answer("storefleet-store-manager"),
            )
            .body(|body| {
                assert_eq!(body["roleRef"]["name"], "storefleet-store-manager");
                assert_eq!(
                    body["subjects"],
                    json!([{"kind": "ServiceAccount", "name": "create-store", "namespace": "storefleet"}])
                );
            }),
        ];
        if reader {
            script.push(
                Exchange::new(
                    Method::PATCH,
                    format!("{BINDINGS}/storefleet-store-reader?&force=true&fieldManager=storefleet"),
                    200,
                    binding_answer("storefleet-store-reader"),
                )
                .body(|body| {
                    assert_eq!(body["roleRef"]["name"], "storefleet-store-reader");
                    assert_eq!(
                        body["subjects"],
                        json!([{"kind": "ServiceAccount", "name": "list-stores", "namespace": "storefleet"}])
                    );
                }),
            );
        }
        if deleter {
            script.push(
                Exchange::new(
                    Method::PATCH,
                    format!("{BINDINGS}/storefleet-store-deleter?&force=true&fieldManager=storefleet"),
                    200,
                    binding_answer("storefleet-store-deleter"),
                )
                .body(|body| {
                    assert_eq!(body["roleRef"]["name"], "storefleet-store-deleter");
                    assert_eq!(
                        body["subjects"],
                        json!([{"kind": "ServiceAccount", "name": "delete-store", "namespace": "storefleet"}])
                    );
                }),
            );
        }
        if observers {
            for (binding, subject) in [
                ("storefleet-store-checker", "readiness-checker"),
                ("storefleet-store-watcher", "storefleet-apiserver-source"),
            ] {
                script.push(
                    Exchange::new(
                        Method::PATCH,
                        format!("{BINDINGS}/{binding}?&force=true&fieldManager=storefleet"),
                        200,
                        binding_answer(binding),
                    )
                    .body(move |body| {
                        assert_eq!(body["roleRef"]["name"], binding);
                        assert_eq!(
                            body["subjects"],
                            json!([{"kind": "ServiceAccount", "name": subject, "namespace": "storefleet"}])
                        );
                    }),
                );
            }
        }
        for name in ["store-credentials", "store-admin"] {
            script.push(Exchange::new(
                Method::POST,
                format!("{NS}/secrets?"),
                201,
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}}),
            ));
        }
        script
    }

    async fn provision_with(reader_subjects: &str, deleter_subjects: &str, observers: bool) {
        let dir = tempfile::tempdir().unwrap();
        let (client, api) = scripted(provision_script(
            !reader_subjects.is_empty(),
            !deleter_subjects.is_empty(),
            observers,
        ));
        let (checker, watcher) = if observers {
            (
                "storefleet/readiness-checker",
                "storefleet/storefleet-apiserver-source",
            )
        } else {
            ("", "")
        };
        let actions = StoreActions {
            client,
            helm: fake_helm(&dir),
            subjects: rbac::parse_subjects("storefleet/create-store").unwrap(),
            reader_subjects: rbac::parse_reader_subjects(reader_subjects).unwrap(),
            deleter_subjects: rbac::parse_deleter_subjects(deleter_subjects).unwrap(),
            checker_subjects: rbac::parse_checker_subjects(checker).unwrap(),
            watcher_subjects: rbac::parse_watcher_subjects(watcher).unwrap(),
        };
        let store = StoreRelease {
            id: StoreId::parse("abcd1234").unwrap(),
            host: "abcd1234.localhost".into(),
        };
        let provisioned = actions
            .provision(&store, Engine::WooCommerce, "owner@example.com")
            .await
            .unwrap();
        assert_eq!(provisioned.secret, SecretOutcome::Created);
        drop(actions);
        api.await.unwrap();
    }

    #[tokio::test]
    async fn provision_binds_manager_then_reader_then_deleter_before_the_secret() {
        provision_with("storefleet/list-stores", "storefleet/delete-store", false).await;
    }

    #[tokio::test]
    async fn provision_binds_the_observers_in_the_store_namespace_before_the_secret() {
        provision_with("storefleet/list-stores", "storefleet/delete-store", true).await;
    }

    #[tokio::test]
    async fn provision_without_reader_or_deleter_subjects_applies_neither_binding() {
        provision_with("", "", false).await;
    }
}
