//! The Broker: ingress, in-memory queue, Trigger matching and delivery.
//!
//! Like Knative's MTChannelBasedBroker over an InMemoryChannel, the queue
//! lives in memory only: events accepted but not yet delivered are lost when
//! the process stops. Each accepted event is offered to every matching
//! Trigger concurrently, so there is no ordering between events (nor in
//! Knative). Replies re-enter the queue with `knativebrokerttl` decremented,
//! which stops reply loops after 255 hops.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cloudevents::{AttributesReader, Event};
use reqwest::Url;
use tokio::sync::mpsc;

use crate::delivery::{self, Outcome};
use crate::filter::Filter;
use crate::manifest::{Delivery, Destination, Manifests};
use storefleet_shared::chain::oidc::{Signer, trigger_subject};

/// Events accepted but not yet dispatched; beyond it the ingress answers 503
/// (a burst of forged or runaway events cannot grow the process without bound).
pub const QUEUE_CAPACITY: usize = 1024;
/// The largest event the ingress reads (Knative's ingress refuses larger ones
/// too): a 200 MB event took the broker from 158 to 540 MB.
pub const INGRESS_BODY_LIMIT: usize = 1024 * 1024;

/// Knative's initial hop budget for an event entering a broker.
pub const INITIAL_TTL: i64 = 255;
const TTL_EXTENSION: &str = "knativebrokerttl";

/// Addresses the broker can reach: its own base URL (for Broker sinks) and
/// the functions (for Service refs).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// e.g. `http://127.0.0.1:8080/`
    pub base: Url,
    /// Knative Service name -> base URL of the running function.
    pub functions: BTreeMap<String, Url>,
}

/// Where a Destination points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Broker { namespace: String, name: String },
    Url(Url),
}

impl Endpoints {
    /// The ingress URL of a Broker: `<base>/broker/<name>` (the form in
    /// docs/development.md); `<base>/broker/<namespace>/<name>` works too.
    pub fn broker_url(&self, name: &str) -> Url {
        self.base
            .join(&format!("broker/{name}"))
            .expect("a broker name is a valid path segment")
    }

    /// Resolves a Destination in `namespace` as Knative does: a ref's
    /// address, with `uri` resolved against it when both are set.
    pub fn resolve(&self, namespace: &str, d: &Destination) -> Result<Target, String> {
        match (&d.reference, &d.uri) {
            (Some(r), uri) if r.kind == "Broker" => {
                if uri.is_some() {
                    return Err("a Broker reference with a uri is not supported".into());
                }
                Ok(Target::Broker {
                    namespace: r.namespace.clone().unwrap_or_else(|| namespace.to_string()),
                    name: r.name.clone(),
                })
            }
            (Some(r), uri) => {
                let base = self.functions.get(&r.name).ok_or_else(|| {
                    format!(
                        "no address for Service {:?}: start the local broker with --function {}=http://127.0.0.1:PORT or --run {}=PATH",
                        r.name, r.name, r.name
                    )
                })?;
                match uri {
                    Some(u) => base
                        .join(u)
                        .map(Target::Url)
                        .map_err(|e| format!("uri {u:?}: {e}")),
                    None => Ok(Target::Url(base.clone())),
                }
            }
            (None, Some(u)) => Url::parse(u)
                .map(Target::Url)
                .map_err(|e| format!("uri {u:?}: {e}")),
            (None, None) => Err("empty destination".into()),
        }
    }
}

/// A Trigger with its addresses resolved once at start.
#[derive(Debug, Clone)]
pub struct Route {
    pub namespace: String,
    pub name: String,
    pub broker: String,
    pub filter: Filter,
    pub subscriber: Result<Url, String>,
    /// `spec.subscriber.audience`: the `aud` of the token its deliveries carry.
    pub subscriber_audience: Option<String>,
    pub dead_letter: Option<Result<Url, String>>,
    pub dead_letter_audience: Option<String>,
    pub delivery: Delivery,
}

impl Route {
    /// The token a delivery of this Trigger carries to `audience`, signed as
    /// the Trigger's OIDC ServiceAccount (what Knative's broker filter sends).
    fn token(&self, signer: &Signer, audience: Option<&String>) -> Option<String> {
        audience.map(|aud| signer.token(&trigger_subject(&self.namespace, &self.name), aud))
    }
}

struct Envelope {
    namespace: String,
    broker: String,
    event: Event,
}

/// The running broker: cheap to clone, shared by the ingress handler, the
/// sources and the dispatcher.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    brokers: Vec<(String, String)>,
    routes: Vec<Route>,
    endpoints: Endpoints,
    client: reqwest::Client,
    queue: mpsc::Sender<Envelope>,
    signer: Signer,
}

