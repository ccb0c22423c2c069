//! `DELETE /api/stores/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::delete;
use axum::{Json, Router};
use serde_json::json;
use storefleet_shared::Result;
use storefleet_shared::auth::Caller;
use storefleet_shared::context::Context;
use storefleet_shared::db::activity;
use storefleet_shared::db::stores::{self, StoreView};
use storefleet_shared::domain::{ActivityKind, EventType, StoreId};

pub fn router(ctx: Context) -> Router {
    Router::new()
        .route("/api/stores/{id}", delete(delete_store))
        .with_state(ctx)
}

/// Ask for a store's deletion: `202` with the store in `deleting`. Repeating it is harmless: while the deletion is under way a repeat sends no new event.
#[utoipa::path(
    delete, path = "/api/stores/{id}", tag = "stores",
    params(("id" = String, Path, description = "store id: 8 characters of [a-z0-9]", pattern = "^[a-z0-9]{8}$")),
    responses(
        (status = 202, description = "deletion started (or already under way)", body = StoreView),
        (status = 401, description = "missing or wrong token", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such store of yours", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(name = "delete-store.delete", skip_all, fields(store_id = tracing::field::Empty))]
pub async fn delete_store(
    State(ctx): State<Context>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<StoreView>)> {
    let id = StoreId::parse(&id)?;
    let (store, request) =
        stores::request_delete(&ctx.pool, caller.id, &id, ctx.config.chain.redrive_after).await?;
    tracing::Span::current().record("store_id", store.id.as_str());
    if request.emits() {
        // the teardown's events that carry no trace join the deletion's
        storefleet_shared::telemetry::store_trace::remember(&ctx.pool, store.id.as_str()).await;
    }
    // A repeat while the first request is in flight sends nothing; one after
    // the re-drive interval (or after a failed send) sends the event again,
    // so a teardown whose event was lost is re-driven by the owner too.
    if request.emits()
        && let Err(err) = ctx
            .emitter
            .emit(EventType::StoreDeleteRequested, &store.id, json!({}))
            .await
    {
        tracing::error!(store_id = %store.id, error = %err, "store.delete-requested not sent; the sweep will re-drive it");
        let mut conn = ctx.pool.acquire().await?;
        activity::append(
            &mut conn,
            &store.id,
            ActivityKind::EmitFailed,
            "the deletion event could not be sent; it will be retried",
            None,
        )
        .await?;
    }
    Ok((StatusCode::ACCEPTED, Json(store.view())))
}
