//! Per-token rate limits of the API (issue 11 item 20), with `governor`.
//!
//! Two buckets per function process, both checked before the token's
//! database lookup:
//!
//! - one per token, keyed by the token's SHA-256 (valid or not):
//!   `STOREFLEET_RATE_LIMIT_PER_TOKEN` requests a second, bursts of
//!   `STOREFLEET_RATE_LIMIT_BURST`;
//! - one shared by every token this process has not seen valid in the last
//!   ten minutes (`STOREFLEET_RATE_LIMIT_UNVERIFIED` lookups a second, bursts of
//!   `..._UNVERIFIED_BURST`): random invalid tokens each have a fresh per-token
//!   bucket, so without it 875 invalid-token requests a second were 875
//!   database lookups. A known token never waits on this bucket, so a flood
//!   of bad tokens does not lock out users who are signed in; the lookup of a
//!   known token still runs every time (a removed user is refused at once).
//!
//! Over either limit: `429` problem+json with `Retry-After` (whole seconds).
//! The gateway limits per client address before this (nginx `limit_req`).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::{Error, Result};

/// How long a token seen valid skips the unverified bucket.
const KNOWN_FOR: Duration = Duration::from_secs(600);
/// Bound of the known-token memory and of the per-token buckets kept.
const MAX_KEYS: usize = 10_000;

/// The limits' settings (docs/development.md, docs/api.md "Rate limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub per_token_per_second: NonZeroU32,
    pub per_token_burst: NonZeroU32,
    pub unverified_per_second: NonZeroU32,
    pub unverified_burst: NonZeroU32,
}

pub struct RateLimits {
    per_token: DefaultKeyedRateLimiter<String>,
    unverified: DefaultDirectRateLimiter,
    known: Mutex<HashMap<String, Instant>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

impl RateLimits {
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            per_token: RateLimiter::keyed(
                Quota::per_second(config.per_token_per_second).allow_burst(config.per_token_burst),
            ),
            unverified: RateLimiter::direct(
                Quota::per_second(config.unverified_per_second)
                    .allow_burst(config.unverified_burst),
            ),
            known: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    /// Admit one request of the token whose SHA-256 (hex) is `token_hash`,
    /// before it is looked up; `Err` is the `429`.
    pub fn admit(&self, token_hash: &str) -> Result<()> {
        if !self.is_known(token_hash) {
            self.unverified.check().map_err(|not_until| {
                self.limited(
                    not_until.wait_time_from(self.clock.now()),
                    "too many requests with tokens this server has not seen lately",
                )
            })?;
        }
        self.per_token
            .check_key(&token_hash.to_owned())
            .map_err(|not_until| {
                self.limited(
                    not_until.wait_time_from(self.clock.now()),
                    "too many requests with this token",
                )
            })?;
        if self.per_token.len() > MAX_KEYS {
            // forget buckets that are full again (a fresh one is the same)
            self.per_token.retain_recent();
        }
        Ok(())
    }

    /// The token was found valid: it skips the unverified bucket for a while.
    pub fn verified(&self, token_hash: &str) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if known.len() >= MAX_KEYS {
            known.retain(|_, seen| now.duration_since(*seen) < KNOWN_FOR);
            if known.len() >= MAX_KEYS {
                known.clear();
            }
        }
        known.insert(token_hash.to_owned(), now);
    }

    fn is_known(&self, token_hash: &str) -> bool {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known
            .get(token_hash)
            .is_some_and(|seen| seen.elapsed() < KNOWN_FOR)
    }

    fn limited(&self, wait: Duration, what: &str) -> Error {
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let retry_after = retry_after.max(1);
        Error::RateLimited {
            detail: format!("{what}; retry after {retry_after} s (Retry-After)"),
            retry_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_token: u32, burst: u32, unverified: u32, unverified_burst: u32) -> RateLimits {
        let n = |v| NonZeroU32::new(v).unwrap();
        RateLimits::new(RateLimitConfig {
            per_token_per_second: n(per_token),
            per_token_burst: n(burst),
            unverified_per_second: n(unverified),
            unverified_burst: n(unverified_burst),
        })
    }

    #[test]
    fn a_token_gets_its_burst_then_429_with_retry_after() {
        let l = limits(1, 3, 100, 100);
        for _ in 0..3 {
            l.admit("a").unwrap();
        }
        match l.admit("a") {
            Err(Error::RateLimited { retry_after, .. }) => assert_eq!(retry_after, 1),
            other => panic!("{other:?}"),
        }
        // another token has its own bucket
        l.admit("b").unwrap();
    }

    #[test]
    fn unknown_tokens_share_one_bucket_known_ones_skip_it() {
        let l = limits(100, 100, 1, 2);
        l.verified("known");
        l.admit("x1").unwrap();
        l.admit("x2").unwrap();
        assert!(matches!(l.admit("x3"), Err(Error::RateLimited { .. })));
        // a flood of bad tokens does not lock out a signed-in user
        l.admit("known").unwrap();
    }
}
