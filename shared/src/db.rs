//! The PostgreSQL pool and the migrations (`migrations/` at the workspace root).

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::{Config, Result};

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
