//! The store chart a lifecycle test installs: `helm/store` or the fixture,
//! and the values that make each of them fail in a known way.

use std::path::PathBuf;

/// The store chart the tests install.
#[derive(Debug, Clone)]
pub struct StoreChart {
    pub path: PathBuf,
    pub values: Vec<PathBuf>,
    /// Whether it is `helm/store` (true) or the lifecycle fixture chart.
    pub is_store_chart: bool,
}

impl StoreChart {
    /// `STOREFLEET_LIFECYCLE_STORE_CHART=store|fixture` (default: `store`
    /// when helm/store exists, else the fixture).
    pub fn selected() -> StoreChart {
        let root = crate::repo_root();
        let store = root.join("helm/store");
        let want = std::env::var("STOREFLEET_LIFECYCLE_STORE_CHART").unwrap_or_default();
        let use_store = match want.as_str() {
            "store" => true,
            "fixture" => false,
            _ => store.join("Chart.yaml").exists(),
        };
        if use_store {
            let local = store.join("values-local.yaml");
            StoreChart {
                values: if local.exists() { vec![local] } else { vec![] },
                path: store,
                is_store_chart: true,
            }
        } else {
            // the one fixture chart, in the store's full shape
            let fixture = root.join("shared/kube/fixtures/chart");
            StoreChart {
                values: vec![fixture.join("values-full.yaml")],
                path: fixture,
                is_store_chart: false,
            }
        }
    }
}

impl StoreChart {
    /// Values that keep the store's web pods in ImagePullBackOff (the test
    /// cluster's failure stage, docs/test-cluster.md).
    pub fn never_ready_values(&self) -> String {
        if self.is_store_chart {
            "wordpress:\n  image:\n    tag: 0.0.0-image-pull-backoff\n".into()
        } else {
            "failWith: ImagePullBackOff\n".into()
        }
    }

    /// Values that keep the web pods running but never Ready, with no
    /// failure reason (fixtures/stage-held-not-ready.yaml).
    pub fn held_values(&self) -> String {
        if self.is_store_chart {
            "wordpress:\n  image:\n    tag: 0.0.0-held-not-ready\n".into()
        } else {
            "failWith: HeldNotReady\n".into()
        }
    }

    /// Values that render but that the API server rejects (an invalid
    /// volume size), so `helm upgrade --install` fails.
    pub fn rejected_values(&self) -> String {
        if self.is_store_chart {
            "mysql:\n  persistence:\n    size: lots\n".into()
        } else {
            "storage: lots\n".into()
        }
    }
}