impl Bus {
    /// Builds the routes and starts the dispatcher task.
    pub fn start(manifests: &Manifests, endpoints: Endpoints) -> Bus {
        // The issuer is the broker's own address: the functions read
        // <issuer>/.well-known/openid-configuration like an API server's.
        let signer = Signer::generate(endpoints.base.as_str());
        let url_of = |ns: &str, d: &Destination| -> Result<Url, String> {
            match endpoints.resolve(ns, d)? {
                Target::Url(u) => Ok(u),
                Target::Broker { name, .. } => Ok(endpoints.broker_url(&name)),
            }
        };
        let routes: Vec<Route> = manifests
            .triggers
            .iter()
            .map(|t| Route {
                namespace: t.namespace.clone(),
                name: t.name.clone(),
                broker: t.broker.clone(),
                filter: t.filter.clone(),
                subscriber: url_of(&t.namespace, &t.subscriber),
                subscriber_audience: t.subscriber.audience.clone(),
                dead_letter_audience: t
                    .delivery
                    .dead_letter_sink
                    .as_ref()
                    .and_then(|d| d.audience.clone()),
                dead_letter: t
                    .delivery
                    .dead_letter_sink
                    .as_ref()
                    .map(|d| url_of(&t.namespace, d)),
                delivery: t.delivery.clone(),
            })
            .collect();
        for r in &routes {
            if let Err(e) = &r.subscriber {
                tracing::warn!(trigger = %r.name, "subscriber unreachable: {e}; its events will go to the dead-letter sink");
            }
        }
        let (queue, rx) = mpsc::channel(QUEUE_CAPACITY);
        let bus = Bus {
            inner: Arc::new(Inner {
                brokers: manifests
                    .brokers
                    .iter()
                    .map(|b| (b.namespace.clone(), b.name.clone()))
                    .collect(),
                routes,
                endpoints,
                client: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .expect("a reqwest client with default TLS settings"),
                queue,
                signer,
            }),
        };
        tokio::spawn(bus.clone().dispatch(rx));
        bus
    }

    pub fn routes(&self) -> &[Route] {
        &self.inner.routes
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// The key the deliveries' tokens are signed with.
    pub fn signer(&self) -> &Signer {
        &self.inner.signer
    }

    /// Finds a Broker by `<name>` or `<namespace>/<name>`.
    fn find_broker(&self, namespace: Option<&str>, name: &str) -> Result<(String, String), String> {
        let found: Vec<&(String, String)> = self
            .inner
            .brokers
            .iter()
            .filter(|(ns, n)| n == name && namespace.is_none_or(|want| want == ns))
            .collect();
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(format!("no Broker {name:?} in the manifests")),
            _ => Err(format!(
                "Broker {name:?} exists in several namespaces: use /broker/<namespace>/{name}"
            )),
        }
    }

