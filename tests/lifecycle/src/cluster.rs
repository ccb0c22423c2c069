//! The test cluster as the platform sees it: the platform chart's
//! ServiceAccounts, ClusterRoles, bindings and admission policies installed
//! from `helm/platform` (rendered, never copied), the ApiServerSource's
//! ServiceAccount from `knative/`, and one kubeconfig per function holding a
//! real TokenRequest token of that function's ServiceAccount.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use anyhow::{Context as _, bail};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::PostParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};

use crate::repo_root;

/// Set by `make test-lifecycle`: the admin kubeconfig of the lifecycle cluster.
pub const GATE: &str = "STOREFLEET_LIFECYCLE_KUBECONFIG";
/// The platform namespace (docs/development.md).
pub const PLATFORM_NAMESPACE: &str = "storefleet";
/// The functions, each with a ServiceAccount of the same name.
pub const FUNCTIONS: [&str; 4] = [
    "create-store",
    "delete-store",
    "list-stores",
    "readiness-checker",
];
/// The ApiServerSource's ServiceAccount (knative/apiserversource.yaml).
pub const APISERVER_SOURCE_SA: &str = "storefleet-apiserver-source";

/// The cluster, as one test sees it. Build one per test: a kube [`Client`]
/// belongs to the tokio runtime it was made on, and each `#[tokio::test]`
/// has its own.
pub struct Cluster {
    pub admin: Client,
    pub admin_kubeconfig: PathBuf,
    pub helm: PathBuf,
    pub kubectl: PathBuf,
    /// The platform chart's `storefleet-config` ConfigMap data: the
    /// `STOREFLEET_*` settings a cluster gives the functions (envFrom).
    pub platform_config: BTreeMap<String, String>,
}

/// What is installed once per test process.
struct Installed {
    helm: PathBuf,
    kubectl: PathBuf,
    platform_config: BTreeMap<String, String>,
}

static INSTALLED: OnceLock<Result<Installed, String>> = OnceLock::new();

impl Cluster {
    /// The cluster of `make test-lifecycle`, with the platform's RBAC
    /// installed; `None` (after saying so on stderr) when the gate is unset.
    pub async fn connect(test: &str) -> anyhow::Result<Option<Cluster>> {
        let Some(admin_kubeconfig) = std::env::var_os(GATE).map(PathBuf::from) else {
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped: {GATE} is not set (run `make test-lifecycle`)"
            );
            return Ok(None);
        };
        let kubeconfig = admin_kubeconfig.clone();
        let installed = tokio::task::spawn_blocking(move || {
            INSTALLED
                .get_or_init(|| install(&kubeconfig).map_err(|err| format!("{err:#}")))
                .as_ref()
                .map(|i| (i.helm.clone(), i.kubectl.clone(), i.platform_config.clone()))
                .map_err(Clone::clone)
        })
        .await?
        .map_err(|err| anyhow::anyhow!("installing the platform's RBAC failed: {err}"))?;
        let admin = client_from(&admin_kubeconfig).await?;
        Ok(Some(Cluster {
            admin,
            admin_kubeconfig,
            helm: installed.0,
            kubectl: installed.1,
            platform_config: installed.2,
        }))
    }

    /// Mint a real token for `storefleet/<service_account>` (TokenRequest
    /// API, one hour) and write a kubeconfig that uses it into `dir`.
    pub async fn service_account_kubeconfig(
        &self,
        service_account: &str,
        dir: &Path,
    ) -> anyhow::Result<PathBuf> {
        let accounts: Api<ServiceAccount> = Api::namespaced(self.admin.clone(), PLATFORM_NAMESPACE);
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                // none: the API server's own audience
                audiences: None,
                expiration_seconds: Some(3600),
                ..Default::default()
            }),
            ..Default::default()
        };
        let token = accounts
            .create_token_request(service_account, &PostParams::default(), &request)
            .await
            .with_context(|| format!("TokenRequest for {PLATFORM_NAMESPACE}/{service_account}"))?
            .status
            .and_then(|status| status.token)
            .context("TokenRequest answered without a token")?;

        let admin = Kubeconfig::read_from(&self.admin_kubeconfig)?;
        let cluster = admin
            .clusters
            .first()
            .and_then(|c| c.cluster.clone())
            .context("the admin kubeconfig has no cluster")?;
        let server = cluster
            .server
            .context("the admin kubeconfig has no server")?;
        let ca = cluster
            .certificate_authority_data
            .context("the admin kubeconfig has no certificate-authority-data")?;
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: {service_account}\n  user:\n    token: {token}\ncontexts:\n- name: {service_account}\n  context:\n    cluster: test\n    user: {service_account}\ncurrent-context: {service_account}\n"
        );
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{service_account}.kubeconfig"));
        write_private(&path, yaml.as_bytes())?;
        Ok(path)
    }

    /// A client acting as `storefleet/<service_account>`.
    pub async fn service_account_client(
        &self,
        service_account: &str,
        dir: &Path,
    ) -> anyhow::Result<(Client, PathBuf)> {
        let path = self
            .service_account_kubeconfig(service_account, dir)
            .await?;
        Ok((client_from(&path).await?, path))
    }

    /// The kwok Stage that holds annotated pods running but never Ready
    /// (fixtures/stage-held-not-ready.yaml); applying it again is a no-op.
    pub fn ensure_hold_stage(&self) -> anyhow::Result<()> {
        let stage = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/stage-held-not-ready.yaml"),
        )?;
        self.kubectl(
            &[
                "apply",
                "--server-side",
                "--field-manager=storefleet-lifecycle-tests",
                "-f",
                "-",
            ],
            Some(&stage),
        )?;
        Ok(())
    }

    /// kubectl with the admin kubeconfig; fails with its stderr.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        run(
            Command::new(&self.kubectl)
                .arg("--kubeconfig")
                .arg(&self.admin_kubeconfig)
                .args(args),
            stdin,
        )
    }
}

