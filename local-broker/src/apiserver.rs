//! ApiServerSource emulation (`mode: Resource`) over kube-rs watches.
//!
//! Matches Knative's adapter: one list+watch per `spec.resources[]` entry with
//! its label selector; namespaced resources only in namespaces matched by
//! `spec.namespaceSelector` (unset: the source's own namespace), cluster-scoped
//! ones (Namespaces) by their label selector alone. Events carry the whole
//! object, type `dev.knative.apiserver.resource.add|update|delete`, `source` =
//! the API server URL, `subject` = Knative's self-link form and the `kind`,
//! `name`, `namespace`, `apiversion` extensions. Like Knative, nothing is sent
//! for the objects listed when a watch (re)starts: Knative's store ignores the
//! initial list and relists, so does this one.

use std::collections::{BTreeMap, HashMap, HashSet};

use cloudevents::{Event, EventBuilder, EventBuilderV10};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject, GroupVersionKind, TypeMeta};
use kube::core::Selector;
use kube::discovery::Scope;
use kube::runtime::{WatchStreamExt, watcher};

use crate::broker::Bus;
use crate::manifest::{ApiServerSource, LabelSelector};

pub const ADD: &str = "dev.knative.apiserver.resource.add";
pub const UPDATE: &str = "dev.knative.apiserver.resource.update";
pub const DELETE: &str = "dev.knative.apiserver.resource.delete";

/// The manifest's selector as a kube selector (validated at load time).
pub fn to_selector(s: &LabelSelector) -> Result<Selector, String> {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    let ls = meta::LabelSelector {
        match_labels: s.match_labels.clone(),
        match_expressions: s.match_expressions.as_ref().map(|exprs| {
            exprs
                .iter()
                .map(|e| meta::LabelSelectorRequirement {
                    key: e.key.clone(),
                    operator: e.operator.clone(),
                    values: e.values.clone(),
                })
                .collect()
        }),
    };
    Selector::try_from(ls).map_err(|e| e.to_string())
}

/// Knative's `createSelfLink`: `/apis/<apiVersion>/namespaces/<ns>/<plural>/<name>`,
/// also for the core group (`/apis/v1/...`) and with an empty namespace for
/// cluster-scoped objects (`/apis/v1/namespaces//namespaces/store-x`).
pub fn subject(api_version: &str, namespace: &str, plural: &str, name: &str) -> String {
    let version = if api_version.contains('.') && !api_version.contains('/') {
        format!("{api_version}/versionUnknown")
    } else {
        api_version.to_string()
    };
    format!("/apis/{version}/namespaces/{namespace}/{plural}/{name}")
}

/// The kind of change an event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Add,
    Update,
    Delete,
}

impl Change {
    pub fn event_type(self) -> &'static str {
        match self {
            Change::Add => ADD,
            Change::Update => UPDATE,
            Change::Delete => DELETE,
        }
    }
}

/// Identity of one watched resource type.
#[derive(Debug, Clone)]
pub struct ResourceKind {
    pub api_version: String,
    pub kind: String,
    pub plural: String,
}

/// Builds the CloudEvent for a change of `object` (its `apiVersion`/`kind`
/// are set from `rk` first: list responses leave them out of items).
pub fn resource_event(
    api_server: &str,
    change: Change,
    rk: &ResourceKind,
    object: &DynamicObject,
    overrides: &BTreeMap<String, String>,
) -> Event {
    let mut object = object.clone();
    object.types = Some(TypeMeta {
        api_version: rk.api_version.clone(),
        kind: rk.kind.clone(),
    });
    let name = object.metadata.name.clone().unwrap_or_default();
    let namespace = object.metadata.namespace.clone().unwrap_or_default();
    let data = serde_json::to_value(&object).expect("a DynamicObject serializes to JSON");
    let mut builder = EventBuilderV10::new()
        .id(uuid::Uuid::new_v4().to_string())
        .ty(change.event_type())
        .source(api_server)
        .subject(subject(&rk.api_version, &namespace, &rk.plural, &name))
        .time(chrono::Utc::now())
        .extension("kind", rk.kind.clone())
        .extension("name", name)
        .extension("namespace", namespace)
        .extension("apiversion", rk.api_version.clone())
        .data("application/json", data);
    for (k, v) in overrides {
        builder = builder.extension(k, v.clone());
    }
    builder.build().expect("all required attributes are set")
}

