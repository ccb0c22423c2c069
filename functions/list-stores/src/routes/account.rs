//! `GET /api/me`, `GET /api/engines`, `POST /api/users`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use storefleet_shared::auth::{self, Caller, validate_name};
use storefleet_shared::db::stores;
use storefleet_shared::domain::Engine;
use storefleet_shared::{Error, Result, json};

type AppState = crate::State;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub name: String,
    pub max_stores: i32,
    pub active_stores: i64,
    pub is_admin: bool,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EngineView {
    #[serde(rename = "type")]
    pub engine: Engine,
    pub enabled: bool,
    pub description: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EngineList {
    pub engines: Vec<EngineView>,
}

/// The body of `POST /api/users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// 1 to 64 characters as for store names; unique ignoring case and Unicode compatibility forms (NFKC + case folding).
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// 0 to 10000; default: `STOREFLEET_DEFAULT_MAX_STORES`.
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(default, deserialize_with = "integral")]
    pub max_stores: Option<i32>,
    #[serde(default)]
    pub is_admin: bool,
}

/// The document says `integer`, and JSON Schema counts `3.0` as one (as
/// schemathesis found: `1734.0` was refused): accept an integral number
/// written with a fraction, refuse `3.5` and what does not fit an `i32`.
fn integral<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<i32>, D::Error> {
    use serde::de::Error as _;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= f64::from(i32::MAX))
                .map(|f| f as i64)
        })
        .and_then(|n| i32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format!("invalid value: {number}, expected a whole number"))
        })
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedUser {
    pub id: String,
    pub name: String,
    pub max_stores: i32,
    pub is_admin: bool,
    /// The bearer token: shown this once, stored only as a hash.
    pub token: String,
}

/// The caller and their quota.
#[utoipa::path(get, path = "/api/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = storefleet_shared::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[tracing::instrument(name = "list-stores.me", skip_all)]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<Me>> {
    let active_stores = stores::count_active(&state.ctx.pool, caller.id).await?;
    Ok(axum::Json(Me {
        name: caller.name,
        max_stores: caller.max_stores,
        active_stores,
        is_admin: caller.is_admin,
    }))
}

/// The store types Storefleet knows and whether this installation creates them.
#[utoipa::path(get, path = "/api/engines", tag = "account",
    responses((status = 200, body = EngineList), (status = 401, body = storefleet_shared::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[tracing::instrument(name = "list-stores.engines", skip_all)]
pub async fn engines(State(state): State<AppState>, _caller: Caller) -> axum::Json<EngineList> {
    axum::Json(EngineList {
        engines: Engine::ALL
            .iter()
            .map(|&engine| EngineView {
                engine,
                enabled: state.ctx.config.engine_enabled(engine),
                description: engine.description().to_owned(),
            })
            .collect(),
    })
}

/// `201`, `Cache-Control: no-store` and the user with its one-time token.
type UserCreated = (
    StatusCode,
    [(axum::http::HeaderName, &'static str); 1],
    axum::Json<CreatedUser>,
);

/// Create a user (admins only); the answer carries the token once.
#[utoipa::path(post, path = "/api/users", tag = "account", request_body = CreateUser,
    responses(
        (status = 201, body = CreatedUser, description = "the user and their token, shown once (Cache-Control: no-store)", headers(("Cache-Control" = String, description = "no-store: the token must not be cached"))),
        (status = 400, description = "the body is not JSON, or not a JSON object", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the caller is not an admin", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "the name is taken", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "body over 16 KiB", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "body without Content-Type: application/json", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(name = "list-stores.create-user", skip_all)]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    json::Json(body): json::Json<CreateUser>,
) -> Result<UserCreated> {
    if !caller.is_admin {
        return Err(Error::Forbidden("only admins can create users".into()));
    }
    let name = validate_name("name", &body.name)?;
    let max_stores = body
        .max_stores
        .unwrap_or(state.ctx.config.default_max_stores);
    if !(0..=10_000).contains(&max_stores) {
        return Err(Error::Validation(format!(
            "max_stores must be between 0 and 10000, got {max_stores}"
        )));
    }
    let (user, token) =
        auth::create_user(&state.ctx.pool, &name, max_stores, body.is_admin).await?;
    Ok((
        StatusCode::CREATED,
        // the token is shown once: no cache (browser, proxy) may keep it
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(CreatedUser {
            id: user.id.to_string(),
            name: user.name,
            max_stores: user.max_stores,
            is_admin: user.is_admin,
            token,
        }),
    ))
}
