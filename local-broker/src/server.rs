//! Putting it together: the gateway's listener (the API and the dashboard,
//! what a browser reaches), the broker ingress's own listener (what the
//! functions' `K_SINK` points at, and the issuer of the deliveries' tokens),
//! the sources, and the supervised functions.
//!
//! Two listeners because the gateway is the one address a developer opens
//! in a browser: any page the browser shows could post to it, and an event
//! posted to the ingress is trusted as the chain's own (a `store.failed`
//! with its reason). The ingress is on a port no page is served from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::routing::{any, get, post};
use reqwest::Url;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::broker::{self, Bus, Endpoints, Target};
use crate::held::HeldAddress;
use crate::manifest::Manifests;
use crate::{Error, Result, apiserver, gateway, ping, supervise};

#[derive(Debug, Clone)]
pub struct Options {
    pub manifests: Manifests,
    /// The gateway and the dashboard.
    pub listen: SocketAddr,
    /// The broker ingress (`/broker/...`) and the OIDC issuer's documents.
    pub ingress_listen: SocketAddr,
    /// Where the functions reach the ingress, when that is not
    /// `ingress_listen` itself (something in front forwards to it, as the
    /// test platform's held address does across broker restarts): the
    /// brokers' URLs (K_SINK) and the issuer of the deliveries' tokens.
    pub ingress_url: Option<Url>,
    /// Functions already running elsewhere: Service name -> base URL.
    pub functions: BTreeMap<String, Url>,
    /// Functions the broker starts: Service name -> binary.
    pub run: BTreeMap<String, PathBuf>,
    pub dashboard_dir: PathBuf,
    /// The mail catcher's web UI, told to the dashboard (`GET /config.json`).
    pub mail_url: Option<Url>,
    /// Emulate the ApiServerSources (needs a kubeconfig).
    pub apiserver_source: bool,
    /// Fire the PingSources.
    pub ping_source: bool,
    /// The listener's slow-client limits ([`Limits::default`] in the binary).
    pub limits: Limits,
}

/// What one client may hold of the listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client may take to send a request's headers: a connection
    /// that trickles them (slow loris) is closed.
    pub header_read_timeout: std::time::Duration,
    /// Connections served at once; more are closed at accept (a development
    /// gateway for one person needs a few dozen).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: std::time::Duration::from_secs(10),
            max_connections: 256,
        }
    }
}

/// A started broker; dropping it does not stop it, [`Running::shutdown`] does.
pub struct Running {
    /// The gateway's address.
    pub addr: SocketAddr,
    /// The broker ingress's address.
    pub ingress_addr: SocketAddr,
    pub bus: Bus,
    /// Whether each ApiServerSource emulation started (name -> started).
    pub apiserver_sources: BTreeMap<String, bool>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    servers: Vec<JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> Url {
        base_url(self.addr)
    }

    /// The base URL of the broker ingress (`<it>broker/<name>`).
    pub fn ingress_url(&self) -> Url {
        base_url(self.ingress_addr)
    }

    /// Stops the sources, the functions and the listener. Events still in
    /// the queue are dropped (as an InMemoryChannel's would be).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            t.abort();
        }
        for server in self.servers {
            let _ = server.await;
        }
    }
}

/// The broker ingress's listener: events in (`POST /broker/...`), and the
/// documents that let the functions verify the deliveries' tokens.
pub fn ingress_app(bus: Bus) -> Router {
    Router::new()
        .route("/broker/{name}", post(broker::ingress))
        .route(
            "/broker/{namespace}/{name}",
            post(broker::ingress_namespaced),
        )
        // the SDK's Event extractor reads the whole body: bound it first (413)
        .route_layer(tower_http::limit::RequestBodyLimitLayer::new(
            broker::INGRESS_BODY_LIMIT,
        ))
        .route("/healthz", get(|| async { "ok" }))
        // the OIDC issuer of the deliveries' tokens, at the API server's paths
        .route(
            "/.well-known/openid-configuration",
            get(broker::oidc_discovery),
        )
        .route("/openid/v1/jwks", get(broker::oidc_jwks))
        .with_state(bus)
}

/// `/broker/...` on the gateway's listener.
async fn not_the_ingress() -> axum::response::Response {
    gateway::problem(
        axum::http::StatusCode::NOT_FOUND,
        "Not Found",
        "the broker ingress is not on the gateway's address: post events to the ingress \
         listener (--ingress-listen, the functions' K_SINK)",
    )
}

/// The gateway's listener: the API, the dashboard and its configuration.
/// `/broker/...` is a 404 here (the ingress has its own listener), never
/// the dashboard.
pub fn app(bus: Bus, dashboard_dir: PathBuf, mail_url: Option<Url>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/config.json",
            get(move || async move { gateway::dashboard_config(mail_url.as_ref()) }),
        )
        .route("/broker", any(not_the_ingress))
        .route("/broker/{*rest}", any(not_the_ingress))
        .route("/api", any(gateway::api))
        // `/api/` is an API path too (404 problem), never the dashboard
        .route("/api/", any(gateway::api))
        .route("/api/{*rest}", any(gateway::api))
        .fallback(move |request: Request| gateway::dashboard(dashboard_dir.clone(), request))
        .with_state(bus)
        .layer(axum::middleware::from_fn(gateway::guard))
}

