//! `make bench-chain`: event-to-status latencies of the whole chain (the
//! local broker, the real function binaries, PostgreSQL, the test cluster and
//! the real helm with the fixture chart), as a table. Measured, never asserted.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

mod chain_support;

use std::time::{Duration, Instant};

use chain_support::{Chain, Options, kube};
use sqlx::PgPool;

const ROUNDS: usize = 5;

#[sqlx::test(migrations = "../../migrations")]
#[ignore = "a benchmark: make bench-chain"]
async fn bench_chain(pool: PgPool) {
    let Some(kube) = kube("bench_chain").await else {
        return;
    };
    let chain = Chain::start(pool, Some(&kube), Options::default()).await;
    let mut rows: Vec<(&str, Vec<f64>)> = vec![
        ("POST /api/stores → 202 (through the gateway)", vec![]),
        (
            "requested → installed (create-store: namespace, Secret, RoleBinding, helm)",
            vec![],
        ),
        (
            "installed → ready (readiness-checker, ApiServerSource events)",
            vec![],
        ),
        ("POST → ready, as the client polls it", vec![]),
        ("DELETE → 202", vec![]),
        ("DELETE → deleted, as the client polls it", vec![]),
    ];
    for round in 0..ROUNDS {
        let started = Instant::now();
        let id = chain.create_store(&format!("Bench shop {round}")).await;
        rows[0].1.push(ms(started.elapsed()));
        poll(&chain, &id, "ready").await;
        rows[3].1.push(ms(started.elapsed()));
        let at = |kind: &'static str| {
            let chain = &chain;
            let id = id.clone();
            async move {
                let at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
                    "SELECT min(at) FROM store_events WHERE store_id = $1 AND kind = $2",
                )
                .bind(&id)
                .bind(kind)
                .fetch_one(&chain.pool)
                .await
                .unwrap();
                at
            }
        };
        let (requested, installed, ready) = (
            at("requested").await,
            at("installed").await,
            at("ready").await,
        );
        rows[1]
            .1
            .push((installed - requested).num_microseconds().unwrap() as f64 / 1000.0);
        rows[2]
            .1
            .push((ready - installed).num_microseconds().unwrap() as f64 / 1000.0);
        let started = Instant::now();
        let (status, _) = chain
            .api("DELETE", &format!("/api/stores/{id}"), None)
            .await;
        assert_eq!(status, 202);
        rows[4].1.push(ms(started.elapsed()));
        poll(&chain, &id, "deleted").await;
        rows[5].1.push(ms(started.elapsed()));
    }
    println!(
        "\nEvent chain, {ROUNDS} stores one after another (fixture chart on the test cluster; ms)\n"
    );
    println!("| step | min | median | max |");
    println!("|---|---|---|---|");
    for (step, mut samples) in rows {
        samples.sort_by(f64::total_cmp);
        println!(
            "| {step} | {:.0} | {:.0} | {:.0} |",
            samples[0],
            samples[samples.len() / 2],
            samples[samples.len() - 1]
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn poll(chain: &Chain, id: &str, status: &str) {
    let started = Instant::now();
    while chain.status(id).await != status {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "{id} never {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
