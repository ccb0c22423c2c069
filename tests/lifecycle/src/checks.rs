//! What the tests check in the cluster after the chain has run, as the
//! admin sees it.

use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use k8s_openapi::api::core::v1::{
    LimitRange, Namespace, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota, Secret,
};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::ListParams;
use kube::{Api, Client};
use serde_json::Value;

use crate::cluster::{Cluster, run};
use crate::wait::until;

/// The labels docs/development.md gives every store namespace.
pub async fn store_namespace_is_labelled(admin: &Client, id: &str) -> anyhow::Result<()> {
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    let ns = namespaces.get(&format!("store-{id}")).await?;
    let labels = ns.metadata.labels.unwrap_or_default();
    for (key, want) in [
        ("app.kubernetes.io/managed-by", "storefleet"),
        ("storefleet.io/store-id", id),
        ("storefleet.io/engine", "woocommerce"),
        ("pod-security.kubernetes.io/enforce", "restricted"),
        ("pod-security.kubernetes.io/warn", "restricted"),
        ("pod-security.kubernetes.io/audit", "restricted"),
    ] {
        ensure!(
            labels.get(key).map(String::as_str) == Some(want),
            "namespace store-{id}: label {key} is {:?}, expected {want:?}",
            labels.get(key)
        );
    }
    Ok(())
}

/// The Secrets store-credentials and store-admin with every key of
/// docs/kubernetes-actions.md, each only in its own Secret, and the
/// RoleBindings storefleet-store-manager and storefleet-store-reader.
pub async fn credentials_and_binding(admin: &Client, id: &str) -> anyhow::Result<()> {
    let ns = format!("store-{id}");
    let secrets = Api::<Secret>::namespaced(admin.clone(), &ns);
    for (name, keys, never) in [
        (
            "store-credentials",
            &[
                "mysql-root-password",
                "mysql-password",
                "wordpress-auth-key",
                "wordpress-nonce-salt",
            ][..],
            "wordpress-admin-password",
        ),
        (
            "store-admin",
            &[
                "wordpress-admin-user",
                "wordpress-admin-password",
                "wordpress-admin-email",
            ][..],
            "mysql-root-password",
        ),
    ] {
        let data = secrets.get(name).await?.data.unwrap_or_default();
        for key in keys {
            ensure!(data.contains_key(*key), "{name} lacks {key}");
        }
        ensure!(!data.contains_key(never), "{name} holds {never}");
    }
    let binding = Api::<RoleBinding>::namespaced(admin.clone(), &ns)
        .get("storefleet-store-manager")
        .await?;
    ensure!(binding.role_ref.name == "storefleet-store-manager");
    let reader = Api::<RoleBinding>::namespaced(admin.clone(), &ns)
        .get("storefleet-store-reader")
        .await?;
    ensure!(reader.role_ref.name == "storefleet-store-reader");
    Ok(())
}

/// `helm status` of the store's release, as JSON (`None`: no release).
pub fn helm_release(cluster: &Cluster, id: &str) -> anyhow::Result<Option<Value>> {
    let ns = format!("store-{id}");
    match run(
        std::process::Command::new(&cluster.helm)
            // Where the functions keep release records (shared/kube/src/helm/process.rs).
            .env("HELM_DRIVER", storefleet_kube::helm::HELM_DRIVER)
            .arg("--kubeconfig")
            .arg(&cluster.admin_kubeconfig)
            .args(["status", &ns, "--namespace", &ns, "-o", "json"]),
        None,
    ) {
        Ok(out) => Ok(Some(serde_json::from_str(&out)?)),
        Err(err) if format!("{err:#}").contains("not found") => Ok(None),
        Err(err) => Err(err),
    }
}

