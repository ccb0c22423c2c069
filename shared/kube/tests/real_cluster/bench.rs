//! `make bench-kube`.

use std::time::{Duration, Instant};

use storefleet_kube::helm::StoreRelease;
use storefleet_kube::names::StoreId;
use storefleet_kube::namespace::{self};
use storefleet_kube::readiness::{self, ReadinessPolicy, Verdict};
use storefleet_kube::{Engine, secret};

use crate::support::*;

/// `make bench-kube`: the durations of the Kubernetes actions on the test
/// cluster, as a table (measured, never asserted). Ignored in `make test`.
#[tokio::test]
#[ignore = "a benchmark: run by `make bench-kube`"]
async fn bench_store_actions() {
    let Some(cluster) = cluster("bench_store_actions").await else {
        return;
    };
    let client = &cluster.client;
    let rounds: usize = std::env::var("STOREFLEET_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let histogram = storefleet_kube::helm::duration_histogram().unwrap();
    let helm = helm_for(&cluster, &fixture_chart(), vec![]).with_duration_histogram(histogram);
    let policy = ReadinessPolicy::for_engine(Engine::WooCommerce);
    let mut samples = Samples::default();
    for _ in 0..rounds {
        let id = StoreId::random();
        let store = StoreRelease {
            id: id.clone(),
            host: format!("{id}.localhost"),
        };
        let s = &mut samples;
        timed(
            s,
            "1 apply namespace",
            namespace::apply_store_namespace(client, &id, Engine::WooCommerce),
        )
        .await
        .unwrap();
        timed(
            s,
            "2 create secret",
            secret::ensure_store_secret(client, &id, "owner@example.com"),
        )
        .await
        .unwrap();
        timed(s, "3 helm upgrade --install", helm.upgrade_install(&store))
            .await
            .unwrap();
        let ready = until("ready", Duration::from_secs(120), async || {
            (readiness::observe(client, &id, &policy).await.unwrap() == Verdict::Ready)
                .then_some(())
        });
        timed(s, "4 observe until ready", ready).await;
        timed(s, "5 helm uninstall --wait", helm.uninstall(&id))
            .await
            .unwrap();
        timed(
            s,
            "6 delete namespace until gone",
            delete_and_wait(client, &id),
        )
        .await;
    }
    println!("\n| step ({rounds} rounds, test cluster) | min | median | max |\n|---|---|---|---|");
    for (step, mut durations) in samples {
        durations.sort();
        println!(
            "| {step} | {:.0} ms | {:.0} ms | {:.0} ms |",
            durations[0].as_secs_f64() * 1000.0,
            durations[durations.len() / 2].as_secs_f64() * 1000.0,
            durations[durations.len() - 1].as_secs_f64() * 1000.0
        );
    }
}

type Samples = std::collections::BTreeMap<&'static str, Vec<Duration>>;

async fn timed<T>(samples: &mut Samples, step: &'static str, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = work.await;
    samples.entry(step).or_default().push(started.elapsed());
    out
}