/// Turns kube's watcher events into add/update/delete the way Knative's
/// informer store does: the (re)list is recorded silently, later applies
/// are `add` for unseen objects and `update` for known ones.
#[derive(Debug, Default)]
pub struct ChangeTracker {
    known: HashSet<String>,
    relisting: Option<HashSet<String>>,
}

impl ChangeTracker {
    pub fn observe(&mut self, event: &watcher::Event<DynamicObject>) -> Option<Change> {
        match event {
            watcher::Event::Init => {
                self.relisting = Some(HashSet::new());
                None
            }
            watcher::Event::InitApply(o) => {
                if let Some(r) = self.relisting.as_mut() {
                    r.insert(key(o));
                }
                None
            }
            watcher::Event::InitDone => {
                if let Some(r) = self.relisting.take() {
                    self.known = r;
                }
                None
            }
            watcher::Event::Apply(o) => Some(if self.known.insert(key(o)) {
                Change::Add
            } else {
                Change::Update
            }),
            watcher::Event::Delete(o) => {
                self.known.remove(&key(o));
                Some(Change::Delete)
            }
        }
    }
}

fn key(o: &DynamicObject) -> String {
    o.metadata.uid.clone().unwrap_or_else(|| {
        format!(
            "{}/{}",
            o.metadata.namespace.as_deref().unwrap_or(""),
            o.metadata.name.as_deref().unwrap_or("")
        )
    })
}

/// Where a source's namespaced resources are watched, as Knative's
/// reconciler resolves `spec.namespaceSelector`: unset, the source's own
/// namespace; empty, every namespace (one cluster-wide watch); otherwise one
/// watch per matching namespace (the adapter's per-namespace reflectors), so
/// the source's ServiceAccount needs read access only in those namespaces.
#[derive(Clone)]
enum Namespaces {
    Own(String),
    All,
    Selected(Selector),
}

impl Namespaces {
    fn of(source: &ApiServerSource) -> Namespaces {
        match &source.namespace_selector {
            None => Namespaces::Own(source.namespace.clone()),
            Some(s) if is_empty(s) => Namespaces::All,
            Some(s) => Namespaces::Selected(to_selector(s).expect("validated at load")),
        }
    }
}

/// Knative's `isEmptySelector`: no labels and no expressions selects all.
fn is_empty(s: &LabelSelector) -> bool {
    s.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
        && s.match_expressions.as_ref().is_none_or(Vec::is_empty)
}

/// One `spec.resources[]` entry, found by discovery.
#[derive(Clone)]
struct Watched {
    kind: ResourceKind,
    resource: kube::api::ApiResource,
    namespaced: bool,
    config: watcher::Config,
}

/// What every watch of one source shares.
#[derive(Clone)]
struct Emitter {
    bus: Bus,
    api_server: String,
    source: ApiServerSource,
}

/// Starts the emulation of one ApiServerSource against the current
/// kubeconfig. Returns `None` (and says why) when no cluster is configured,
/// else the task that owns its watches (aborting it stops them all).
pub async fn start(bus: Bus, source: ApiServerSource) -> Option<Vec<tokio::task::JoinHandle<()>>> {
    let config = match kube::Config::infer().await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(
                apiserversource = %source.name,
                "no Kubernetes cluster configured ({e}); running without the ApiServerSource emulation"
            );
            return None;
        }
    };
    let api_server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let client = match kube::Client::try_from(config) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(apiserversource = %source.name, "cannot build a Kubernetes client ({e}); running without the ApiServerSource emulation");
            return None;
        }
    };
    tracing::info!(apiserversource = %source.name, %api_server, "watching");
    let emitter = Emitter {
        bus,
        api_server,
        source,
    };
    Some(vec![tokio::spawn(run(client, emitter))])
}

/// Discovers the source's resources, then keeps their watches running.
async fn run(client: kube::Client, emitter: Emitter) {
    let mut watched = Vec::new();
    for resource in &emitter.source.resources {
        watched.push(discover(&client, resource).await);
    }
    let scope = Namespaces::of(&emitter.source);
    // Dropping a JoinSet aborts its tasks: aborting this task stops them all.
    let mut fixed = tokio::task::JoinSet::new();
    let mut per_namespace = Vec::new();
    for w in watched {
        let api = match (&scope, w.namespaced) {
            (_, false) | (Namespaces::All, true) => Api::all_with(client.clone(), &w.resource),
            (Namespaces::Own(ns), true) => Api::namespaced_with(client.clone(), ns, &w.resource),
            (Namespaces::Selected(_), true) => {
                per_namespace.push(w);
                continue;
            }
        };
        fixed.spawn(watch(emitter.clone(), api, w));
    }
    match scope {
        Namespaces::Selected(selector) if !per_namespace.is_empty() => {
            follow_namespaces(&client, &emitter, selector, &per_namespace).await;
        }
        _ => while fixed.join_next().await.is_some() {},
    }
}

