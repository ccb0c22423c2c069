//! The functions' permissions, judged by the real kube-apiserver with real
//! ServiceAccount tokens of the platform chart's RBAC (helm/platform
//! templates/serviceaccounts.yaml, rbac-*.yaml, admission-policy.yaml):
//!
//! - each function can do what its code does (storefleet-kube's
//!   `StoreActions::provision` as create-store, `readiness::observe` as
//!   readiness-checker, `StoreActions::teardown` as delete-store, the store's
//!   Secret as list-stores, through the reader binding) — a missing
//!   permission fails here;
//! - none can read Secrets outside store namespaces, exec/attach/port-forward
//!   into pods, or delete a namespace Storefleet does not own, and none holds
//!   any of a list of dangerous rights, and list-stores writes nothing in a
//!   store namespace — an excess permission fails here.
//!
//! Exactness of every verb (nothing spare) is proven by helm/platform's own
//! tests (tests/test_rbac_usage.py); these tests run the Rust code itself.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Namespace, PersistentVolume, PersistentVolumeClaim, Pod, Secret};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use storefleet_kube::actions::StoreActions;
use storefleet_kube::helm::{Helm, HelmConfig, StoreRelease};
use storefleet_kube::names::{STORE_ADMIN_SECRET_NAME, STORE_SECRET_NAME, StoreId};
use storefleet_kube::namespace::{self, NamespaceDeletion};
use storefleet_kube::readiness::{self, ReadinessPolicy, Verdict};
use storefleet_kube::{Engine, Error as KubeError, rbac, secret};
use storefleet_lifecycle::cluster::{Cluster, FUNCTIONS, PLATFORM_NAMESPACE};
use storefleet_lifecycle::platform::StoreChart;
use storefleet_lifecycle::wait::until;
use storefleet_lifecycle::{random_suffix, repo_root};

/// Each function's client, acting as its own ServiceAccount.
struct Functions {
    clients: Vec<(&'static str, Client, PathBuf)>,
}

impl Functions {
    async fn of(cluster: &Cluster, test: &str) -> Functions {
        let dir = repo_root()
            .join("target/lifecycle")
            .join(format!("{test}-{}", random_suffix()));
        let mut clients = Vec::new();
        for function in FUNCTIONS {
            let (client, path) = cluster
                .service_account_client(function, &dir)
                .await
                .expect("a token for the function");
            clients.push((function, client, path));
        }
        Functions { clients }
    }

    fn get(&self, name: &str) -> (Client, PathBuf) {
        let (_, client, path) = self
            .clients
            .iter()
            .find(|(n, _, _)| *n == name)
            .expect("a function");
        (client.clone(), path.clone())
    }
}

/// The HTTP status of a refused call (`None` if it succeeded).
fn refusal<T>(result: kube::Result<T>) -> Option<u16> {
    match result {
        Ok(_) => None,
        Err(kube::Error::Api(status)) => Some(status.code),
        Err(other) => panic!("expected an API answer, got {other}"),
    }
}

async fn namespace(admin: &Client, name: &str, labels: serde_json::Value) {
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    let ns: Namespace = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels}
    }))
    .unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
}

async fn remove_namespace(admin: &Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    let _ = namespaces.delete(name, &DeleteParams::default()).await;
}

async fn secret(admin: &Client, namespace: &str, name: &str) {
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), namespace);
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": name},
        "stringData": {"password": "not-for-the-functions"}
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
}

fn helm_as(cluster: &Cluster, kubeconfig: PathBuf, chart: &StoreChart) -> Helm {
    let mut config = HelmConfig::new(&cluster.helm, &chart.path, chart.values.clone());
    config.kubeconfig = Some(kubeconfig);
    Helm::new(config)
}

