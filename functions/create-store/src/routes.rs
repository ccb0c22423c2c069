//! `POST /api/stores`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use storefleet_shared::auth::{Caller, validate_name};
use storefleet_shared::context::Context;
use storefleet_shared::db::activity;
use storefleet_shared::db::stores::{self, Created, NewStore, StoreView};
use storefleet_shared::domain::{ActivityKind, Engine, EventType, Status};
use storefleet_shared::{Error, Result, json};

pub fn router(ctx: Context) -> Router {
    Router::new()
        .route("/api/stores", post(create))
        .with_state(ctx)
}

/// The body of `POST /api/stores`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStore {
    /// `woocommerce` or `medusa` (see `GET /api/engines` for what is enabled).
    #[serde(rename = "type")]
    #[schema(example = "woocommerce", value_type = storefleet_shared::domain::Engine)]
    pub engine: String,
    /// 1 to 64 characters, no control, invisible (Unicode Cf) or line/paragraph separator characters; surrounding whitespace is trimmed (the `pattern` is the exact rule).
    #[schema(example = "Demo shop", min_length = 1, max_length = 64)]
    pub name: String,
}

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            Error::Validation(
                "Idempotency-Key must be 1 to 255 visible ASCII characters (e.g. a UUID)".into(),
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// Create a store: `202` with the store and its `Location`.
#[utoipa::path(
    post, path = "/api/stores", tag = "stores",
    request_body = CreateStore,
    params(("Idempotency-Key" = Option<String>, Header, description = "same key and same body: the same store, no second one", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    responses(
        (status = 202, description = "provisioning started", body = StoreView),
        (status = 400, description = "the body is not JSON, or not a JSON object", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "missing or wrong token", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "quota exceeded", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "body over 16 KiB", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "body without Content-Type: application/json", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid field, unknown or disabled type, reused Idempotency-Key", body = storefleet_shared::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(name = "create-store.create", skip_all, fields(store_id = tracing::field::Empty))]
pub async fn create(
    State(ctx): State<Context>,
    caller: Caller,
    headers: HeaderMap,
    json::Json(body): json::Json<CreateStore>,
) -> Result<Response> {
    let engine: Engine =
        body.engine
            .parse()
            .map_err(|err: storefleet_shared::domain::UnknownEngine| {
                Error::Validation(err.to_string())
            })?;
    if !ctx.config.engine_enabled(engine) {
        return Err(Error::EngineDisabled(format!(
            "store type {:?} is not enabled in this installation (enabled: {})",
            engine.as_str(),
            ctx.config
                .engines
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let name = validate_name("name", &body.name)?;
    let key = idempotency_key(&headers)?;
    let request_hash = hex::encode(Sha256::digest(format!("{}\n{}", engine.as_str(), name)));

    let created = stores::insert_within_quota(
        &ctx.pool,
        &ctx.config,
        NewStore {
            owner_id: caller.id,
            name: &name,
            engine,
            idempotency_key: key.as_deref(),
            request_hash: &request_hash,
        },
    )
    .await?;
    let store = match created {
        Created::New(store) => {
            // the events of its provisioning that carry no trace join this one
            storefleet_shared::telemetry::store_trace::remember(&ctx.pool, store.id.as_str()).await;
            store
        }
        Created::Replayed(store) => store,
    };
    tracing::Span::current().record("store_id", store.id.as_str());
    // Emit after the commit. A lost event does not lose the store: the sweep
    // re-drives stores still provisioning (see storefleet_shared::events).
    if store.status == Status::Provisioning
        && let Err(err) = ctx
            .emitter
            .emit(
                EventType::StoreRequested,
                &store.id,
                json!({ "type": store.engine }),
            )
            .await
    {
        tracing::error!(store_id = %store.id, error = %err, "store.requested not sent; the sweep will re-drive it");
        let mut conn = ctx.pool.acquire().await?;
        activity::append(
            &mut conn,
            &store.id,
            ActivityKind::EmitFailed,
            "the provisioning event could not be sent; it will be retried",
            None,
        )
        .await?;
    }
    let location = HeaderValue::from_str(&format!("/api/stores/{}", store.id))
        .map_err(|err| Error::Internal(err.to_string()))?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(store.view()),
    )
        .into_response())
}