/// Every pod of the store is Running and Ready, each container has limits
/// (given by the chart or defaulted by the LimitRange), and the
/// ResourceQuota counts them: admission let them in under the budget.
pub async fn pods_admitted_and_ready(admin: &Client, id: &str) -> anyhow::Result<usize> {
    let ns = format!("store-{id}");
    let pods = Api::<Pod>::namespaced(admin.clone(), &ns)
        .list(&ListParams::default())
        .await?
        .items;
    ensure!(!pods.is_empty(), "no pods in {ns}");
    for pod in &pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let status = pod.status.clone().unwrap_or_default();
        if status.phase.as_deref() == Some("Succeeded") {
            continue;
        }
        let ready = status
            .conditions
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        ensure!(ready, "pod {ns}/{name} is not Ready");
        for container in &pod.spec.as_ref().context("pod spec")?.containers {
            let limits = container
                .resources
                .as_ref()
                .and_then(|r| r.limits.clone())
                .unwrap_or_default();
            ensure!(
                limits.contains_key("cpu") && limits.contains_key("memory"),
                "container {} of {ns}/{name} has no cpu/memory limits",
                container.name
            );
        }
    }
    let quotas = Api::<ResourceQuota>::namespaced(admin.clone(), &ns)
        .list(&ListParams::default())
        .await?
        .items;
    ensure!(!quotas.is_empty(), "{ns} has no ResourceQuota");
    let limit_ranges = Api::<LimitRange>::namespaced(admin.clone(), &ns)
        .list(&ListParams::default())
        .await?
        .items;
    ensure!(!limit_ranges.is_empty(), "{ns} has no LimitRange");
    // The quota controller recounts asynchronously; wait for it to see the pods.
    let quotas_api = Api::<ResourceQuota>::namespaced(admin.clone(), &ns);
    until(
        "the ResourceQuota to count the pods",
        Duration::from_secs(30),
        Duration::from_millis(250),
        async || {
            let quotas = quotas_api.list(&ListParams::default()).await.ok()?.items;
            quotas
                .iter()
                .any(|q| {
                    q.status
                        .as_ref()
                        .and_then(|s| s.used.as_ref())
                        .and_then(|u| u.get("pods"))
                        .is_some_and(|n| n.0 != "0")
                })
                .then_some(())
        },
    )
    .await?;
    Ok(pods.len())
}

/// The PVCs of the store's namespace (to compare with what is left later).
pub async fn bound_volumes(admin: &Client, id: &str) -> anyhow::Result<Vec<String>> {
    let ns = format!("store-{id}");
    let pvcs = Api::<PersistentVolumeClaim>::namespaced(admin.clone(), &ns)
        .list(&ListParams::default())
        .await?
        .items;
    Ok(pvcs
        .into_iter()
        .filter_map(|pvc| pvc.spec.and_then(|s| s.volume_name))
        .collect())
}

/// What a deleted store left: its namespace, its PVCs, PVs bound to it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Leftovers {
    pub namespaces: usize,
    pub pvcs: usize,
    pub pvs: usize,
}

pub async fn leftovers(admin: &Client, ids: &[String]) -> anyhow::Result<Leftovers> {
    let namespaces = Api::<Namespace>::all(admin.clone())
        .list(&ListParams::default().labels("app.kubernetes.io/managed-by=storefleet"))
        .await?
        .items;
    let pvcs = Api::<PersistentVolumeClaim>::all(admin.clone())
        .list(&ListParams::default())
        .await?
        .items;
    let pvs = Api::<PersistentVolume>::all(admin.clone())
        .list(&ListParams::default())
        .await?
        .items;
    let ours =
        |ns: Option<&str>| ns.is_some_and(|ns| ids.iter().any(|id| ns == format!("store-{id}")));
    Ok(Leftovers {
        namespaces: namespaces
            .iter()
            .filter(|n| ours(n.metadata.name.as_deref()))
            .count(),
        pvcs: pvcs
            .iter()
            .filter(|p| ours(p.metadata.namespace.as_deref()))
            .count(),
        pvs: pvs
            .iter()
            .filter(|pv| {
                ours(
                    pv.spec
                        .as_ref()
                        .and_then(|s| s.claim_ref.as_ref())
                        .and_then(|c| c.namespace.as_deref()),
                )
            })
            .count(),
    })
}

/// Wait until nothing of `ids` is left (namespaces finalize, PVs are
/// released and deleted asynchronously); fail with what is left.
pub async fn nothing_left(admin: &Client, ids: &[String], limit: Duration) -> anyhow::Result<()> {
    let mut last = Leftovers::default();
    let result = until(
        "nothing of the stores to be left",
        limit,
        Duration::from_millis(500),
        async || {
            last = leftovers(admin, ids).await.ok()?;
            (last == Leftovers::default()).then_some(())
        },
    )
    .await;
    if result.is_err() {
        bail!("left behind after {limit:?}: {last:?}");
    }
    Ok(())
}

/// The kinds of the activity log, oldest first.
pub fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// `want` appears in `have` in this order (other kinds may sit between).
pub fn in_order(have: &[String], want: &[&str]) -> bool {
    let mut rest = have.iter();
    want.iter().all(|w| rest.any(|h| h == w))
}