fn actions_as(
    cluster: &Cluster,
    client: Client,
    kubeconfig: PathBuf,
    chart: &StoreChart,
) -> StoreActions {
    StoreActions {
        client,
        helm: helm_as(cluster, kubeconfig, chart),
        subjects: rbac::parse_subjects(
            cluster
                .platform_config
                .get("STOREFLEET_STORE_MANAGER_SUBJECTS")
                .expect("the platform chart sets STOREFLEET_STORE_MANAGER_SUBJECTS"),
        )
        .unwrap(),
        reader_subjects: rbac::parse_reader_subjects(
            cluster
                .platform_config
                .get("STOREFLEET_STORE_READER_SUBJECTS")
                .expect("the platform chart sets STOREFLEET_STORE_READER_SUBJECTS"),
        )
        .unwrap(),
        deleter_subjects: rbac::parse_deleter_subjects(
            cluster
                .platform_config
                .get("STOREFLEET_STORE_DELETER_SUBJECTS")
                .expect("the platform chart sets STOREFLEET_STORE_DELETER_SUBJECTS"),
        )
        .unwrap(),
        checker_subjects: rbac::parse_checker_subjects(
            cluster
                .platform_config
                .get("STOREFLEET_STORE_CHECKER_SUBJECTS")
                .expect("the platform chart sets STOREFLEET_STORE_CHECKER_SUBJECTS"),
        )
        .unwrap(),
        watcher_subjects: rbac::parse_watcher_subjects(
            cluster
                .platform_config
                .get("STOREFLEET_STORE_WATCHER_SUBJECTS")
                .expect("the platform chart sets STOREFLEET_STORE_WATCHER_SUBJECTS"),
        )
        .unwrap(),
    }
}

#[tokio::test]
async fn no_function_reads_secrets_outside_store_namespaces() {
    let Some(cluster) = Cluster::connect("no_function_reads_secrets_outside_store_namespaces")
        .await
        .unwrap()
    else {
        return;
    };
    let functions = Functions::of(&cluster, "rbac-secrets").await;
    // A namespace that is not a store's, one that only looks like a store's
    // (name store-<id>, no ownership labels), and the platform's own.
    let foreign = format!("lifecycle-foreign-{}", random_suffix());
    let lookalike = StoreId::random().namespace();
    namespace(&cluster.admin, &foreign, json!({})).await;
    namespace(&cluster.admin, &lookalike, json!({})).await;
    secret(&cluster.admin, &foreign, "other-app").await;
    secret(&cluster.admin, &lookalike, STORE_SECRET_NAME).await;
    secret(
        &cluster.admin,
        PLATFORM_NAMESPACE,
        &format!("platform-{}", random_suffix()),
    )
    .await;

    // Control: the admin reads it, so a refusal below is RBAC's doing.
    let admin_secrets: Api<Secret> = Api::namespaced(cluster.admin.clone(), &foreign);
    admin_secrets
        .get("other-app")
        .await
        .expect("the admin reads it");

    let mut leaks = Vec::new();
    for (function, client, _) in &functions.clients {
        let calls: Vec<(String, Option<u16>)> = vec![
            (
                format!("get {foreign}/other-app"),
                refusal(
                    Api::<Secret>::namespaced(client.clone(), &foreign)
                        .get("other-app")
                        .await,
                ),
            ),
            (
                format!("get {lookalike}/{STORE_SECRET_NAME}"),
                refusal(
                    Api::<Secret>::namespaced(client.clone(), &lookalike)
                        .get(STORE_SECRET_NAME)
                        .await,
                ),
            ),
            (
                format!("list secrets in {PLATFORM_NAMESPACE}"),
                refusal(
                    Api::<Secret>::namespaced(client.clone(), PLATFORM_NAMESPACE)
                        .list(&ListParams::default())
                        .await,
                ),
            ),
            (
                "list secrets in kube-system".into(),
                refusal(
                    Api::<Secret>::namespaced(client.clone(), "kube-system")
                        .list(&ListParams::default())
                        .await,
                ),
            ),
            (
                "list secrets cluster-wide".into(),
                refusal(
                    Api::<Secret>::all(client.clone())
                        .list(&ListParams::default())
                        .await,
                ),
            ),
        ];
        for (call, status) in calls {
            if status != Some(403) {
                leaks.push(format!(
                    "{function}: {call} answered {status:?}, expected 403"
                ));
            }
        }
    }
    remove_namespace(&cluster.admin, &foreign).await;
    remove_namespace(&cluster.admin, &lookalike).await;
    assert!(
        leaks.is_empty(),
        "Secrets outside store namespaces are readable:\n{}",
        leaks.join("\n")
    );
}

