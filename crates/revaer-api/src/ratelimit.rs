//! Per-key rate limits: a token bucket per API key (GCRA, from
//! `governor`), sized by the key's own `{burst, per_seconds}`; keys without
//! a limit are not limited. Decisions carry what the `X-RateLimit-*` and
//! `Retry-After` headers say.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use revaer_store::{ApiKey, KeyRateLimit};

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The key has no limit.
    Unlimited,
    /// Let through.
    Allowed {
        /// The bucket size.
        limit: u32,
        /// Requests left in the bucket.
        remaining: u32,
        /// Seconds until the bucket is full again.
        reset_secs: u64,
    },
    /// Over the limit.
    Denied {
        /// The bucket size.
        limit: u32,
        /// Seconds until the next request can go through.
        retry_after_secs: u64,
    },
}

/// The buckets, by key id.
#[derive(Debug, Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<String, (KeyRateLimit, Arc<Limiter>)>>,
    clock: DefaultClock,
    throttled: AtomicU64,
}

fn quota(limit: KeyRateLimit) -> Option<(Quota, Duration)> {
    let burst = NonZeroU32::new(limit.burst)?;
    let per_cell = Duration::from_secs(u64::from(limit.per_seconds)) / limit.burst.max(1);
    let quota = Quota::with_period(per_cell.max(Duration::from_nanos(1)))?.allow_burst(burst);
    Some((quota, per_cell))
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl RateLimits {
    /// Requests refused so far.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// Counts a request of `key` against its bucket.
    pub fn check(&self, key: &ApiKey) -> Decision {
        let Some(limit) = key.rate_limit else { return Decision::Unlimited };
        let Some((quota, per_cell)) = quota(limit) else { return Decision::Unlimited };
        let limiter = {
            let mut buckets = match self.buckets.lock() {
                Ok(buckets) => buckets,
                Err(poisoned) => poisoned.into_inner(),
            };
            let entry = buckets
                .entry(key.key_id.clone())
                .or_insert_with(|| (limit, Arc::new(RateLimiter::direct(quota).with_middleware())));
            // A changed limit starts a fresh bucket.
            if entry.0 != limit {
                *entry = (limit, Arc::new(RateLimiter::direct(quota).with_middleware()));
            }
            Arc::clone(&entry.1)
        };
        match limiter.check() {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                let reset = per_cell * limit.burst.saturating_sub(remaining);
                Decision::Allowed { limit: limit.burst, remaining, reset_secs: ceil_secs(reset) }
            }
            Err(not_until) => {
                self.throttled.fetch_add(1, Ordering::Relaxed);
                let wait = not_until.wait_time_from(self.clock.now());
                Decision::Denied { limit: limit.burst, retry_after_secs: ceil_secs(wait).max(1) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn key(limit: Option<KeyRateLimit>) -> ApiKey {
        ApiKey {
            key_id: "k".into(),
            label: "k".into(),
            rate_limit: limit,
            created_at: Utc::now(),
            last_used_at: None,
            expires_at: None,
            revoked_at: None,
            enabled: true,
        }
    }

    #[test]
    fn buckets_let_a_burst_through_then_refuse_with_a_wait() {
        let limits = RateLimits::default();
        assert_eq!(limits.check(&key(None)), Decision::Unlimited);
        let limited = key(Some(KeyRateLimit { burst: 3, per_seconds: 60 }));
        let remaining: Vec<u32> = (0..3)
            .map(|_| match limits.check(&limited) {
                Decision::Allowed { remaining, limit: 3, .. } => remaining,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        match limits.check(&limited) {
            Decision::Denied { limit: 3, retry_after_secs } => {
                assert!((1..=20).contains(&retry_after_secs));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(limits.throttled(), 1);
        // A new limit is a new bucket.
        let raised = key(Some(KeyRateLimit { burst: 5, per_seconds: 60 }));
        assert!(matches!(limits.check(&raised), Decision::Allowed { remaining: 4, .. }));
    }
}
