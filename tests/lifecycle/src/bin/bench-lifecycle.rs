//! `make bench-lifecycle`: the store lifecycle under load on the test
//! cluster, through the release binaries of the functions and the local
//! broker (docs/lifecycle-tests.md). Prints tables; asserts nothing.
//!
//! 1. N stores requested at once (the user's quota raised): time until all
//!    are `ready`, errors, and the most helm operations seen in flight
//!    against the cap (`STOREFLEET_MAX_HELM_IN_FLIGHT`).
//! 2. Event-to-status latency: the last pod of a store observed Ready (a
//!    watch of our own) → the store's `ready_at`, next to helm's install
//!    time from the activity log.
//! 3. M create → ready → delete → deleted cycles, then what is left:
//!    namespaces, PVCs, PVs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Parser;
use futures::{StreamExt, TryStreamExt};
use hdrhistogram::Histogram;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use storefleet_lifecycle::checks;
use storefleet_lifecycle::cluster::Cluster;
use storefleet_lifecycle::database::Database;
use storefleet_lifecycle::platform::{Options, Platform, StoreChart};

#[derive(Parser, Debug)]
#[command(about = "Storefleet's store lifecycle under load on the test cluster")]
struct Args {
    /// Stores requested at once.
    #[arg(long, default_value_t = 50)]
    stores: usize,
    /// Create/delete cycles.
    #[arg(long, default_value_t = 100)]
    cycles: usize,
    /// Cycles running at the same time.
    #[arg(long, default_value_t = 10)]
    cycle_concurrency: usize,
    /// STOREFLEET_MAX_HELM_IN_FLIGHT of create-store and delete-store.
    #[arg(long, default_value_t = 4)]
    helm_cap: usize,
    /// Bound of each phase.
    #[arg(long, default_value = "900")]
    limit_seconds: u64,
}

