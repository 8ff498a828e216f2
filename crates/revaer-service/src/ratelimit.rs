//! Per-key rate limits: a token bucket per API key (GCRA, from
//! `governor`), sized by the key's own `{burst, per_seconds}`; keys without
//! a limit are not limited. Decisions carry what the `X-RateLimit-*` and
//! `Retry-After` headers say. [`Service::admit`] checks a key and reports
//! breaches (a metric, a log line and a `guard_rail` event).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use revaer_domain::event::{GuardRail, GuardRailKind};
use revaer_domain::{Event, HealthStatus};
use revaer_store::{ApiKey, KeyRateLimit};

use crate::Service;

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
        /// This refusal makes the key's throttles a breach: a guard rail
        /// to report (once per [`BREACH_WINDOW`] and key).
        breach: bool,
    },
}

/// Refusals of one key within [`BREACH_WINDOW`] that make a breach.
pub const BREACH_THROTTLES: u32 = 10;
/// The window breaches are counted in.
pub const BREACH_WINDOW: Duration = Duration::from_mins(1);
/// How long the rate limiter reports `degraded` after a breach.
pub const BREACH_DEGRADES_FOR: Duration = Duration::from_mins(5);

/// A key's refusals in the current window.
#[derive(Debug, Clone, Copy)]
struct Run {
    started: std::time::Instant,
    count: u32,
}

/// The last breach: when, and which key.
#[derive(Debug, Clone)]
pub struct Breach {
    /// When it was detected.
    pub at: std::time::Instant,
    /// The key.
    pub key_id: String,
}

/// The buckets, by key id.
#[derive(Debug, Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<String, (KeyRateLimit, Arc<Limiter>)>>,
    clock: DefaultClock,
    throttled: AtomicU64,
    runs: Mutex<HashMap<String, Run>>,
    breaches: AtomicU64,
    last_breach: Mutex<Option<Breach>>,
}

fn quota(limit: KeyRateLimit) -> Option<(Quota, Duration)> {
    let burst = NonZeroU32::new(limit.burst)?;
    let per_cell = Duration::from_secs(u64::from(limit.per_seconds)) / limit.burst.max(1);
    let quota = Quota::with_period(per_cell.max(Duration::from_nanos(1)))?.allow_burst(burst);
    Some((quota, per_cell))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl RateLimits {
    /// Requests refused so far.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// Breaches so far.
    pub fn breaches(&self) -> u64 {
        self.breaches.load(Ordering::Relaxed)
    }

    /// The last breach, if any.
    pub fn last_breach(&self) -> Option<Breach> {
        lock(&self.last_breach).clone()
    }

    /// Counts a refusal; `true` when it makes a breach.
    fn note_refusal(&self, key_id: &str) -> bool {
        let now = std::time::Instant::now();
        let mut runs = lock(&self.runs);
        // Bounded: old windows go first.
        if runs.len() > 10_000 {
            runs.retain(|_, run| now.duration_since(run.started) < BREACH_WINDOW);
        }
        let run = runs.entry(key_id.to_owned()).or_insert(Run { started: now, count: 0 });
        if now.duration_since(run.started) >= BREACH_WINDOW {
            *run = Run { started: now, count: 0 };
        }
        run.count += 1;
        let breach = run.count == BREACH_THROTTLES;
        drop(runs);
        if breach {
            self.breaches.fetch_add(1, Ordering::Relaxed);
            *lock(&self.last_breach) = Some(Breach { at: now, key_id: key_id.to_owned() });
        }
        breach
    }

    /// Counts a request of `key` against its bucket.
    pub fn check(&self, key: &ApiKey) -> Decision {
        let Some(limit) = key.rate_limit else { return Decision::Unlimited };
        let Some((quota, per_cell)) = quota(limit) else { return Decision::Unlimited };
        let limiter = {
            let mut buckets = lock(&self.buckets);
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
                Decision::Denied {
                    limit: limit.burst,
                    retry_after_secs: ceil_secs(wait).max(1),
                    breach: self.note_refusal(&key.key_id),
                }
            }
        }
    }
}

impl Service {
    /// Counts a request of `key` against its rate limit; a refusal that
    /// makes a breach is reported once per window and key: a metric, a
    /// log line and a `guard_rail` event carrying the request's `trace_id`.
    pub fn admit(&self, key: &ApiKey, trace_id: Option<String>) -> Decision {
        // A key issued under a rate-limited key spends from that key's
        // bucket too: a family of keys is no faster than its root. Its own
        // bucket goes first, so that what it may not do costs the family
        // nothing.
        let own = self.rate_limits().check(key);
        if matches!(own, Decision::Denied { .. }) {
            return self.report(key, own, trace_id);
        }
        for issuer in self.keys().issuers(key) {
            if let denied @ Decision::Denied { .. } = self.rate_limits().check(&issuer) {
                return self.report(key, denied, trace_id);
            }
        }
        self.report(key, own, trace_id)
    }

    /// Reports a refusal of `key` (and a breach, when it makes one).
    fn report(&self, key: &ApiKey, decision: Decision, trace_id: Option<String>) -> Decision {
        if let Decision::Denied { breach, .. } = decision {
            tracing::info!(key_id = %key.key_id, "rate limited");
            metrics::counter!(revaer_telemetry::names::RATE_LIMIT_THROTTLED_TOTAL).increment(1);
            if breach {
                metrics::counter!(revaer_telemetry::names::RATE_LIMIT_BREACHES_TOTAL).increment(1);
                tracing::warn!(key_id = %key.key_id, "guard rail: an API key keeps passing its rate limit");
                self.bus().publish(Event::GuardRail(GuardRail {
                    guard_rail: GuardRailKind::Breach,
                    key_id: key.key_id.clone(),
                    status: HealthStatus::Degraded,
                    reason: format!(
                        "API key {} was refused {BREACH_THROTTLES} times within a minute",
                        key.key_id
                    ),
                    trace_id,
                }));
            }
        }
        decision
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
            scopes: revaer_domain::Scopes::ADMIN,
            issued_by: None,
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
            Decision::Denied { limit: 3, retry_after_secs, breach: false } => {
                assert!((1..=20).contains(&retry_after_secs));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(limits.throttled(), 1);
        // Refusals in a row make one breach, reported once per window.
        let breaches: Vec<bool> = (0..2 * BREACH_THROTTLES)
            .map(|_| matches!(limits.check(&limited), Decision::Denied { breach: true, .. }))
            .collect();
        assert_eq!(breaches.iter().filter(|b| **b).count(), 1);
        assert!(breaches[BREACH_THROTTLES as usize - 2], "the tenth refusal in the window");
        assert_eq!(limits.breaches(), 1);
        assert_eq!(limits.last_breach().expect("a breach").key_id, "k");
        // A new limit is a new bucket.
        let raised = key(Some(KeyRateLimit { burst: 5, per_seconds: 60 }));
        assert!(matches!(limits.check(&raised), Decision::Allowed { remaining: 4, .. }));
    }
}
