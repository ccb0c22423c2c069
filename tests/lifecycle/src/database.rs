//! A fresh PostgreSQL database per test (`list-stores migrate` applies the
//! migrations before the functions start, as the platform chart's Job does).

use anyhow::Context as _;
use sqlx::{Connection, PgConnection};

/// `scripts/ensure-postgres`'s URL, unless `DATABASE_URL` says otherwise.
pub const DEFAULT_URL: &str = "postgres://storefleet:storefleet@127.0.0.1:5432/storefleet";

pub struct Database {
    /// The URL the functions get as `DATABASE_URL`.
    pub url: String,
    name: String,
    server_url: String,
}

impl Database {
    /// Create `lifecycle_<random>` on the server of `DATABASE_URL`.
    pub async fn fresh() -> anyhow::Result<Database> {
        let server_url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let name = format!("lifecycle_{}", crate::random_suffix());
        let mut conn = PgConnection::connect(&server_url)
            .await
            .with_context(|| format!("connect to {server_url} (run scripts/ensure-postgres)"))?;
        // `name` is `lifecycle_` and 8 characters of [a-z0-9], made here.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let (base, _) = server_url
            .split('?')
            .next()
            .unwrap_or(&server_url)
            .rsplit_once('/')
            .context("DATABASE_URL has no database path")?;
        Ok(Database {
            url: format!("{base}/{name}"),
            name,
            server_url,
        })
    }

    /// A connection to this database, for assertions on the schema's tables.
    pub async fn connect(&self) -> anyhow::Result<PgConnection> {
        Ok(PgConnection::connect(&self.url).await?)
    }

    /// Drop the database (its connections are closed by force).
    pub async fn remove(self) -> anyhow::Result<()> {
        let mut conn = PgConnection::connect(&self.server_url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await?;
        Ok(())
    }
}
