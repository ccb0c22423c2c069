//! The per-store operation lease (`stores.operation_lease_until`, see its
//! migration): at most one helm operation per store at a time, across
//! processes. Taking it is one guarded `UPDATE`; a lease left by a crashed
//! process expires by itself.

use std::time::Duration;

use sqlx::PgPool;

use crate::Result;

/// Longer than any helm bound (install 180 s, uninstall 300 s, plus grace).
pub const LEASE: Duration = Duration::from_secs(330);

/// Take the lease of store `id`; `false` when another operation holds it.
pub async fn acquire(pool: &PgPool, id: &str) -> Result<bool> {
    let taken = sqlx::query(
        "UPDATE stores SET operation_lease_until = now() + make_interval(secs => $2)
         WHERE id = $1 AND (operation_lease_until IS NULL OR operation_lease_until < now())",
    )
    .bind(id)
    .bind(LEASE.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// Give the lease back (also on errors: the next delivery must not wait for expiry).
pub async fn release(pool: &PgPool, id: &str) -> Result<()> {
    sqlx::query("UPDATE stores SET operation_lease_until = NULL WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
