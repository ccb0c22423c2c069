//! The Kubernetes side of the handlers, built once per process and lazily:
//! a function starts (and answers `/healthz`) without a cluster, and an event
//! that needs one while none is reachable is answered `503` (retried, then
//! dead-lettered with the reason).

use std::sync::Arc;
use std::time::Duration;

use storefleet_kube::actions::StoreActions;
use storefleet_kube::helm::{Helm, HelmConfig};
use storefleet_kube::rbac::ServiceAccountRef;
use storefleet_kube::storefront::StorefrontCheck;
use tokio::sync::OnceCell;

use crate::chain::Refusal;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::{Error, Result};

/// How long one storefront request may take.
const STOREFRONT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    helm: Helm,
    subjects: Vec<ServiceAccountRef>,
    reader_subjects: Vec<ServiceAccountRef>,
    deleter_subjects: Vec<ServiceAccountRef>,
    checker_subjects: Vec<ServiceAccountRef>,
    watcher_subjects: Vec<ServiceAccountRef>,
    storefront: Option<StorefrontCheck>,
    client: OnceCell<kube::Client>,
}

impl Cluster {
    /// Everything that can be checked without a cluster is checked here, so a
    /// bad setting stops the process at start with the variable's name.
    pub fn new(config: &Config, metrics: &Metrics) -> Result<Self> {
        let chain = &config.chain;
        let mut helm_config = HelmConfig::new(
            &chain.helm_bin,
            &chain.store_chart,
            HelmConfig::parse_values_list(&chain.store_values),
        );
        helm_config.max_in_flight = chain.max_helm_in_flight;
        let helm = Helm::new(helm_config).with_duration_histogram(metrics.helm_durations.clone());
        let storefront = chain
            .storefront_check_url
            .as_deref()
            .map(|url| StorefrontCheck::new(url, STOREFRONT_TIMEOUT))
            .transpose()
            .map_err(|err| Error::Config(err.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                helm,
                subjects: chain.store_manager_subjects.clone(),
                reader_subjects: chain.store_reader_subjects.clone(),
                deleter_subjects: chain.store_deleter_subjects.clone(),
                checker_subjects: chain.store_checker_subjects.clone(),
                watcher_subjects: chain.store_watcher_subjects.clone(),
                storefront,
                client: OnceCell::new(),
            }),
        })
    }

    /// The kube client (`KUBECONFIG` or in-cluster), built on first use.
    pub async fn client(&self) -> Result<kube::Client, Refusal> {
        self.inner
            .client
            .get_or_try_init(storefleet_kube::client::client)
            .await
            .cloned()
            .map_err(|err| {
                Refusal::Unavailable(format!("the Kubernetes cluster is not reachable: {err}"))
            })
    }

    /// Use `client` instead of the one built from `KUBECONFIG` on first use
    /// (a test's own cluster, without changing the process environment).
    /// Refused once a client is in use.
    pub fn use_client(&self, client: kube::Client) -> Result<()> {
        self.inner.client.set(client).map_err(|_| {
            Error::Internal(
                "the cluster's client is already in use; set it before the first event".into(),
            )
        })
    }

    pub async fn actions(&self) -> Result<StoreActions, Refusal> {
        Ok(StoreActions {
            client: self.client().await?,
            helm: self.inner.helm.clone(),
            subjects: self.inner.subjects.clone(),
            reader_subjects: self.inner.reader_subjects.clone(),
            deleter_subjects: self.inner.deleter_subjects.clone(),
            checker_subjects: self.inner.checker_subjects.clone(),
            watcher_subjects: self.inner.watcher_subjects.clone(),
        })
    }

    /// `None` when `STOREFLEET_STOREFRONT_CHECK_URL` is unset.
    pub fn storefront(&self) -> Option<&StorefrontCheck> {
        self.inner.storefront.as_ref()
    }
}