#[tokio::test]
async fn no_function_can_exec_attach_or_port_forward() {
    let Some(cluster) = Cluster::connect("no_function_can_exec_attach_or_port_forward")
        .await
        .unwrap()
    else {
        return;
    };
    let functions = Functions::of(&cluster, "rbac-exec").await;
    let chart = StoreChart::selected();
    // A real store namespace, provisioned as create-store: the functions'
    // per-store RoleBinding is there, so this is where exec would leak.
    // The steps one by one, RoleBinding before Secret: this test is about
    // exec, and must not depend on StoreActions::provision's order (which
    // each_function_does_its_job_with_its_own_token judges).
    let (client, kubeconfig) = functions.get("create-store");
    let actions = actions_as(&cluster, client.clone(), kubeconfig, &chart);
    let id = StoreId::random();
    namespace::apply_store_namespace(&client, &id, Engine::WooCommerce)
        .await
        .expect("the store namespace, as create-store");
    rbac::apply_store_role_binding(&client, &id, &actions.subjects)
        .await
        .expect("the RoleBinding, as create-store");
    rbac::apply_store_reader_binding(&client, &id, &actions.reader_subjects)
        .await
        .expect("the reader RoleBinding, as create-store");
    rbac::apply_store_deleter_binding(&client, &id, &actions.deleter_subjects)
        .await
        .expect("the deleter RoleBinding, as create-store");
    rbac::apply_store_checker_binding(&client, &id, &actions.checker_subjects)
        .await
        .expect("the checker RoleBinding, as create-store");
    rbac::apply_store_watcher_binding(&client, &id, &actions.watcher_subjects)
        .await
        .expect("the watcher RoleBinding, as create-store");
    secret::ensure_store_secret(&client, &id, "admin@example.com")
        .await
        .expect("the Secret, as create-store");
    actions
        .helm
        .upgrade_install(&StoreRelease {
            id: id.clone(),
            host: format!("{id}.localhost"),
        })
        .await
        .expect("helm upgrade --install, as create-store");
    let ns = id.namespace();
    let pods: Api<Pod> = Api::namespaced(cluster.admin.clone(), &ns);
    let pod = until(
        "a pod of the store",
        Duration::from_secs(60),
        Duration::from_millis(300),
        async || {
            pods.list(&ListParams::default())
                .await
                .ok()?
                .items
                .into_iter()
                .next()
        },
    )
    .await
    .unwrap();
    let pod = pod.metadata.name.unwrap();

    let request = |sub: &str| {
        let query = match sub {
            "portforward" => "ports=80",
            _ => "command=true&stdout=true",
        };
        http::Request::post(format!("/api/v1/namespaces/{ns}/pods/{pod}/{sub}?{query}"))
            .body(Vec::new())
            .unwrap()
    };
    // Control: the admin is authorized, and the API server answers 400
    // (not an upgrade request) rather than 403.
    for sub in ["exec", "attach", "portforward"] {
        let status = refusal(cluster.admin.request_text(request(sub)).await);
        assert_ne!(
            status,
            Some(403),
            "the admin must be allowed {sub} (control)"
        );
    }
    let mut leaks = Vec::new();
    for (function, client, _) in &functions.clients {
        for sub in ["exec", "attach", "portforward"] {
            let status = refusal(client.request_text(request(sub)).await);
            if status != Some(403) {
                leaks.push(format!(
                    "{function}: pods/{sub} answered {status:?}, expected 403"
                ));
            }
        }
    }
    teardown_as_delete_store(&cluster, &functions, &chart, &id).await;
    assert!(
        leaks.is_empty(),
        "a function can reach into pods:\n{}",
        leaks.join("\n")
    );
}

