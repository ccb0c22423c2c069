//! The test cluster a suite runs against (docs/test-cluster.md), gated on an
//! environment variable naming its admin kubeconfig: without it every test
//! of the suite says it skipped and passes, so `cargo test --workspace` runs
//! on a machine without a cluster.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

pub struct TestCluster {
    pub client: Client,
    pub kubeconfig: PathBuf,
    /// The real helm: `STOREFLEET_TEST_HELM_BIN`, else `scripts/tool helm`.
    pub helm: PathBuf,
}

/// The cluster whose kubeconfig `gate` names, or `None` after saying on
/// stderr (past libtest's capture) that `test` skipped and that `make_target`
/// runs it.
pub async fn gated(gate: &str, test: &str, make_target: &str) -> Option<TestCluster> {
    let Some(kubeconfig) = std::env::var_os(gate).map(PathBuf::from) else {
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: {gate} is not set (run `make {make_target}` for the tests on the test cluster)"
        );
        return None;
    };
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::read_from(&kubeconfig).expect("read the test kubeconfig"),
        &KubeConfigOptions::default(),
    )
    .await
    .expect("load the test kubeconfig");
    let client = Client::try_from(config).expect("build a kube client");
    Some(TestCluster {
        client,
        kubeconfig,
        helm: helm(),
    })
}

/// The pinned helm binary.
pub fn helm() -> PathBuf {
    std::env::var_os("STOREFLEET_TEST_HELM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let out = Command::new(crate::repo_root().join("scripts/tool"))
                .arg("helm")
                .stderr(Stdio::inherit())
                .output()
                .expect("run scripts/tool helm");
            assert!(out.status.success(), "scripts/tool helm failed");
            PathBuf::from(String::from_utf8(out.stdout).expect("a UTF-8 path").trim())
        })
}
