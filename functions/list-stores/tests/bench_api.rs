//! `make bench-api`: latency of the API against the real release binaries on
//! loopback, start-to-first-response time, idle RSS and binary sizes, printed
//! as a markdown table. Ignored in `cargo test`; `scripts/bench-api` runs it
//! with the binaries' paths and a scratch database. Figures are measured and
//! printed, never asserted.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use sqlx::PgPool;

const USERS: usize = 100;
const STORES_PER_USER: usize = 100;
const GET_REQUESTS: usize = 5_000;
const POST_REQUESTS: usize = 1_000;

struct Function {
    name: &'static str,
    binary: String,
    port: u16,
    child: Option<Child>,
    start_ms: f64,
    start_migrating_ms: f64,
    idle_rss_kib: u64,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Spawn and time until the first 200 on /healthz.
async fn start(f: &mut Function, sink: &str, migrate_on_start: bool) -> f64 {
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/healthz", f.port);
    let begin = Instant::now();
    let child = Command::new(&f.binary)
        .env("PORT", f.port.to_string())
        .env("STOREFLEET_LISTEN_ADDRESS", "127.0.0.1")
        .env("K_SINK", sink)
        // the event endpoints need an issuer to start; no delivery is made here
        .env("STOREFLEET_EVENTS_OIDC_ISSUER", "http://127.0.0.1:9")
        .env("K_SERVICE", f.name)
        .env("RUST_LOG", "warn")
        .env("STOREFLEET_MIGRATE_ON_START", migrate_on_start.to_string())
        // the bench measures the request path, not the rate limits (their
        // check is part of the path all the same)
        .env("STOREFLEET_RATE_LIMIT_PER_TOKEN", "1000000")
        .env("STOREFLEET_RATE_LIMIT_BURST", "1000000")
        .env("STOREFLEET_RATE_LIMIT_UNVERIFIED", "1000000")
        .env("STOREFLEET_RATE_LIMIT_UNVERIFIED_BURST", "1000000")
        .spawn()
        .unwrap_or_else(|err| panic!("{}: {err}", f.binary));
    loop {
        if let Ok(r) = client.get(&url).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            begin.elapsed() < Duration::from_secs(30),
            "{} did not start",
            f.name
        );
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    f.child = Some(child);
    begin.elapsed().as_secs_f64() * 1000.0
}

/// Stop a function started by [`start`] and wait for it to exit.
async fn stop(f: &mut Function) {
    let mut child = f.child.take().unwrap();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

async fn seed(pool: &PgPool) -> Vec<String> {
    let tokens: Vec<String> = (0..USERS)
        .map(|i| format!("bench-token-{i:04}-0123456789"))
        .collect();
    for (i, token) in tokens.iter().enumerate() {
        sqlx::query(
            "INSERT INTO users (id, name, name_key, token_hash, max_stores) VALUES ($1, $2, $2, $3, 100000)",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(format!("bench-{i:04}"))
        .bind(storefleet_shared::auth::hash_token(token))
        .execute(pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO stores (id, owner_id, name, type, namespace, url, status, ready_at, created_at)
         SELECT 'b' || lpad(n::text, 7, '0'), u.id, 'shop ' || n, 'woocommerce', 'store-b' || lpad(n::text, 7, '0'),
                'http://b' || lpad(n::text, 7, '0') || '.localhost', 'ready', now(), now() - make_interval(secs => n)
         FROM generate_series(0, $1 - 1) n
         JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS k FROM users WHERE name LIKE 'bench-%') u ON u.k = n % $2",
    )
    .bind((USERS * STORES_PER_USER) as i64)
    .bind(USERS as i64)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
    tokens
}

/// Sequential requests over one keep-alive connection; latency in µs.
async fn measure(
    n: usize,
    mut request: impl FnMut(usize) -> reqwest::RequestBuilder,
    expect: u16,
) -> Histogram<u64> {
    let mut hist = Histogram::<u64>::new(3).unwrap();
    for i in 0..n {
        let begin = Instant::now();
        let response = request(i).send().await.unwrap();
        let status = response.status().as_u16();
        response.bytes().await.unwrap();
        hist.record(begin.elapsed().as_micros() as u64).unwrap();
        assert_eq!(status, expect, "request {i}");
    }
    hist
}

fn ms(hist: &Histogram<u64>, q: f64) -> String {
    format!("{:.2}", hist.value_at_quantile(q) as f64 / 1000.0)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run by make bench-api"]
async fn bench_api() {
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL (a scratch database)");
    let dir = std::env::var("STOREFLEET_BENCH_BIN_DIR")
        .expect("STOREFLEET_BENCH_BIN_DIR (target/release)");

    // a CloudEvents sink that accepts everything, so create-store's emit is part of the measured path
    let sink_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = format!("http://{}/", sink_listener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(|| async { axum::http::StatusCode::ACCEPTED });
        axum::serve(sink_listener, app).await.unwrap();
    });

    let mut functions: Vec<Function> = [
        "list-stores",
        "create-store",
        "delete-store",
        "readiness-checker",
    ]
    .into_iter()
    .map(|name| Function {
        name,
        binary: format!("{dir}/{name}"),
        port: free_port(),
        child: None,
        start_ms: 0.0,
        start_migrating_ms: 0.0,
        idle_rss_kib: 0,
    })
    .collect();
    // The schema first, as the platform chart's migrations Job does it.
    let migrated = Command::new(&functions[0].binary)
        .arg("migrate")
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(migrated.success(), "list-stores migrate: {migrated}");
    // Each start is timed twice: as under `make dev` (the function checks
    // the migrations before serving: a database round trip) and as in a
    // cluster (STOREFLEET_MIGRATE_ON_START=false: the Job did it, and the
    // pool connects lazily); the second one keeps running for the load.
    for f in functions.iter_mut() {
        f.start_migrating_ms = start(f, &sink, true).await;
        stop(f).await;
        f.start_ms = start(f, &sink, false).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for f in functions.iter_mut() {
        f.idle_rss_kib = rss_kib(f.child.as_ref().unwrap().id());
    }

    let pool = PgPool::connect(&database_url).await.unwrap();
    let tokens = seed(&pool).await;
    let client = reqwest::Client::new();
    let list = format!("http://127.0.0.1:{}/api/stores", functions[0].port);
    let create = format!("http://127.0.0.1:{}/api/stores", functions[1].port);

    // warm-up: connections in the pools, pages in the cache
    measure(
        200,
        |i| client.get(&list).bearer_auth(&tokens[i % USERS]),
        200,
    )
    .await;
    let get = measure(
        GET_REQUESTS,
        |i| client.get(&list).bearer_auth(&tokens[(i * 7) % USERS]),
        200,
    )
    .await;
    let post = measure(
        POST_REQUESTS,
        |i| {
            client
                .post(&create)
                .bearer_auth(&tokens[(i * 13) % USERS])
                .json(&serde_json::json!({"type": "woocommerce", "name": format!("bench {i}")}))
        },
        202,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let loaded_rss: Vec<u64> = functions
        .iter()
        .map(|f| rss_kib(f.child.as_ref().unwrap().id()))
        .collect();

    println!(
        "\n### API (release binaries on loopback, {USERS} users, {} stores, sequential keep-alive requests)\n",
        USERS * STORES_PER_USER
    );
    println!("| request | n | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (what, n, h) in [
        ("GET /api/stores (first page of 50)", GET_REQUESTS, &get),
        ("POST /api/stores (202, event sent)", POST_REQUESTS, &post),
    ] {
        println!(
            "| {what} | {n} | {} | {} | {} | {:.2} |",
            ms(h, 0.5),
            ms(h, 0.9),
            ms(h, 0.99),
            h.max() as f64 / 1000.0
        );
    }
    println!("\n### Functions\n");
    println!(
        "| function | start to first /healthz ms (as in a cluster) | the same, migrations checked at start (make dev) ms | idle RSS MiB | RSS after load MiB | release binary MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (f, loaded) in functions.iter().zip(&loaded_rss) {
        let size = std::fs::metadata(&f.binary).unwrap().len() as f64 / (1024.0 * 1024.0);
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            f.name,
            f.start_ms,
            f.start_migrating_ms,
            f.idle_rss_kib as f64 / 1024.0,
            *loaded as f64 / 1024.0,
            size
        );
    }
    for f in functions.iter_mut() {
        stop(f).await;
    }
}