#[tokio::test]
async fn no_function_deletes_a_namespace_storefleet_does_not_own() {
    let Some(cluster) = Cluster::connect("no_function_deletes_a_namespace_storefleet_does_not_own")
        .await
        .unwrap()
    else {
        return;
    };
    let functions = Functions::of(&cluster, "rbac-delete").await;
    let foreign = format!("lifecycle-foreign-{}", random_suffix());
    let lookalike_id = StoreId::random();
    let lookalike = lookalike_id.namespace();
    // store-<id> carrying the id label but not managed-by=storefleet
    let half_labelled = StoreId::random();
    namespace(&cluster.admin, &foreign, json!({})).await;
    namespace(&cluster.admin, &lookalike, json!({})).await;
    namespace(
        &cluster.admin,
        &half_labelled.namespace(),
        json!({"storefleet.io/store-id": half_labelled.as_str()}),
    )
    .await;
    let targets = [
        foreign.clone(),
        lookalike.clone(),
        half_labelled.namespace(),
        "default".into(),
        PLATFORM_NAMESPACE.into(),
    ];

    let mut deleted = Vec::new();
    for (function, client, _) in &functions.clients {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        for target in &targets {
            // Every delete is refused: 403 by RBAC, or by the admission
            // policy for delete-store (403/422, "may only delete ...").
            match namespaces.delete(target, &DeleteParams::default()).await {
                Err(kube::Error::Api(status)) if status.code == 403 || status.code == 422 => {}
                other => deleted.push(format!("{function}: delete namespace {target}: {other:?}")),
            }
        }
    }
    // delete-store's own code refuses before helm runs.
    let (client, kubeconfig) = functions.get("delete-store");
    let actions = actions_as(&cluster, client, kubeconfig, &StoreChart::selected());
    let refused = actions.teardown(&lookalike_id).await;
    assert!(
        matches!(refused, Err(KubeError::ForeignNamespace { .. })),
        "teardown of a namespace Storefleet does not own must be refused, got {refused:?}"
    );
    // Every namespace is still there, not even terminating.
    let namespaces: Api<Namespace> = Api::all(cluster.admin.clone());
    for target in &targets {
        let ns = namespaces.get(target).await.expect("still exists");
        assert!(
            ns.metadata.deletion_timestamp.is_none(),
            "{target} is being deleted"
        );
    }
    for target in [&foreign, &lookalike, &half_labelled.namespace()] {
        remove_namespace(&cluster.admin, target).await;
    }
    assert!(
        deleted.is_empty(),
        "a function deleted a namespace it does not own:\n{}",
        deleted.join("\n")
    );
}

