//! Users (`users`): looked up by their token's hash, created with a unique
//! name key, the bootstrap admin upserted, and the owner's quota read under
//! a row lock when a store is created.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::Result;
use crate::auth::Caller;

/// The user whose token hashes to `token_hash`.
pub async fn find_by_token_hash(pool: &PgPool, token_hash: &str) -> Result<Option<Caller>> {
    Ok(sqlx::query_as!(
        Caller,
        "SELECT id, name, is_admin, max_stores FROM users WHERE token_hash = $1",
        token_hash
    )
    .fetch_optional(pool)
    .await?)
}

/// What a new user is made of (the name already validated, its key and the
/// token's hash computed by `auth::create_user`).
pub struct NewUser<'a> {
    pub name: &'a str,
    pub name_key: &'a str,
    pub token_hash: &'a str,
    pub max_stores: i32,
    pub is_admin: bool,
}

/// Insert a user; `None` when its name key is taken.
pub async fn insert(pool: &PgPool, new: NewUser<'_>) -> Result<Option<Caller>> {
    Ok(sqlx::query_as!(
        Caller,
        // the same name has the same key, so this one arbiter covers both
        r#"INSERT INTO users (id, name, name_key, token_hash, max_stores, is_admin)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (name_key) DO NOTHING
           RETURNING id AS "id!", name AS "name!", is_admin AS "is_admin!", max_stores AS "max_stores!""#,
        Uuid::new_v4(),
        new.name,
        new.name_key,
        new.token_hash,
        new.max_stores,
        new.is_admin,
    )
    .fetch_optional(pool)
    .await?)
}

/// Upsert the bootstrap admin `admin` with the token hashing to `token_hash`.
pub async fn upsert_bootstrap_admin(
    pool: &PgPool,
    token_hash: &str,
    max_stores: i32,
) -> Result<()> {
    sqlx::query!(
        "INSERT INTO users (id, name, name_key, token_hash, max_stores, is_admin)
         VALUES ($1, 'admin', 'admin', $2, $3, true)
         ON CONFLICT (name) DO UPDATE SET token_hash = EXCLUDED.token_hash, is_admin = true",
        Uuid::new_v4(),
        token_hash,
        max_stores,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The user's `max_stores`, its row locked (`FOR UPDATE`) until the
/// transaction ends; `None` when the user no longer exists.
pub async fn lock_max_stores(conn: &mut PgConnection, id: Uuid) -> Result<Option<i32>> {
    Ok(
        sqlx::query_scalar!("SELECT max_stores FROM users WHERE id = $1 FOR UPDATE", id)
            .fetch_optional(conn)
            .await?,
    )
}
