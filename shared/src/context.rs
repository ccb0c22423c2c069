//! The state every function's router shares (controller-rs' `Context`):
//! the pool, the configuration, the CloudEvent emitter, the metrics and
//! the Kubernetes side of the event handlers.

use std::sync::Arc;

use axum::extract::FromRef;
use secrecy::ExposeSecret;
use sqlx::PgPool;

use crate::Config;
use crate::chain::Cluster;
use crate::chain::oidc::DeliveryAuth;
use crate::events::Emitter;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimits;

#[derive(Clone)]
pub struct Context {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub emitter: Emitter,
    pub metrics: Metrics,
    /// The Kubernetes side of the event handlers (built lazily).
    pub cluster: Cluster,
    /// Verifies the OIDC tokens of event deliveries (`None`: no issuer set).
    pub delivery_auth: Option<DeliveryAuth>,
    /// The API's per-token rate limits (one set per process).
    pub rate_limits: Arc<RateLimits>,
}

impl FromRef<Context> for Arc<RateLimits> {
    fn from_ref(ctx: &Context) -> Arc<RateLimits> {
        ctx.rate_limits.clone()
    }
}

impl FromRef<Context> for PgPool {
    fn from_ref(ctx: &Context) -> PgPool {
        ctx.pool.clone()
    }
}

/// Read the configuration, build the pool and apply migrations: the start of every `main`.
pub async fn start(function: &str, needs_sink: bool) -> crate::Result<Context> {
    crate::telemetry::init(function);
    let config = Config::from_env()?;
    let emitter = if needs_sink {
        Emitter::new(config.require_sink()?, function)?
            .with_token_file(config.k_sink_token_file.as_deref())
    } else {
        Emitter::without_sink(function)
    };
    let metrics = Metrics::new()?;
    let cluster = Cluster::new(&config, &metrics)?;
    let delivery_auth = config
        .chain
        .delivery_auth
        .clone()
        .map(DeliveryAuth::new)
        .transpose()?;
    let pool = crate::db::pool(&config)?;
    if config.migrate_on_start {
        crate::db::migrate(&pool).await?;
    }
    if let Some(token) = &config.bootstrap_admin_token {
        crate::auth::ensure_bootstrap_admin(
            &pool,
            token.expose_secret(),
            config.default_max_stores,
        )
        .await?;
    }
    Ok(Context {
        pool,
        rate_limits: Arc::new(RateLimits::new(config.rate_limits)),
        config: Arc::new(config),
        emitter,
        metrics,
        cluster,
        delivery_auth,
    })
}

/// `<function> migrate`: apply every pending migration to `DATABASE_URL` and
/// return (the platform chart's migrations Job; sqlx takes an advisory lock,
/// so it is safe beside starting functions).
pub async fn migrate_only(function: &str) -> crate::Result<()> {
    crate::telemetry::init(function);
    let config = Config::from_env()?;
    let pool = crate::db::pool(&config)?;
    crate::db::migrate(&pool).await?;
    let applied = crate::db::applied_migrations(&pool).await?;
    tracing::info!(function, applied, "migrations applied; exiting");
    pool.close().await;
    Ok(())
}
