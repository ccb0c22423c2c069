//! Where `GET /api/stores/{id}/credentials` reads a store's admin login.
//!
//! Behind a trait so the route tests run without a cluster (they plug in a
//! fixed source); the Kubernetes path itself (`storefleet_kube::secret::
//! read_credentials`) is tested against a real kube-apiserver in storefleet-kube.

use async_trait::async_trait;
use storefleet_kube::StoreId;
use storefleet_kube::secret::AdminCredentials;
use storefleet_shared::{Error, Result};
use tokio::sync::OnceCell;

#[async_trait]
pub trait CredentialsSource: Send + Sync {
    async fn admin_credentials(&self, id: &StoreId) -> Result<AdminCredentials>;
}

/// The store's Secret `store-admin` (the admin login only), read through kube-rs.
#[derive(Default)]
pub struct KubeCredentials {
    client: OnceCell<kube::Client>,
}

#[async_trait]
impl CredentialsSource for KubeCredentials {
    async fn admin_credentials(&self, id: &StoreId) -> Result<AdminCredentials> {
        let client = self
            .client
            .get_or_try_init(storefleet_kube::client::client)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "no Kubernetes client");
                Error::Unavailable(
                    "the credentials cannot be read right now: the cluster is not reachable".into(),
                )
            })?;
        storefleet_kube::secret::read_credentials(client, id).await.map_err(|err| {
            tracing::warn!(store_id = %id, error = %err, "credentials not readable");
            Error::Unavailable(
                "the store's credentials are not available yet (the store may still be provisioning); try again later".into(),
            )
        })
    }
}