/// When each store's pods were observed Ready (the last one counts).
type PodsReady = Arc<Mutex<HashMap<String, DateTime<Utc>>>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let Some(cluster) = Cluster::connect("bench-lifecycle").await? else {
        anyhow::bail!("run it through `make bench-lifecycle` (it starts the cluster)");
    };
    let chart = StoreChart::selected();
    let limit = Duration::from_secs(args.limit_seconds);
    println!(
        "\n## Lifecycle bench (chart: {}, helm cap {}, 2 shared cores)\n",
        if chart.is_store_chart {
            "helm/store"
        } else {
            "shared/kube/fixtures/chart (shape: full)"
        },
        args.helm_cap
    );

    let pods_ready: PodsReady = Arc::default();
    let watch = tokio::spawn(watch_pods(cluster.admin.clone(), pods_ready.clone()));

    let db = Database::fresh().await?;
    let options = Options::new(chart.clone())
        .env(
            "STOREFLEET_DEFAULT_MAX_STORES",
            &(args.stores + args.cycles + 10).to_string(),
        )
        .env("STOREFLEET_MAX_HELM_IN_FLIGHT", &args.helm_cap.to_string())
        .env("RUST_LOG", "warn");
    let platform = Arc::new(Platform::start(&cluster, &db, "bench", options).await?);

    // 1. N stores at once
    let helm_peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sampler = tokio::spawn(sample_helm_in_flight(
        cluster.helm.clone(),
        format!(
            "KUBECONFIG={}",
            platform
                .dir
                .join("kubeconfigs/create-store.kubeconfig")
                .display()
        ),
        helm_peak.clone(),
    ));
    let started = Instant::now();
    let requests = futures::stream::iter(0..args.stores)
        .map(|i| {
            let platform = platform.clone();
            async move { platform.create_store(&format!("Bench {i}")).await }
        })
        .buffer_unordered(args.stores)
        .collect::<Vec<_>>()
        .await;
    let request_errors = requests.iter().filter(|r| r.is_err()).count();
    let ids: Vec<String> = requests
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect();
    let finals = futures::stream::iter(ids.clone())
        .map(|id| {
            let platform = platform.clone();
            async move { final_status(&platform, &id, limit).await }
        })
        .buffer_unordered(args.stores)
        .collect::<Vec<_>>()
        .await;
    let all_ready_after = started.elapsed();
    sampler.abort();
    let ready: Vec<&Value> = finals.iter().filter(|s| s["status"] == "ready").collect();
    let failed: Vec<&Value> = finals.iter().filter(|s| s["status"] != "ready").collect();
    println!("### {} stores requested at once\n", args.stores);
    println!("| measure | value |\n|---|---|");
    println!(
        "| time until all ready | {:.1} s |",
        all_ready_after.as_secs_f64()
    );
    println!("| ready | {} |", ready.len());
    println!("| request errors | {request_errors} |");
    println!("| not ready (failed or timed out) | {} |", failed.len());
    println!(
        "| most helm operations in flight (cap {}) | {} |",
        args.helm_cap,
        helm_peak.load(std::sync::atomic::Ordering::SeqCst)
    );
    // Why the others did not become ready, grouped by the start of the reason.
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for store in &failed {
        let reason = store["failure_reason"]
            .as_str()
            .unwrap_or("(still provisioning)");
        // names with digits (pods, namespaces, volumes) differ per store
        let general: Vec<&str> = reason
            .split_whitespace()
            .map(|w| {
                if w.chars().any(|c| c.is_ascii_digit()) {
                    "*"
                } else {
                    w
                }
            })
            .collect();
        let head: String = general.join(" ").chars().take(90).collect();
        *reasons.entry(head).or_default() += 1;
    }
    for (reason, n) in reasons {
        println!("| not ready because: {} | {n} |", reason.replace('|', "/"));
    }

    // 2. latency: last pod Ready → store ready, next to helm install time
    let mut latency = Histogram::<u64>::new(3)?;
    let mut helm = Histogram::<u64>::new(3)?;
    let mut missing = 0;
    for store in &ready {
        let id = store["id"].as_str().unwrap_or_default();
        let ready_at: Option<DateTime<Utc>> =
            store["ready_at"].as_str().and_then(|s| s.parse().ok());
        let pods_at = pods_ready
            .lock()
            .expect("the pod watcher panicked while holding the readiness map")
            .get(&format!("store-{id}"))
            .copied();
        match (ready_at, pods_at) {
            (Some(ready_at), Some(pods_at)) => {
                latency.record((ready_at - pods_at).num_milliseconds().max(0) as u64)?;
            }
            _ => missing += 1,
        }
        if let Ok(events) = platform.events(id).await
            && let Some(seconds) = events
                .iter()
                .find(|e| e["kind"] == "installed")
                .and_then(|e| e["detail"]["helm_seconds"].as_f64())
        {
            helm.record((seconds * 1000.0) as u64)?;
        }
    }
    println!("\n### Event-to-status latency ({} stores)\n", ready.len());
    println!("| measure | p50 | p95 | max | n |\n|---|---|---|---|---|");
    row("last pod Ready → store ready", &latency);
    row("helm upgrade --install (create-store)", &helm);
    if missing > 0 {
        println!("\n({missing} stores without a pod-ready observation are left out)");
    }

    // clean up the N stores before the cycles
    let deletions = futures::stream::iter(ids.clone())
        .map(|id| {
            let platform = platform.clone();
            async move {
                platform.delete_store(&id).await?;
                platform.wait_for_status(&id, "deleted", limit).await
            }
        })
        .buffer_unordered(args.stores)
        .collect::<Vec<_>>()
        .await;
    let deletion_errors = deletions.iter().filter(|r| r.is_err()).count();

    // 3. create/delete cycles
    let started = Instant::now();
    let cycles = futures::stream::iter(0..args.cycles)
        .map(|i| {
            let platform = platform.clone();
            async move {
                let store = platform.create_store(&format!("Cycle {i}")).await?;
                let id = store["id"].as_str().context("an id")?.to_owned();
                let ready = platform.wait_for_status(&id, "ready", limit).await;
                platform.delete_store(&id).await?;
                platform.wait_for_status(&id, "deleted", limit).await?;
                ready
                    .map(|_| id.clone())
                    .map_err(|err| (id, err))
                    .or_else(|(id, err)| {
                        eprintln!("cycle {i}: {err:#}");
                        Ok::<_, anyhow::Error>(format!("!{id}"))
                    })
            }
        })
        .buffer_unordered(args.cycle_concurrency)
        .collect::<Vec<_>>()
        .await;
    let cycles_took = started.elapsed();
    let cycle_errors = cycles.iter().filter(|r| r.is_err()).count();
    let not_ready = cycles
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|id| id.starts_with('!')))
        .count();
    let mut cycle_ids: Vec<String> = cycles
        .into_iter()
        .filter_map(Result::ok)
        .map(|id| id.trim_start_matches('!').to_owned())
        .collect();
    cycle_ids.extend(ids);
    // what is left once deletions had a minute to finish
    let _ = checks::nothing_left(&cluster.admin, &cycle_ids, Duration::from_secs(60)).await;
    let left = checks::leftovers(&cluster.admin, &cycle_ids).await?;
    println!(
        "\n### {} create → ready → delete → deleted cycles ({} at a time)\n",
        args.cycles, args.cycle_concurrency
    );
    println!("| measure | value |\n|---|---|");
    println!("| wall time | {:.1} s |", cycles_took.as_secs_f64());
    println!("| cycles with an error | {cycle_errors} |");
    println!("| cycles whose store was not ready | {not_ready} |");
    println!(
        "| deletions of the {} stores above that failed | {deletion_errors} |",
        args.stores
    );
    println!("| namespaces left | {} |", left.namespaces);
    println!("| PVCs left | {} |", left.pvcs);
    println!("| PVs left | {} |", left.pvs);

    watch.abort();
    drop(platform);
    db.remove().await?;
    Ok(())
}

