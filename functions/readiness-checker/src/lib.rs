//! readiness-checker: no public API routes; its CloudEvent handlers
//! (readiness, the sweep, dead letters) live in [`handlers`].

pub mod dead_letters;
pub mod handlers;
pub mod reconcile;
pub mod sweep;

use axum::Router;
use storefleet_shared::context::Context;

/// This function emits CloudEvents (`store.ready`/`.failed`), so it needs `K_SINK`.
pub const NEEDS_SINK: bool = true;

pub fn app(ctx: Context) -> Router {
    storefleet_shared::server::with_common_layers(
        Router::new()
            .merge(storefleet_shared::metrics::router(
                ctx.metrics.clone(),
                ctx.pool.clone(),
            ))
            .merge(handlers::router(ctx)),
    )
}

pub async fn app_from_env(ctx: Context) -> storefleet_shared::Result<Router> {
    storefleet_shared::chain::oidc::require_configured(&ctx.config)?;
    Ok(app(ctx))
}