/// A kube client from a kubeconfig file.
pub async fn client_from(path: &Path) -> anyhow::Result<Client> {
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::read_from(path).with_context(|| format!("read {}", path.display()))?,
        &KubeConfigOptions::default(),
    )
    .await?;
    Ok(Client::try_from(config)?)
}

/// Install, idempotently (server-side apply), what a cluster has before any
/// function runs: the platform namespace, the platform chart's
/// ServiceAccounts, RBAC and admission policies, and the ApiServerSource's
/// ServiceAccount and role from knative/.
fn install(admin_kubeconfig: &Path) -> anyhow::Result<Installed> {
    let helm = tool("helm")?;
    let kubectl = tool("kubectl")?;
    let root = repo_root();
    let chart = root.join("helm/platform");
    let render = |templates: &[&str]| -> anyhow::Result<String> {
        let mut cmd = Command::new(&helm);
        cmd.args(["template", "storefleet"]).arg(&chart).args([
            "--namespace",
            PLATFORM_NAMESPACE,
            "--kube-version",
            "v1.36.3",
        ]);
        for template in templates {
            cmd.args(["--show-only", template]);
        }
        run(&mut cmd, None)
    };
    let rbac = render(&[
        "templates/serviceaccounts.yaml",
        "templates/rbac-functions.yaml",
        "templates/rbac-store-manager.yaml",
        "templates/admission-policy.yaml",
    ])?;
    let config_map: serde_json::Value =
        serde_yaml_ng::from_str(&render(&["templates/configmap.yaml"])?)?;
    let platform_config = config_map["data"]
        .as_object()
        .context("storefleet-config has no data")?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();

    let apply = |stdin: Option<&str>, args: &[&str]| -> anyhow::Result<String> {
        run(
            Command::new(&kubectl)
                .arg("--kubeconfig")
                .arg(admin_kubeconfig)
                .args(args),
            stdin,
        )
    };
    let namespace =
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {PLATFORM_NAMESPACE}\n");
    let server_side = [
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=storefleet-lifecycle-tests",
        "-f",
        "-",
    ];
    apply(Some(&namespace), &server_side)?;
    let mut namespaced = server_side.to_vec();
    namespaced.extend(["--namespace", PLATFORM_NAMESPACE]);
    apply(Some(&rbac), &namespaced)?;
    let source = std::fs::read_to_string(root.join("knative/apiserversource.yaml"))?;
    apply(Some(&source), &namespaced)?;
    give_nodes_ephemeral_storage(&apply)?;
    Ok(Installed {
        helm,
        kubectl,
        platform_config,
    })
}

/// kubectl with the admin kubeconfig: (stdin, args) → stdout.
type Kubectl<'a> = dyn Fn(Option<&str>, &[&str]) -> anyhow::Result<String> + 'a;

/// kwok's fake nodes report cpu, memory and pods but no ephemeral-storage,
/// which every real kubelet reports and every container of helm/store
/// requests; without it the scheduler finds no node. Patch the nodes'
/// status (kwok's heartbeat keeps it).
fn give_nodes_ephemeral_storage(kubectl: &Kubectl) -> anyhow::Result<()> {
    let nodes: serde_json::Value =
        serde_json::from_str(&kubectl(None, &["get", "nodes", "-o", "json"])?)?;
    let patch = r#"{"status":{"capacity":{"ephemeral-storage":"1Ti"},"allocatable":{"ephemeral-storage":"1Ti"}}}"#;
    for node in nodes["items"].as_array().into_iter().flatten() {
        if node["status"]["allocatable"]["ephemeral-storage"].is_null() {
            let name = node["metadata"]["name"].as_str().unwrap_or_default();
            kubectl(
                None,
                &[
                    "patch",
                    "node",
                    name,
                    "--subresource=status",
                    "--type=merge",
                    "-p",
                    patch,
                ],
            )?;
        }
    }
    Ok(())
}

/// `scripts/tool NAME`: the pinned tool's path (built on first use).
pub fn tool(name: &str) -> anyhow::Result<PathBuf> {
    let out = run(
        Command::new(repo_root().join("scripts/tool")).arg(name),
        None,
    )?;
    Ok(PathBuf::from(out.trim()))
}

/// Run a command to completion; its stdout, or an error with its stderr.
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> anyhow::Result<String> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("start {:?}", cmd.get_program()))?;
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "{:?} {:?} failed ({}): {}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}