fn row(what: &str, h: &Histogram<u64>) {
    if h.is_empty() {
        println!("| {what} | – | – | – | 0 |");
        return;
    }
    println!(
        "| {what} | {} ms | {} ms | {} ms | {} |",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.95),
        h.max(),
        h.len()
    );
}

/// The store's status once it is final (`ready`, `failed`) or at the limit.
async fn final_status(platform: &Platform, id: &str, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        if let Ok(store) = platform.store(id).await
            && (store["status"] == "ready"
                || store["status"] == "failed"
                || started.elapsed() > limit)
        {
            return store;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Watch every store pod; remember, per namespace, when its pods were last
/// seen becoming Ready.
async fn watch_pods(client: kube::Client, ready: PodsReady) {
    let pods: Api<Pod> = Api::all(client);
    let config = watcher::Config::default().labels("storefleet.io/store-id");
    let mut seen: BTreeMap<String, bool> = BTreeMap::new();
    let mut stream = watcher(pods, config).applied_objects().boxed();
    while let Ok(Some(pod)) = stream.try_next().await {
        let now = Utc::now();
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let key = format!("{ns}/{}", pod.metadata.name.clone().unwrap_or_default());
        let is_ready = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        let was_ready = seen.insert(key, is_ready).unwrap_or(false);
        if is_ready && !was_ready {
            ready
                .lock()
                .expect("a reader panicked while holding the readiness map")
                .insert(ns, now);
        }
    }
}

/// Sample how many `helm upgrade` processes of this bench's create-store
/// (told apart by their KUBECONFIG) run at once.
async fn sample_helm_in_flight(
    helm: std::path::PathBuf,
    kubeconfig_env: String,
    peak: Arc<std::sync::atomic::AtomicUsize>,
) {
    let helm = helm.display().to_string();
    loop {
        let mut n = 0;
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                    continue;
                };
                let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
                if args.first().is_some_and(|a| *a == helm.as_bytes())
                    && args.iter().any(|a| *a == b"upgrade")
                    && std::fs::read(entry.path().join("environ")).is_ok_and(|env| {
                        env.split(|b| *b == 0)
                            .any(|v| v == kubeconfig_env.as_bytes())
                    })
                {
                    n += 1;
                }
            }
        }
        peak.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
