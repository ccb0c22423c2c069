//! The two sequences the functions run, in the one order that is safe, so
//! create-store and delete-store cannot get it wrong.

use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, Client};

use crate::helm::{Helm, HelmRun, StoreRelease, Uninstalled};
use crate::namespace::{self, NamespaceDeletion};
use crate::rbac::{self, ServiceAccountRef};
use crate::secret::{self, SecretOutcome};
use crate::{Engine, Error, Result, StoreId};

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
        let secret = secret::ensure_store_secret(&self.client, &store.id, admin_email).await?;
        rbac::apply_store_role_binding(&self.client, &store.id, &self.subjects).await?;
        let helm = self.helm.upgrade_install(store).await?;
        Ok(Provisioned { secret, helm })
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