/// Rights no function may hold, anywhere (SelfSubjectAccessReview with the
/// function's own token: the API server's authorizer answers). The
/// admission policies are not consulted by a review, so these are RBAC's.
#[tokio::test]
async fn no_function_holds_a_dangerous_right() {
    let Some(cluster) = Cluster::connect("no_function_holds_a_dangerous_right")
        .await
        .unwrap()
    else {
        return;
    };
    let functions = Functions::of(&cluster, "rbac-dangerous").await;
    let store_ns = StoreId::random().namespace();
    // (verb, group, resource, subresource, namespace, name)
    let dangerous: Vec<(&str, &str, &str, &str, &str, &str)> = vec![
        ("create", "", "pods", "exec", &store_ns, ""),
        ("get", "", "pods", "exec", &store_ns, ""),
        ("create", "", "pods", "attach", &store_ns, ""),
        ("create", "", "pods", "portforward", &store_ns, ""),
        ("create", "", "pods", "", &store_ns, ""),
        ("create", "", "pods", "ephemeralcontainers", &store_ns, ""),
        ("patch", "", "pods", "ephemeralcontainers", &store_ns, ""),
        ("get", "", "secrets", "", "kube-system", ""),
        ("list", "", "secrets", "", "", ""),
        (
            "get",
            "",
            "secrets",
            "",
            PLATFORM_NAMESPACE,
            "storefleet-database",
        ),
        (
            "create",
            "",
            "serviceaccounts",
            "token",
            PLATFORM_NAMESPACE,
            "create-store",
        ),
        (
            "create",
            "",
            "serviceaccounts",
            "token",
            &store_ns,
            "default",
        ),
        ("impersonate", "", "users", "", "", ""),
        (
            "impersonate",
            "",
            "serviceaccounts",
            "",
            PLATFORM_NAMESPACE,
            "",
        ),
        (
            "escalate",
            "rbac.authorization.k8s.io",
            "clusterroles",
            "",
            "",
            "",
        ),
        (
            "bind",
            "rbac.authorization.k8s.io",
            "clusterroles",
            "",
            "",
            "cluster-admin",
        ),
        (
            "bind",
            "rbac.authorization.k8s.io",
            "clusterroles",
            "",
            "",
            "admin",
        ),
        (
            "create",
            "rbac.authorization.k8s.io",
            "clusterrolebindings",
            "",
            "",
            "",
        ),
        (
            "create",
            "rbac.authorization.k8s.io",
            "clusterroles",
            "",
            "",
            "",
        ),
        (
            "create",
            "rbac.authorization.k8s.io",
            "roles",
            "",
            &store_ns,
            "",
        ),
        ("update", "", "namespaces", "finalize", "", ""),
        ("delete", "", "persistentvolumes", "", "", ""),
        ("list", "", "nodes", "", "", ""),
        ("delete", "", "nodes", "", "", ""),
        (
            "create",
            "admissionregistration.k8s.io",
            "validatingadmissionpolicybindings",
            "",
            "",
            "",
        ),
        (
            "delete",
            "admissionregistration.k8s.io",
            "validatingadmissionpolicies",
            "",
            "",
            "",
        ),
        (
            "delete",
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            "",
            "",
            "",
        ),
        (
            "create",
            "certificates.k8s.io",
            "certificatesigningrequests",
            "approval",
            "",
            "",
        ),
        ("*", "*", "*", "", "", ""),
    ];
    let mut excess = Vec::new();
    // Control: the admin's review of the same rights is allowed, so a
    // "denied" below is the functions' RBAC, not a malformed review.
    let clients = std::iter::once(("admin (control)", cluster.admin.clone()))
        .chain(functions.clients.iter().map(|(f, c, _)| (*f, c.clone())));
    for (function, client) in clients {
        let control = function == "admin (control)";
        let reviews: Api<SelfSubjectAccessReview> = Api::all(client.clone());
        for (verb, group, resource, sub, ns, name) in &dangerous {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        verb: Some(verb.to_string()),
                        group: Some(group.to_string()),
                        resource: Some(resource.to_string()),
                        subresource: (!sub.is_empty()).then(|| sub.to_string()),
                        namespace: (!ns.is_empty()).then(|| ns.to_string()),
                        name: (!name.is_empty()).then(|| name.to_string()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            };
            let answer = reviews
                .create(&PostParams::default(), &review)
                .await
                .expect("any authenticated user may review its own access");
            let allowed = answer.status.map(|s| s.allowed).unwrap_or(false);
            if control {
                assert!(
                    allowed,
                    "the admin must be allowed {verb} {resource}/{sub} (control)"
                );
            } else if allowed {
                let what = [*group, *resource, *sub]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("/");
                excess.push(format!(
                    "{function} may {verb} {what} (namespace {ns:?}, name {name:?})"
                ));
            }
        }
    }
    assert!(
        excess.is_empty(),
        "excess permissions:\n{}",
        excess.join("\n")
    );
}

