//! list-stores: the read side of the API and the account routes —
//! `GET /api/stores[/{id}[/events|/credentials]]`, `GET /api/me`,
//! `GET /api/engines`, `POST /api/users`, `GET /api/openapi.json`.

pub mod credentials;
pub mod openapi;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use sqlx::PgPool;
use storefleet_shared::context::Context;

pub use credentials::{CredentialsSource, KubeCredentials};

/// list-stores emits no events.
pub const NEEDS_SINK: bool = false;

/// The router's state: the shared context plus where credentials come from.
#[derive(Clone)]
pub struct State {
    pub ctx: Context,
    pub credentials: Arc<dyn CredentialsSource>,
}

impl FromRef<State> for Arc<storefleet_shared::rate_limit::RateLimits> {
    fn from_ref(state: &State) -> Self {
        state.ctx.rate_limits.clone()
    }
}

impl FromRef<State> for PgPool {
    fn from_ref(state: &State) -> PgPool {
        state.ctx.pool.clone()
    }
}

pub fn app(state: State) -> Router {
    let metrics =
        storefleet_shared::metrics::router(state.ctx.metrics.clone(), state.ctx.pool.clone());
    storefleet_shared::server::with_common_layers(routes::router(state).merge(metrics))
}

/// Credentials from the cluster of `KUBECONFIG` / the in-cluster ServiceAccount
/// (the client is built on first use, so the function starts without a cluster).
pub async fn app_from_env(ctx: Context) -> storefleet_shared::Result<Router> {
    Ok(app(State {
        ctx,
        credentials: Arc::new(KubeCredentials::default()),
    }))
}
