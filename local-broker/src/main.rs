//! `local-broker`: the event chain of `knative/` without Knative. See docs/local-broker.md.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;
use local_broker::held;
use local_broker::manifest::Manifests;
use local_broker::server::{self, Options};
use reqwest::Url;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Routes CloudEvents between Storefleet's functions by the Triggers in knative/, emulates its sources, and serves the dev gateway"
)]
struct Cli {
    /// Directory of the Knative manifests to follow.
    #[arg(long, default_value = "knative", env = "LOCAL_BROKER_MANIFESTS")]
    manifests: PathBuf,
    /// Address of the gateway and the dashboard (loopback only).
    #[arg(long, default_value = "127.0.0.1:8080", env = "LOCAL_BROKER_LISTEN")]
    listen: SocketAddr,
    /// Address of the broker ingress, the functions' K_SINK (loopback only;
    /// a port of its own, so that no page the browser shows from the
    /// gateway can post events).
    #[arg(
        long,
        default_value = "127.0.0.1:8090",
        env = "LOCAL_BROKER_INGRESS_LISTEN"
    )]
    ingress_listen: SocketAddr,
    /// The URL the functions reach the ingress at, when something in front
    /// of --ingress-listen forwards to it (the test platform holds one
    /// address across broker restarts): their K_SINK and the issuer of the
    /// deliveries' tokens. Default: --ingress-listen's own URL.
    #[arg(long, value_name = "URL", env = "LOCAL_BROKER_INGRESS_URL", value_parser = parse_base_url)]
    ingress_url: Option<Url>,
    /// A function already running: NAME=URL, e.g. create-store=http://127.0.0.1:8081 (repeatable).
    #[arg(long = "function", value_name = "NAME=URL", value_parser = parse_function)]
    functions: Vec<(String, Url)>,
    /// A function the broker starts and restarts: NAME=PATH to its binary (repeatable).
    /// It gets PORT (from --function NAME=URL if given, else a free port), K_SERVICE and,
    /// when a SinkBinding names it, K_SINK; the rest of the environment is inherited.
    #[arg(long = "run", value_name = "NAME=PATH", value_parser = parse_run)]
    run: Vec<(String, PathBuf)>,
    /// The dashboard's built files (Vite's dist/).
    #[arg(
        long,
        default_value = "dashboard/dist",
        env = "LOCAL_BROKER_DASHBOARD_DIR"
    )]
    dashboard_dir: PathBuf,
    /// The mail catcher's web UI (scripts/dev: Mailpit), linked from the
    /// dashboard's header through `GET /config.json`.
    #[arg(long, value_name = "URL", env = "LOCAL_BROKER_MAIL_URL")]
    mail_url: Option<Url>,
    /// Do not emulate the ApiServerSources even if a kubeconfig is present.
    #[arg(long)]
    no_apiserver_source: bool,
    /// Do not fire the PingSources.
    #[arg(long)]
    no_ping_source: bool,
    /// Load and check the manifests, print what the broker would do, and exit.
    #[arg(long)]
    check: bool,
}

fn parse_function(s: &str) -> Result<(String, Url), String> {
    let (name, url) = s.split_once('=').ok_or("expected NAME=URL")?;
    Ok((name.to_string(), parse_base_url(url)?))
}

/// An http(s) URL that paths are joined onto (a trailing `/` added).
fn parse_base_url(s: &str) -> Result<Url, String> {
    let mut url = Url::parse(s).map_err(|e| format!("{s:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{s:?}: expected an http:// or https:// URL"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn parse_run(s: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = s.split_once('=').ok_or("expected NAME=PATH")?;
    Ok((name.to_string(), PathBuf::from(path)))
}

fn summary(m: &Manifests) {
    for b in &m.brokers {
        println!("broker   {}/{}", b.namespace, b.name);
    }
    for t in &m.triggers {
        let types = t
            .filter
            .exact_types()
            .map(|t| t.join(" | "))
            .unwrap_or_else(|| format!("{:?}", t.filter));
        let to = t
            .subscriber
            .reference
            .as_ref()
            .map(|r| r.name.as_str())
            .unwrap_or("<uri>");
        println!(
            "trigger  {:<24} {:<44} -> {}{} (retry {}, {:?} {:?}, timeout {:?})",
            t.name,
            types,
            to,
            t.subscriber.uri.as_deref().unwrap_or(""),
            t.delivery.retry,
            t.delivery.backoff_policy,
            t.delivery.backoff_delay,
            t.delivery.timeout
        );
    }
    for s in &m.api_server_sources {
        let kinds: Vec<&str> = s.resources.iter().map(|r| r.kind.as_str()).collect();
        println!("source   ApiServerSource {} ({})", s.name, kinds.join(", "));
    }
    for s in &m.ping_sources {
        println!("source   PingSource {} ({:?})", s.name, s.schedule);
    }
    for b in &m.sink_bindings {
        println!("binding  {} gets K_SINK", b.subject_service);
    }
    for (a, k, n) in &m.skipped {
        println!("skipped  {a} {k} {n} (not used for routing)");
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let manifests = Manifests::load_dir(&cli.manifests)
        .with_context(|| format!("loading {}", cli.manifests.display()))?;
    if cli.check {
        summary(&manifests);
        return Ok(());
    }
    for (flag, addr) in [
        ("--listen", cli.listen),
        ("--ingress-listen", cli.ingress_listen),
    ] {
        if !addr.ip().is_loopback() {
            bail!("{flag} {addr}: the local broker only listens on loopback addresses");
        }
    }
    if cli.listen == cli.ingress_listen && cli.listen.port() != 0 {
        bail!(
            "--listen and --ingress-listen are both {}: the ingress needs an address of its own",
            cli.listen
        );
    }
    let mut functions = BTreeMap::new();
    for (name, url) in cli.functions {
        if functions.insert(name.clone(), url).is_some() {
            bail!("--function {name} given twice");
        }
    }
    let mut run = BTreeMap::new();
    for (name, path) in cli.run {
        if run.insert(name.clone(), path).is_some() {
            bail!("--run {name} given twice");
        }
    }
    let running = server::start(Options {
        manifests,
        listen: cli.listen,
        ingress_listen: cli.ingress_listen,
        ingress_url: cli.ingress_url,
        functions,
        run,
        dashboard_dir: cli.dashboard_dir,
        mail_url: cli.mail_url,
        apiserver_source: !cli.no_apiserver_source,
        ping_source: !cli.no_ping_source,
        limits: Default::default(),
    })
    .await?;
    let base = running.url();
    tracing::info!("gateway and dashboard: {base}");
    // Port 0 given: whoever started the broker learns the ports it got.
    if let Some(file) = std::env::var_os(storefleet_shared::server::BOUND_ADDRESS_FILE) {
        held::write_bound(
            std::path::Path::new(&file),
            &[("gateway", running.addr), ("ingress", running.ingress_addr)],
        )
        .with_context(|| {
            format!(
                "cannot write the bound addresses to {} ({})",
                std::path::Path::new(&file).display(),
                storefleet_shared::server::BOUND_ADDRESS_FILE
            )
        })?;
    }
    for b in running
        .bus
        .routes()
        .iter()
        .map(|r| &r.broker)
        .collect::<std::collections::BTreeSet<_>>()
    {
        tracing::info!(
            "broker ingress (K_SINK): {}",
            running.bus.endpoints().broker_url(b)
        );
    }
    for (name, url) in &running.bus.endpoints().functions {
        tracing::info!("function {name}: {url}");
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    tracing::info!("stopping; events still queued are dropped (in-memory broker)");
    running.shutdown().await;
    Ok(())
}
