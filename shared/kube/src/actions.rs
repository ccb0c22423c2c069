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
    /// `STOREFLEET_STORE_MANAGER_SUBJECTS`, parsed with [`rbac::parse_subjects`].
    pub subjects: Vec<ServiceAccountRef>,
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
    /// create-store's handler of `store.requested`: namespace, Secret,
    /// RoleBinding, then `helm upgrade --install` (no `--wait`). Every step
    /// is idempotent, so a repeated event converges; the helm cap is checked
    /// by the helm step ([`Error::Busy`] → answer 429).
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
