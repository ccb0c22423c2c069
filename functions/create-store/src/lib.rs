//! create-store: `POST /api/stores` (validate, insert within quota, emit
//! `io.storefleet.store.requested`) and, in [`handlers`], the provisioning
//! step driven by that event.

pub mod handlers;
pub mod routes;

use axum::Router;
use storefleet_shared::context::Context;

/// This function emits CloudEvents, so it refuses to start without `K_SINK`.
pub const NEEDS_SINK: bool = true;

/// The whole router (pure: tests call it with their own context).
pub fn app(ctx: Context) -> Router {
    storefleet_shared::server::with_common_layers(
        Router::new()
            .merge(routes::router(ctx.clone()))
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