/// axum::serve with what it does not offer: hyper's header-read timeout and
/// a cap on open connections.
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt as _;
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let mut stopped = std::pin::pin!(stopped);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stopped => return,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                "{} connections open: a new one is closed",
                limits.max_connections
            );
            drop(stream);
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    app.clone().oneshot(request.map(axum::body::Body::new))
                },
            );
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout);
            if let Err(e) = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("connection: {e}");
            }
            drop(slot);
        });
    }
}

/// `http://<addr>/`.
fn base_url(addr: SocketAddr) -> Url {
    Url::parse(&format!("http://{addr}/")).expect("a socket address forms a URL")
}

async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Listen { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| Error::Listen { addr, source })?;
    Ok((listener, bound))
}

pub async fn start(options: Options) -> Result<Running> {
    let (listener, addr) = bind(options.listen).await?;
    let (ingress_listener, ingress_addr) = bind(options.ingress_listen).await?;
    // The functions' K_SINK and the tokens' issuer: the ingress listener,
    // or the address in front of it.
    let base = options
        .ingress_url
        .clone()
        .unwrap_or_else(|| base_url(ingress_addr));

    // Addresses for the functions the broker starts, held by the broker (no
    // port is picked free and bound later); their URLs join the table.
    let mut functions = options.functions.clone();
    let mut processes = Vec::new();
    for (name, path) in &options.run {
        if options.manifests.services.iter().all(|s| &s.name != name) {
            return Err(Error::Config(format!(
                "--run {name}: no Knative Service {name:?} in the manifests"
            )));
        }
        let port = match functions.get(name) {
            Some(url) => url
                .port_or_known_default()
                .ok_or_else(|| Error::Config(format!("--function {name}: {url} has no port")))?,
            None => 0,
        };
        let wanted = SocketAddr::from(([127, 0, 0, 1], port));
        let address =
            HeldAddress::bind(wanted, &tokio::runtime::Handle::current()).map_err(|source| {
                Error::Listen {
                    addr: wanted,
                    source,
                }
            })?;
        functions.insert(name.clone(), base_url(address.addr()));
        processes.push((name.clone(), path.clone(), Arc::new(address)));
    }
    for name in functions.keys() {
        if options.manifests.services.iter().all(|s| &s.name != name) {
            return Err(Error::Config(format!(
                "--function {name}: no Knative Service {name:?} in the manifests"
            )));
        }
    }
    let endpoints = Endpoints { base, functions };
    let bus = Bus::start(&options.manifests, endpoints.clone());

    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let bound_dir = std::env::temp_dir().join(format!("local-broker-{}", std::process::id()));
    if !processes.is_empty() {
        std::fs::create_dir_all(&bound_dir).map_err(|source| Error::Read {
            path: bound_dir.clone(),
            source,
        })?;
    }
    for (name, path, address) in processes {
        let mut env = BTreeMap::new();
        if let Some(binding) = options
            .manifests
            .sink_bindings
            .iter()
            .find(|b| b.subject_service == name)
        {
            let sink = match endpoints.resolve(&binding.namespace, &binding.sink) {
                Ok(Target::Broker { name, .. }) => endpoints.broker_url(&name),
                Ok(Target::Url(u)) => u,
                Err(e) => return Err(Error::Config(format!("SinkBinding {}: {e}", binding.name))),
            };
            env.insert("K_SINK".to_string(), sink.to_string());
        }
        // the functions verify the deliveries' tokens against this broker
        env.insert(
            "STOREFLEET_EVENTS_OIDC_ISSUER".to_string(),
            bus.signer().issuer().to_string(),
        );
        let process = supervise::Process {
            bound_file: bound_dir.join(&name),
            name: name.clone(),
            path,
            address,
            env,
        };
        let rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = supervise::supervise(process, rx).await {
                tracing::error!("{e}");
            }
        }));
    }

    if options.ping_source {
        for source in options.manifests.ping_sources.clone() {
            tasks.push(tokio::spawn(ping::run(bus.clone(), source)));
        }
    }
    let mut apiserver_sources = BTreeMap::new();
    if options.apiserver_source {
        for source in options.manifests.api_server_sources.clone() {
            let name = source.name.clone();
            let started = apiserver::start(bus.clone(), source).await;
            apiserver_sources.insert(name, started.is_some());
            tasks.extend(started.unwrap_or_default());
        }
    }

    let app = app(
        bus.clone(),
        options.dashboard_dir.clone(),
        options.mail_url.clone(),
    );
    let servers = vec![
        tokio::spawn(serve(listener, app, stop_rx.clone(), options.limits)),
        tokio::spawn(serve(
            ingress_listener,
            ingress_app(bus.clone()),
            stop_rx.clone(),
            options.limits,
        )),
    ];
    Ok(Running {
        addr,
        ingress_addr,
        bus,
        apiserver_sources,
        stop,
        tasks,
        servers,
    })
}
