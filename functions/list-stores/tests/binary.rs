//! The built binary starts on a loopback port, answers /healthz and exits 0 on SIGTERM.

#![allow(
    clippy::unwrap_used,
    reason = "test code: clippy.toml's allow-unwrap-in-tests misses the helpers of tests/ (rust-clippy#11119)"
)]

#[test]
fn starts_answers_and_stops_on_sigterm() {
    if std::env::var_os("DATABASE_URL").is_none() {
        panic!("DATABASE_URL must point at a PostgreSQL server (make test-rust sets it)");
    }
    let status =
        storefleet_shared::testing::start_answer_and_stop(env!("CARGO_BIN_EXE_list-stores"));
    assert!(status.success(), "exit status {status}");
}

/// `list-stores migrate` (what the platform chart's migrations Job runs)
/// applies every migration to an empty database and exits 0 instead of
/// serving.
#[sqlx::test(migrations = false)]
async fn migrate_applies_every_migration_and_exits(pool: sqlx::PgPool) {
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let url = format!("{}/{db}", base.rsplit_once('/').unwrap().0);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_list-stores"))
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("PORT", "1") // it must not try to serve
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let status = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait())
        .await
        .expect("`migrate` exits instead of serving")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&pool)
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count();
    assert_eq!(applied as usize, files, "every migration applied");
    let stores: i64 = sqlx::query_scalar("SELECT count(*) FROM stores")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stores, 0);
}

#[test]
fn an_unknown_argument_is_refused_with_the_usage() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_list-stores"))
        .arg("migrat")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("migrate") && stderr.contains("Usage"),
        "{stderr}"
    );
}