async fn discover(client: &kube::Client, resource: &crate::manifest::ApiResource) -> Watched {
    let (group, version) = match resource.api_version.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), resource.api_version.clone()),
    };
    let gvk = GroupVersionKind::gvk(&group, &version, &resource.kind);
    // Discovery may fail while the API server starts: keep trying.
    let (ar, caps) = loop {
        match kube::discovery::pinned_kind(client, &gvk).await {
            Ok(found) => break found,
            Err(e) => {
                tracing::warn!(kind = %resource.kind, "discovery failed ({e}); retrying in 5 s");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        }
    };
    let mut config = watcher::Config::default();
    if let Some(s) = &resource.selector {
        config = config.labels_from(&to_selector(s).expect("validated at load"));
    }
    Watched {
        kind: ResourceKind {
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
            plural: ar.plural.clone(),
        },
        resource: ar,
        namespaced: caps.scope == Scope::Namespaced,
        config,
    }
}

/// Keeps one watch per resource in every namespace the selector matches:
/// started when a namespace starts matching (or when it is listed),
/// stopped when it is deleted or stops matching. Like Knative's adapter,
/// restarted with the new list, a new namespace's watches send nothing for
/// what they first list.
async fn follow_namespaces(
    client: &kube::Client,
    emitter: &Emitter,
    selector: Selector,
    resources: &[Watched],
) {
    let mut watching: HashMap<String, tokio::task::JoinSet<()>> = HashMap::new();
    let mut listed: Option<HashSet<String>> = None;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let config = watcher::Config::default().labels_from(&selector);
    let mut stream = watcher(namespaces, config).default_backoff().boxed();
    while let Some(item) = stream.next().await {
        match item {
            Err(e) => {
                tracing::warn!(apiserversource = %emitter.source.name, "namespace watch error: {e}")
            }
            Ok(watcher::Event::Init) => listed = Some(HashSet::new()),
            Ok(watcher::Event::InitApply(ns) | watcher::Event::Apply(ns)) => {
                let name = ns.metadata.name.unwrap_or_default();
                if let Some(listed) = listed.as_mut() {
                    listed.insert(name.clone());
                }
                watching.entry(name).or_insert_with_key(|name| {
                    tracing::debug!(namespace = %name, "watching the namespace's resources");
                    let mut set = tokio::task::JoinSet::new();
                    for w in resources {
                        let api = Api::namespaced_with(client.clone(), name, &w.resource);
                        set.spawn(watch(emitter.clone(), api, w.clone()));
                    }
                    set
                });
            }
            Ok(watcher::Event::InitDone) => {
                if let Some(listed) = listed.take() {
                    watching.retain(|name, _| listed.contains(name));
                }
            }
            Ok(watcher::Event::Delete(ns)) => {
                // A namespace is deleted only once it is empty: its
                // resources' delete events have been sent.
                watching.remove(ns.metadata.name.as_deref().unwrap_or_default());
            }
        }
    }
}

