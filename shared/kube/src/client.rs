//! Building the Kubernetes client: the only place that reads the environment.

use crate::{Error, Result};

/// A client from `KUBECONFIG` / `~/.kube/config`, or the in-cluster
/// ServiceAccount when running in a pod (kube-rs' standard inference).
///
/// Call it once at start and pass the client around; nothing here is global.
pub async fn client() -> Result<kube::Client> {
    kube::Client::try_default()
        .await
        .map_err(|err| Error::ClientConfig(err.to_string()))
}