/// What each function's code does, with its own token: a missing permission
/// anywhere in provision, readiness, the Secret read or teardown fails here.
#[tokio::test]
async fn each_function_does_its_job_with_its_own_token() {
    let Some(cluster) = Cluster::connect("each_function_does_its_job_with_its_own_token")
        .await
        .unwrap()
    else {
        return;
    };
    let functions = Functions::of(&cluster, "rbac-job").await;
    let chart = StoreChart::selected();
    let id = StoreId::random();
    let ns = id.namespace();

    // create-store: namespace, RoleBindings, Secret, helm upgrade --install.
    let (client, kubeconfig) = functions.get("create-store");
    let create = actions_as(&cluster, client, kubeconfig, &chart);
    let store = StoreRelease {
        id: id.clone(),
        host: format!("{id}.localhost"),
    };
    create
        .provision(&store, Engine::WooCommerce, "admin@example.com")
        .await
        .expect("provision with create-store's token");
    // and again: a repeated event converges without error
    create
        .provision(&store, Engine::WooCommerce, "admin@example.com")
        .await
        .expect("a second provision with create-store's token");
    let bindings: Api<RoleBinding> = Api::namespaced(cluster.admin.clone(), &ns);
    let binding = bindings.get("storefleet-store-manager").await.unwrap();
    assert_eq!(binding.role_ref.name, "storefleet-store-manager");
    let bound = |binding: &RoleBinding| -> Vec<String> {
        binding
            .subjects
            .iter()
            .flatten()
            .map(|s| s.name.clone())
            .collect()
    };
    assert!(
        !bound(&binding).contains(&"list-stores".to_owned()),
        "list-stores must not hold the per-store manager role"
    );
    let reader = bindings.get("storefleet-store-reader").await.unwrap();
    assert_eq!(reader.role_ref.name, "storefleet-store-reader");
    assert_eq!(bound(&reader), ["list-stores"]);
    // delete-store holds only its own read-and-delete role (issue 11, item 4).
    assert!(
        !bound(&binding).contains(&"delete-store".to_owned()),
        "delete-store must not hold the per-store manager role"
    );
    let deleter = bindings.get("storefleet-store-deleter").await.unwrap();
    assert_eq!(deleter.role_ref.name, "storefleet-store-deleter");
    assert_eq!(bound(&deleter), ["delete-store"]);

    // readiness-checker: its cluster-wide reads are enough to judge the store.
    let (checker, _) = functions.get("readiness-checker");
    let policy = ReadinessPolicy::for_engine(Engine::WooCommerce);
    let verdict = until(
        "the store to be ready (as readiness-checker)",
        Duration::from_secs(120),
        Duration::from_millis(500),
        async || match readiness::observe(&checker, &id, &policy).await {
            Ok(Verdict::Ready) => Some(Ok(())),
            Ok(_) => None,
            Err(err) => Some(Err(format!("{err}"))),
        },
    )
    .await
    .unwrap();
    verdict.expect("readiness-checker may read what it judges");
    // ... and it cannot write in the store namespace.
    let deployments: Api<Deployment> = Api::namespaced(checker.clone(), &ns);
    assert_eq!(
        refusal(deployments.delete("web", &DeleteParams::default()).await),
        Some(403),
        "readiness-checker must not delete Deployments"
    );

    // list-stores: reads the store's Secret (the credentials endpoint),
    // through the reader binding ...
    let (lister, _) = functions.get("list-stores");
    let secrets: Api<Secret> = Api::namespaced(lister.clone(), &ns);
    let credentials = secrets
        .get(STORE_ADMIN_SECRET_NAME)
        .await
        .expect("list-stores reads store-admin");
    assert!(
        credentials
            .data
            .is_some_and(|d| d.contains_key("wordpress-admin-password"))
    );
    let read = secret::read_credentials(&lister, &id)
        .await
        .expect("list-stores' credentials route reads the admin login");
    assert!(read.admin_user.starts_with("admin-"), "{}", read.admin_user);
    // ... and can do nothing else there: no other Secret, no write.
    let deployment = Api::<Deployment>::namespaced(cluster.admin.clone(), &ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find_map(|d| d.metadata.name)
        .expect("the store has a Deployment");
    let deployments: Api<Deployment> = Api::namespaced(lister.clone(), &ns);
    let new_secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "written-by-list-stores"},
        "stringData": {"x": "y"}
    }))
    .unwrap();
    let new_deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "written-by-list-stores"},
        "spec": {
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "x", "image": "registry.k8s.io/pause:3.10"}]}
            }
        }
    }))
    .unwrap();
    let label = Patch::Merge(json!({"metadata": {"labels": {"written-by": "list-stores"}}}));
    let writes = [
        (
            "get store-credentials (MySQL's passwords, the salts)",
            refusal(secrets.get(STORE_SECRET_NAME).await),
        ),
        (
            "create a Secret",
            refusal(secrets.create(&PostParams::default(), &new_secret).await),
        ),
        (
            "patch store-credentials",
            refusal(
                secrets
                    .patch(STORE_SECRET_NAME, &PatchParams::default(), &label)
                    .await,
            ),
        ),
        (
            "delete store-credentials",
            refusal(
                secrets
                    .delete(STORE_SECRET_NAME, &DeleteParams::default())
                    .await,
            ),
        ),
        (
            "list Secrets",
            refusal(secrets.list(&ListParams::default()).await),
        ),
        (
            "create a Deployment",
            refusal(
                deployments
                    .create(&PostParams::default(), &new_deployment)
                    .await,
            ),
        ),
        (
            "patch a Deployment",
            refusal(
                deployments
                    .patch(&deployment, &PatchParams::default(), &label)
                    .await,
            ),
        ),
    ];
    let allowed: Vec<String> = writes
        .iter()
        .filter(|(_, status)| *status != Some(403))
        .map(|(what, status)| format!("{what} in {ns}: answered {status:?}, expected 403"))
        .collect();
    assert!(
        allowed.is_empty(),
        "list-stores may do more than read store-credentials:\n{}",
        allowed.join("\n")
    );

    teardown_as_delete_store(&cluster, &functions, &chart, &id).await;
}

