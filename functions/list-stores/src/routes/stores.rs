//! `GET /api/stores`, `/api/stores/{id}`, `/events` (the activity log), `/credentials`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use storefleet_shared::auth::Caller;
use storefleet_shared::db::activity::{self, ActivityEntry};
use storefleet_shared::db::stores::{self, StoreView};
use storefleet_shared::domain::StoreId;
use storefleet_shared::{Error, Result};

type AppState = crate::State;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

// query parameters (utoipa's default is the path, which no client fills in)
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// 1 to 200 (default 50)
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoreList {
    pub stores: Vec<StoreView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

// A store's activity log (its schema keeps the API document's name
// `EventList`; a doc comment would become its description there).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = EventList)]
pub struct ActivityList {
    pub events: Vec<ActivityEntry>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    pub admin_user: String,
    pub admin_password: String,
    pub admin_url: String,
}

/// The caller's stores, newest first (deleted ones left out).
#[utoipa::path(
    get, path = "/api/stores", tag = "stores", params(ListParams),
    responses(
        (status = 200, body = StoreList),
        (status = 401, body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "limit out of range or cursor not valid", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(name = "list-stores.list", skip_all)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<StoreList>> {
    let Query(params) = params
        .map_err(|rejection| Error::Validation(format!("query: {}", rejection.body_text())))?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::Validation(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let page =
        stores::list_page(&state.ctx.pool, caller.id, limit, params.cursor.as_deref()).await?;
    Ok(Json(StoreList {
        stores: page.stores.iter().map(|s| s.view()).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One of the caller's stores.
#[utoipa::path(
    get, path = "/api/stores/{id}", tag = "stores",
    params(("id" = String, Path, description = "store id: 8 characters of [a-z0-9]", pattern = "^[a-z0-9]{8}$")),
    responses(
        (status = 200, body = StoreView),
        (status = 401, body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(name = "list-stores.get-one", skip_all, fields(store_id = %id))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StoreView>> {
    let id = StoreId::parse(&id)?;
    Ok(Json(
        stores::get_live_for_owner(&state.ctx.pool, caller.id, &id)
            .await?
            .view(),
    ))
}

/// The activity log of one of the caller's stores, oldest first.
#[utoipa::path(
    get, path = "/api/stores/{id}/events", tag = "stores", operation_id = "events",
    params(("id" = String, Path, description = "store id: 8 characters of [a-z0-9]", pattern = "^[a-z0-9]{8}$")),
    responses(
        (status = 200, body = ActivityList),
        (status = 401, body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(name = "list-stores.activity", skip_all, fields(store_id = %id))]
pub async fn activity(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ActivityList>> {
    let id = StoreId::parse(&id)?;
    let store = stores::get_live_for_owner(&state.ctx.pool, caller.id, &id).await?;
    Ok(Json(ActivityList {
        events: activity::list(&state.ctx.pool, &store.id).await?,
    }))
}

/// The store's WordPress admin login, read from its Secret (never stored in PostgreSQL).
#[utoipa::path(
    get, path = "/api/stores/{id}/credentials", tag = "stores",
    params(("id" = String, Path, description = "store id: 8 characters of [a-z0-9]", pattern = "^[a-z0-9]{8}$")),
    responses(
        (status = 200, body = Credentials),
        (status = 401, body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "the Secret is not readable yet", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(name = "list-stores.credentials", skip_all, fields(store_id = %id))]
pub async fn credentials(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let id = StoreId::parse(&id)?;
    let store = stores::get_live_for_owner(&state.ctx.pool, caller.id, &id).await?;
    let found = state.credentials.admin_credentials(&store.id).await?;
    let view = store.view();
    let mut response = Json(Credentials {
        admin_user: found.admin_user,
        admin_password: found.admin_password.expose().to_owned(),
        admin_url: view.urls.admin,
    })
    .into_response();
    // a password: never cached by the browser or a proxy
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
