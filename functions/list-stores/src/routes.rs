//! The routes of list-stores, grouped by resource.

pub mod account;
pub mod stores;

use axum::Router;
use axum::routing::{get, post};

use crate::State;

pub fn router(state: State) -> Router {
    Router::new()
        .route("/api/stores", get(stores::list))
        .route("/api/stores/{id}", get(stores::get_one))
        .route("/api/stores/{id}/events", get(stores::activity))
        .route("/api/stores/{id}/credentials", get(stores::credentials))
        .route("/api/me", get(account::me))
        .route("/api/engines", get(account::engines))
        .route("/api/users", post(account::create_user))
        .route("/api/openapi.json", get(crate::openapi::serve))
        .with_state(state)
}
