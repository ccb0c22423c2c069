//! The per-store operation lease (`stores.operation_lease_until` and
//! `operation_lease_holder`, see their migrations): at most one helm
//! operation per store at a time, across processes and replicas.
//!
//! The lease is short and renewed while the operation runs, the way
//! Kubernetes' own leader-election leases are: a process that crashes or is
//! killed mid-operation stops renewing, and its lease lapses within [`TERM`],
//! so the next delivery of the event takes the store up again instead of
//! waiting out every helm bound. Only the holder (a random id per operation)
//! renews or clears it.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::Result;

/// How long a lease lasts without renewal.
pub const TERM: Duration = Duration::from_secs(30);
/// How often the holder renews it (a third of the term: two renewals may
/// fail — a slow database — before it lapses).
pub const RENEW_EVERY: Duration = Duration::from_secs(10);

/// A lease that is held: renew it while the operation runs, release it after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub holder: Uuid,
}

/// Take the lease of store `id`; `None` when another operation holds it.
pub async fn acquire(pool: &PgPool, id: &str) -> Result<Option<Held>> {
    let holder = Uuid::new_v4();
    let taken = sqlx::query!(
        "UPDATE stores SET operation_lease_until = now() + make_interval(secs => $2),
                           operation_lease_holder = $3
         WHERE id = $1 AND (operation_lease_until IS NULL OR operation_lease_until < now())",
        id,
        TERM.as_secs_f64(),
        holder,
    )
    .execute(pool)
    .await?;
    Ok((taken.rows_affected() == 1).then_some(Held { holder }))
}

/// Extend the lease by a term; `false` when it is no longer ours (it lapsed
/// and another operation took it).
pub async fn renew(pool: &PgPool, id: &str, lease: Held) -> Result<bool> {
    let renewed = sqlx::query!(
        "UPDATE stores SET operation_lease_until = now() + make_interval(secs => $2)
         WHERE id = $1 AND operation_lease_holder = $3",
        id,
        TERM.as_secs_f64(),
        lease.holder,
    )
    .execute(pool)
    .await?;
    Ok(renewed.rows_affected() == 1)
}

/// Give the lease back (also on errors: the next delivery must not wait for
/// it to lapse). A lease another operation took meanwhile is left alone.
pub async fn release(pool: &PgPool, id: &str, lease: Held) -> Result<()> {
    sqlx::query!(
        "UPDATE stores SET operation_lease_until = NULL, operation_lease_holder = NULL
         WHERE id = $1 AND operation_lease_holder = $2",
        id,
        lease.holder,
    )
    .execute(pool)
    .await?;
    Ok(())
}
