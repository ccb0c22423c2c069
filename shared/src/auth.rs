//! Bearer tokens and users.
//!
//! A token is 32 random bytes, base64url; PostgreSQL keeps only its sha256
//! (hex). The token is shown once, when the user is created.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Error, Result};

/// The authenticated user of a request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Caller {
    pub id: Uuid,
    pub name: String,
    pub is_admin: bool,
    pub max_stores: i32,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token (256 bits).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "sft_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

impl<S> FromRequestParts<S> for Caller
where
    PgPool: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let token = bearer_token(&parts.headers)?;
        let pool = PgPool::from_ref(state);
        find_by_token(&pool, token)
            .await?
            .ok_or_else(|| Error::InvalidToken("the token is not valid".into()))
    }
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1). The scheme
/// is case-insensitive (RFC 9110 §11.1: `bearer` is `Bearer`). Two
/// Authorization headers are a malformed request (`400 invalid_request`):
/// which one a proxy or the server would pick is not defined.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(header) = values.next() else {
        return Err(Error::Unauthorized(
            "send Authorization: Bearer <token>".into(),
        ));
    };
    if values.next().is_some() {
        return Err(Error::InvalidAuthorization(
            "send one Authorization header, not several".into(),
        ));
    }
    let malformed =
        || Error::InvalidToken("the Authorization header must be \"Bearer <token>\"".into());
    let value = header.to_str().map_err(|_| malformed())?.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // another scheme (Basic …): no Bearer credentials at all, so the 401
        // carries no error code (RFC 6750 §3.1)
        return Err(Error::Unauthorized(
            "the Authorization scheme must be Bearer: send Authorization: Bearer <token>".into(),
        ));
    }
    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(malformed());
    }
    Ok(token)
}

pub async fn find_by_token(pool: &PgPool, token: &str) -> Result<Option<Caller>> {
    Ok(sqlx::query_as::<_, Caller>(
        "SELECT id, name, is_admin, max_stores FROM users WHERE token_hash = $1",
    )
    .bind(hash_token(token))
    .fetch_optional(pool)
    .await?)
}

/// Validate a user name: 1..=64 characters after trimming, no control characters.
pub fn validate_name(field: &str, raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::Validation(format!("{field} must not be empty")));
    }
    if name.chars().count() > 64 {
        return Err(Error::Validation(format!(
            "{field} is {} characters long; at most 64 are allowed",
            name.chars().count()
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Validation(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(name.to_owned())
}

/// Create a user; returns the user and the token (the only time it exists in clear).
pub async fn create_user(
    pool: &PgPool,
    name: &str,
    max_stores: i32,
    is_admin: bool,
) -> Result<(Caller, String)> {
    let token = new_token();
    let user = sqlx::query_as::<_, Caller>(
        "INSERT INTO users (id, name, token_hash, max_stores, is_admin) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO NOTHING
         RETURNING id, name, is_admin, max_stores",
    )
    .bind(Uuid::new_v4())
    .bind(name)
    .bind(hash_token(&token))
    .bind(max_stores)
    .bind(is_admin)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::Conflict(format!("a user named {name:?} already exists")))?;
    Ok((user, token))
}

/// Upsert the bootstrap admin `admin` with the configured token, so the token
/// in the Secret always works (rotating the Secret rotates the token).
pub async fn ensure_bootstrap_admin(pool: &PgPool, token: &str, max_stores: i32) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, name, token_hash, max_stores, is_admin) VALUES ($1, 'admin', $2, $3, true)
         ON CONFLICT (name) DO UPDATE SET token_hash = EXCLUDED.token_hash, is_admin = true",
    )
    .bind(Uuid::new_v4())
    .bind(hash_token(token))
    .bind(max_stores)
    .execute(pool)
    .await?;
    Ok(())
}
