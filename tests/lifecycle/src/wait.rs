//! Polling with a bound: the cluster and the chain are eventually consistent,
//! so tests wait for a condition and fail with what they waited for.

use std::time::{Duration, Instant};

/// Poll `probe` every `every` until it returns `Some`, or fail after `limit`.
pub async fn until<T>(
    what: &str,
    limit: Duration,
    every: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> anyhow::Result<T> {
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return Ok(value);
        }
        if started.elapsed() >= limit {
            anyhow::bail!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(every).await;
    }
}
