//! At most one sweep per `STOREFLEET_SWEEP_INTERVAL_SECONDS`, across
//! processes and replicas, whatever the number of ping events (the
//! `sweep_claim` table, see its migration).
//!
//! One statement decides, zero2prod-style: `INSERT … ON CONFLICT DO UPDATE …
//! WHERE` the last claim is older than the interval. Two pings racing each
//! other serialise on the row; the second finds it fresh and runs nothing.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

/// The row of the readiness sweep.
const JOB: &str = "readiness-sweep";

/// A claim this process holds; give it back with [`release`] when the
/// sweep could not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    holder: Uuid,
}

/// Take the sweep for this interval; `None` when a sweep was claimed less
/// than `interval` ago.
pub async fn take(pool: &PgPool, interval: Duration) -> sqlx::Result<Option<Claim>> {
    let holder = Uuid::new_v4();
    let taken = sqlx::query_scalar!(
        r#"INSERT INTO sweep_claim (job, claimed_at, holder) VALUES ($1, now(), $2)
           ON CONFLICT (job) DO UPDATE SET claimed_at = now(), holder = $2
           WHERE sweep_claim.claimed_at <= now() - make_interval(secs => $3)
           RETURNING holder AS "holder!""#,
        JOB,
        holder,
        interval.as_secs_f64(),
    )
    .fetch_optional(pool)
    .await?;
    Ok(taken.map(|holder| Claim { holder }))
}

/// Give the claim back (only if still ours), so the retry of this tick runs.
pub async fn release(pool: &PgPool, claim: Claim) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM sweep_claim WHERE job = $1 AND holder = $2",
        JOB,
        claim.holder,
    )
    .execute(pool)
    .await?;
    Ok(())
}