    /// Accepts an event for a Broker (what the ingress does after parsing);
    /// `false` when the queue is full (the ingress answers 503, a sender retries).
    pub fn publish(&self, namespace: &str, broker: &str, mut event: Event) -> bool {
        if event.extension(TTL_EXTENSION).is_none() {
            event.set_extension(TTL_EXTENSION, INITIAL_TTL);
        }
        event.set_extension("knativearrivaltime", chrono::Utc::now().to_rfc3339());
        match self.inner.queue.try_send(Envelope {
            namespace: namespace.to_string(),
            broker: broker.to_string(),
            event,
        }) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(e)) => {
                tracing::warn!(
                    id = e.event.id(),
                    "queue full ({QUEUE_CAPACITY} events): event refused"
                );
                false
            }
            // the receiver is gone only during shutdown, when losing events
            // is exactly the documented behaviour
            Err(mpsc::error::TrySendError::Closed(_)) => true,
        }
    }

    /// Sends a source's event to its sink: a Broker is published to; any
    /// other address gets one direct attempt (sources have no retry policy).
    pub async fn emit(&self, namespace: &str, sink: &Destination, event: Event) {
        match self.inner.endpoints.resolve(namespace, sink) {
            Ok(Target::Broker { namespace, name }) => {
                if !self.publish(&namespace, &name, event) {
                    tracing::warn!("source event dropped: the broker's queue is full");
                }
            }
            Ok(Target::Url(url)) => {
                let a = delivery::send_once(&self.inner.client, &url, event, None, None).await;
                if a.verdict != delivery::Verdict::Delivered {
                    tracing::warn!(%url, code = a.code, "source event not accepted by its sink");
                }
            }
            Err(e) => tracing::error!("source sink cannot be resolved: {e}"),
        }
    }

    async fn dispatch(self, mut rx: mpsc::Receiver<Envelope>) {
        while let Some(envelope) = rx.recv().await {
            let mut matched = 0;
            for route in self.inner.routes.iter().filter(|r| {
                r.namespace == envelope.namespace
                    && r.broker == envelope.broker
                    && r.filter.matches(&envelope.event)
            }) {
                matched += 1;
                tokio::spawn(self.clone().deliver(route.clone(), envelope.event.clone()));
            }
            tracing::debug!(
                r#type = envelope.event.ty(),
                id = envelope.event.id(),
                triggers = matched,
                "event dispatched"
            );
        }
    }

    async fn deliver(self, route: Route, mut event: Event) {
        let ttl = event
            .remove_extension(TTL_EXTENSION)
            .and_then(|v| v.to_string().parse::<i64>().ok())
            .unwrap_or(INITIAL_TTL);
        let (id, ty) = (event.id().to_string(), event.ty().to_string());
        let subscriber = match &route.subscriber {
            Ok(url) => url.clone(),
            Err(e) => {
                tracing::error!(trigger = %route.name, %id, "cannot deliver: {e}");
                let last = delivery::Attempt {
                    code: 500,
                    verdict: delivery::Verdict::Reject,
                    body: format!("dispatch error: {e}").into_bytes(),
                    reply: None,
                };
                let nowhere = Url::parse("http://unresolved.invalid/").expect("static URL");
                self.dead_letter(&route, &event, &nowhere, &last).await;
                return;
            }
        };
        let token = route.token(&self.inner.signer, route.subscriber_audience.as_ref());
        match delivery::deliver(
            &self.inner.client,
            &subscriber,
            &event,
            &route.delivery,
            token.as_deref(),
        )
        .await
        {
            Outcome::Delivered { attempts, reply } => {
                tracing::info!(trigger = %route.name, %id, r#type = %ty, attempts, "delivered");
                if let Some(mut reply) = reply {
                    if ttl <= 1 {
                        tracing::warn!(trigger = %route.name, reply_type = reply.ty(), "reply dropped: knativebrokerttl exhausted (a reply loop?)");
                        return;
                    }
                    reply.set_extension(TTL_EXTENSION, ttl - 1);
                    tracing::info!(trigger = %route.name, reply_type = reply.ty(), "reply re-enters the broker");
                    if !self.publish(&route.namespace, &route.broker, reply) {
                        tracing::warn!(trigger = %route.name, "reply dropped: the broker's queue is full");
                    }
                }
            }
            Outcome::Failed { attempts, last } => {
                tracing::warn!(trigger = %route.name, %id, r#type = %ty, attempts, code = last.code, "delivery failed");
                self.dead_letter(&route, &event, &subscriber, &last).await;
            }
        }
    }

    async fn dead_letter(
        &self,
        route: &Route,
        event: &Event,
        destination: &Url,
        last: &delivery::Attempt,
    ) {
        let Some(dls) = &route.dead_letter else {
            tracing::error!(trigger = %route.name, id = event.id(), "event dropped: no deadLetterSink");
            return;
        };
        let dls = match dls {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(trigger = %route.name, id = event.id(), "event dropped: deadLetterSink unresolved: {e}");
                return;
            }
        };
        let dead = delivery::dead_letter_event(event, destination, last);
        let policy = Delivery {
            dead_letter_sink: None,
            ..route.delivery.clone()
        };
        let token = route.token(&self.inner.signer, route.dead_letter_audience.as_ref());
        match delivery::deliver(&self.inner.client, dls, &dead, &policy, token.as_deref()).await {
            Outcome::Delivered { .. } => {
                tracing::info!(trigger = %route.name, id = event.id(), %dls, "dead-lettered")
            }
            Outcome::Failed { last, .. } => tracing::error!(
                trigger = %route.name,
                id = event.id(),
                code = last.code,
                "event lost: the deadLetterSink failed too"
            ),
        }
    }
}

// ------------------------------------------------------------------ ingress

/// `POST /broker/{name}`: binary or structured mode in, 202 out.
pub async fn ingress(State(bus): State<Bus>, Path(name): Path<String>, event: Event) -> Response {
    accept(&bus, None, &name, event)
}

/// `POST /broker/{namespace}/{name}`.
pub async fn ingress_namespaced(
    State(bus): State<Bus>,
    Path((namespace, name)): Path<(String, String)>,
    event: Event,
) -> Response {
    accept(&bus, Some(&namespace), &name, event)
}

fn accept(bus: &Bus, namespace: Option<&str>, name: &str, event: Event) -> Response {
    match bus.find_broker(namespace, name) {
        Ok((ns, n)) => {
            if bus.publish(&ns, &n, event) {
                StatusCode::ACCEPTED.into_response()
            } else {
                // back-pressure: the sender retries (Knative's contract for 503)
                let mut r = crate::gateway::problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Broker busy",
                    &format!("{QUEUE_CAPACITY} events are waiting; retry shortly"),
                );
                r.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static("1"),
                );
                r
            }
        }
        Err(e) => crate::gateway::problem(StatusCode::NOT_FOUND, "Unknown broker", &e),
    }
}

// ------------------------------------------------------------------ OIDC

/// `GET /.well-known/openid-configuration` of the deliveries' issuer.
pub async fn oidc_discovery(State(bus): State<Bus>) -> Response {
    axum::Json(bus.signer().discovery()).into_response()
}

/// `GET /openid/v1/jwks`: the public key the functions verify tokens with.
pub async fn oidc_jwks(State(bus): State<Bus>) -> Response {
    axum::Json(bus.signer().jwks().clone()).into_response()
}
