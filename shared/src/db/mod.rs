//! The data layer: the PostgreSQL pool, the migrations (`migrations/` at the
//! workspace root) and every SQL statement of the functions, one module per
//! table or concern. Nothing outside this module writes SQL (tests aside).
//!
//! Every statement is a compile-time-checked macro (`sqlx::query!`,
//! `query_as!`, `query_scalar!`): the build checks each one against the
//! schema — its columns, their types and nullability, its parameters. Builds
//! read that schema from the committed `.sqlx/` (`SQLX_OFFLINE=true` in
//! `.cargo/config.toml`), so they need no database; `make sqlx-prepare`
//! rewrites `.sqlx/` after a query changes and `make lint-sqlx` fails when it
//! is stale (docs/development.md, "Changing a query").
//!
//! - [`stores`]: the store row, its JSON view, its guarded transitions and
//!   [`stores::fail`], the one way a store becomes `failed`.
//! - [`activity`]: the store's activity log (`store_events`).
//! - [`dedup`]: handled CloudEvents (`processed_events`).
//! - [`lease`]: the per-store operation lease (`stores.operation_lease_*`).
//! - [`sweep_claim`]: one readiness sweep per interval (`sweep_claim`).
//! - [`users`]: users and their token hashes (`users`).
//! - [`trace`]: the trace context a store remembers (`stores.trace_*`).

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::{Config, Result};

pub mod activity;
pub mod dedup;
pub mod lease;
pub mod stores;
pub mod sweep_claim;
pub mod trace;
pub mod users;

/// The migrations, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Connect lazily: a function starts (and answers `/healthz`) before the
/// first query needs the database, which keeps cold starts short.
pub fn pool(config: &Config) -> Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy(config.database_url.expose_secret())?)
}

/// Apply pending migrations (sqlx takes an advisory lock, so concurrent
/// starts of several functions are safe).
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// How many migrations the database has applied successfully.
pub async fn applied_migrations(pool: &PgPool) -> Result<i64> {
    Ok(
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM _sqlx_migrations WHERE success"#)
            .fetch_one(pool)
            .await?,
    )
}