/// delete-store's teardown with its own token, until the namespace is gone;
/// then no PVC or PV of the store is left.
async fn teardown_as_delete_store(
    cluster: &Cluster,
    functions: &Functions,
    chart: &StoreChart,
    id: &StoreId,
) {
    let (client, kubeconfig) = functions.get("delete-store");
    let delete = actions_as(cluster, client, kubeconfig, chart);
    until(
        "the store namespace to be gone (as delete-store)",
        Duration::from_secs(180),
        Duration::from_millis(500),
        async || match delete.teardown(id).await {
            Ok(torn) if torn.namespace == NamespaceDeletion::Gone => Some(()),
            Ok(_) => None,
            Err(err) => panic!("teardown with delete-store's token: {err}"),
        },
    )
    .await
    .unwrap();
    assert_nothing_left(&cluster.admin, id).await;
}

/// No PVC in the store's namespace and no PV that was bound to one of them.
pub async fn assert_nothing_left(admin: &Client, id: &StoreId) {
    let ns = id.namespace();
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(admin.clone(), &ns);
    assert!(
        pvcs.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let sets: Api<StatefulSet> = Api::namespaced(admin.clone(), &ns);
    assert!(
        sets.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let pvs: Api<PersistentVolume> = Api::all(admin.clone());
    until(
        &format!("the PVs of {ns} to be deleted"),
        Duration::from_secs(60),
        Duration::from_millis(500),
        async || {
            let left: Vec<String> = pvs
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .into_iter()
                .filter(|pv| {
                    pv.spec
                        .as_ref()
                        .and_then(|s| s.claim_ref.as_ref())
                        .and_then(|c| c.namespace.as_deref())
                        == Some(ns.as_str())
                })
                .filter_map(|pv| pv.metadata.name)
                .collect();
            left.is_empty().then_some(())
        },
    )
    .await
    .unwrap();
}