async fn watch(emitter: Emitter, api: Api<DynamicObject>, w: Watched) {
    let mut tracker = ChangeTracker::default();
    let mut stream = watcher(api, w.config).default_backoff().boxed();
    while let Some(item) = stream.next().await {
        let event = match item {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(kind = %w.kind.kind, "watch error: {e}");
                continue;
            }
        };
        let Some(change) = tracker.observe(&event) else {
            continue;
        };
        let object = match &event {
            watcher::Event::Apply(o) | watcher::Event::Delete(o) => o,
            _ => continue,
        };
        let ce = resource_event(
            &emitter.api_server,
            change,
            &w.kind,
            object,
            &emitter.source.extensions,
        );
        emitter
            .bus
            .emit(&emitter.source.namespace, &emitter.source.sink, ce)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudevents::AttributesReader;
    use kube::api::ObjectMeta;
    use kube::core::SelectorExt;

    fn pod(uid: &str) -> DynamicObject {
        DynamicObject {
            types: None,
            metadata: ObjectMeta {
                name: Some("wordpress-0".into()),
                namespace: Some("store-abcd1234".into()),
                uid: Some(uid.into()),
                labels: Some(
                    [("storefleet.io/store-id".to_string(), "abcd1234".to_string())].into(),
                ),
                ..Default::default()
            },
            data: serde_json::json!({"status": {"phase": "Running"}}),
        }
    }

    #[test]
    fn subject_is_knatives_self_link_form() {
        assert_eq!(
            subject("apps/v1", "store-abcd1234", "deployments", "wordpress"),
            "/apis/apps/v1/namespaces/store-abcd1234/deployments/wordpress"
        );
        assert_eq!(
            subject("v1", "store-abcd1234", "pods", "wordpress-0"),
            "/apis/v1/namespaces/store-abcd1234/pods/wordpress-0",
            "core group: /apis/v1, as Knative sends it (not /api/v1)"
        );
        assert_eq!(
            subject("v1", "", "namespaces", "store-abcd1234"),
            "/apis/v1/namespaces//namespaces/store-abcd1234",
            "cluster-scoped: empty namespace segment, as Knative sends it"
        );
    }

    #[test]
    fn resource_event_carries_the_whole_object_and_the_extensions() {
        let rk = ResourceKind {
            api_version: "v1".into(),
            kind: "Pod".into(),
            plural: "pods".into(),
        };
        let e = resource_event(
            "https://127.0.0.1:6443",
            Change::Update,
            &rk,
            &pod("u1"),
            &BTreeMap::new(),
        );
        assert_eq!(e.ty(), UPDATE);
        assert_eq!(e.source().to_string(), "https://127.0.0.1:6443");
        assert_eq!(
            e.subject(),
            Some("/apis/v1/namespaces/store-abcd1234/pods/wordpress-0")
        );
        assert_eq!(e.datacontenttype(), Some("application/json"));
        for (k, v) in [
            ("kind", "Pod"),
            ("name", "wordpress-0"),
            ("namespace", "store-abcd1234"),
            ("apiversion", "v1"),
        ] {
            assert_eq!(
                e.extension(k).map(|x| x.to_string()).as_deref(),
                Some(v),
                "{k}"
            );
        }
        let data: serde_json::Value = match e.data().unwrap() {
            cloudevents::Data::Json(v) => v.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(data["apiVersion"], "v1");
        assert_eq!(data["kind"], "Pod");
        assert_eq!(
            data["metadata"]["labels"]["storefleet.io/store-id"],
            "abcd1234"
        );
        assert_eq!(data["status"]["phase"], "Running");
    }

    #[test]
    fn tracker_ignores_the_initial_list_like_knative() {
        let mut t = ChangeTracker::default();
        assert_eq!(t.observe(&watcher::Event::Init), None);
        assert_eq!(t.observe(&watcher::Event::InitApply(pod("old"))), None);
        assert_eq!(t.observe(&watcher::Event::InitDone), None);
        assert_eq!(
            t.observe(&watcher::Event::Apply(pod("old"))),
            Some(Change::Update)
        );
        assert_eq!(
            t.observe(&watcher::Event::Apply(pod("new"))),
            Some(Change::Add)
        );
        assert_eq!(
            t.observe(&watcher::Event::Apply(pod("new"))),
            Some(Change::Update)
        );
        assert_eq!(
            t.observe(&watcher::Event::Delete(pod("new"))),
            Some(Change::Delete)
        );
        assert_eq!(
            t.observe(&watcher::Event::Apply(pod("new"))),
            Some(Change::Add),
            "re-created"
        );
        // A relist replaces what is known, silently.
        t.observe(&watcher::Event::Init);
        t.observe(&watcher::Event::InitApply(pod("other")));
        t.observe(&watcher::Event::InitDone);
        assert_eq!(
            t.observe(&watcher::Event::Apply(pod("new"))),
            Some(Change::Add)
        );
    }

    #[test]
    fn selectors_convert() {
        let s = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![crate::manifest::LabelSelectorRequirement {
                key: "storefleet.io/store-id".into(),
                operator: "Exists".into(),
                values: None,
            }]),
        };
        let sel = to_selector(&s).unwrap();
        assert_eq!(sel.to_string(), "storefleet.io/store-id");
        assert!(sel.matches(&[("storefleet.io/store-id".to_string(), "x".to_string())].into()));
        assert!(!sel.matches(&BTreeMap::new()));
    }

    #[test]
    fn an_empty_namespace_selector_selects_all_as_in_knative() {
        assert!(is_empty(&LabelSelector::default()));
        assert!(is_empty(&LabelSelector {
            match_labels: Some(BTreeMap::new()),
            match_expressions: Some(vec![]),
        }));
        assert!(!is_empty(&LabelSelector {
            match_labels: Some([("a".to_string(), "b".to_string())].into()),
            match_expressions: None,
        }));
    }
}
