//! When to try a request again and how long to wait: `Retry-After` when the service gives one
//! (seconds or HTTP-date), capped; otherwise exponential backoff with jitter. The waits go
//! through a [`Sleeper`] so tests can record them instead of sleeping.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Limits for retrying one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all for throttling answers (429, 503, 504).
    pub throttled_attempts: u32,
    /// Attempts in all for other transient failures (500, 502, 507, resets, timeouts).
    pub flaky_attempts: u32,
    /// The first backoff step; it doubles per attempt.
    pub base: Duration,
    /// The longest backoff step.
    pub max_backoff: Duration,
    /// The longest `Retry-After` we wait for; a longer one fails at once.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            throttled_attempts: 6,
            flaky_attempts: 3,
            base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// Why a request may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The service asked us to slow down (429, 503, 504).
    Throttled,
    /// Something broke on the way (500, 502, 507, a reset, a timeout).
    Flaky,
}

/// The wait before the next attempt, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Wait(Duration),
    /// The attempts for this class are used up.
    GiveUp,
    /// The service asked for a wait longer than the cap.
    WaitTooLong(Duration),
}

impl RetryPolicy {
    /// Decides after the `attempt`-th failure (1-based) of `class`.
    pub fn next(
        &self,
        class: Class,
        attempt: u32,
        retry_after: Option<Duration>,
        jitter: &mut Jitter,
    ) -> Next {
        let limit = match class {
            Class::Throttled => self.throttled_attempts,
            Class::Flaky => self.flaky_attempts,
        };
        if attempt >= limit {
            return Next::GiveUp;
        }
        if let Some(wait) = retry_after {
            return if wait > self.max_retry_after {
                Next::WaitTooLong(wait)
            } else {
                Next::Wait(wait)
            };
        }
        let exponent = attempt.saturating_sub(1).min(16);
        let step = self
            .base
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        // "Equal jitter": at least half the step, so waits still grow, spread over the rest.
        let half = step / 2;
        Next::Wait(half + jitter.up_to(step.saturating_sub(half)))
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Garbage, and dates
/// in the past, give `None`/zero so the caller falls back to its own backoff.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A small random source for jitter (xorshift64*); seeded from the OS by default, fixed in tests.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    pub fn from_entropy() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Self::seeded(seed)
    }

    pub fn seeded(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// A duration in `[0, max]`.
    pub fn up_to(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(r % (nanos + 1))
    }
}

/// How waits happen: really, or recorded for a test.
#[derive(Debug, Clone, Default)]
pub enum Sleeper {
    #[default]
    Tokio,
    /// Records each wait and returns at once.
    Record(Arc<Mutex<Vec<Duration>>>),
}

impl Sleeper {
    pub async fn sleep(&self, wait: Duration) {
        match self {
            Self::Tokio => tokio::time::sleep(wait).await,
            Self::Record(waits) => {
                if let Ok(mut waits) = waits.lock() {
                    waits.push(wait);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_as_an_http_date() {
        let now = httpdate::parse_http_date("Sun, 29 Nov 2026 07:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 07:00:42 GMT", now),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 06:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let mut jitter = Jitter::seeded(1);
        let seven = Some(Duration::from_secs(7));
        assert_eq!(
            policy.next(Class::Throttled, 1, seven, &mut jitter),
            Next::Wait(Duration::from_secs(7))
        );
        let long = Some(Duration::from_secs(301));
        assert_eq!(
            policy.next(Class::Throttled, 1, long, &mut jitter),
            Next::WaitTooLong(Duration::from_secs(301))
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_limit() {
        let policy = RetryPolicy::default();
        let mut jitter = Jitter::seeded(42);
        for attempt in 1..6 {
            let Next::Wait(wait) = policy.next(Class::Throttled, attempt, None, &mut jitter) else {
                panic!("attempt {attempt} should wait");
            };
            let step = Duration::from_secs(1 << (attempt - 1)).min(policy.max_backoff);
            assert!(
                wait >= step / 2 && wait <= step,
                "attempt {attempt}: {wait:?} vs {step:?}"
            );
        }
        assert_eq!(
            policy.next(Class::Throttled, 6, None, &mut jitter),
            Next::GiveUp
        );
        assert_eq!(
            policy.next(Class::Flaky, 3, None, &mut jitter),
            Next::GiveUp
        );
        assert!(matches!(
            policy.next(Class::Flaky, 2, None, &mut jitter),
            Next::Wait(_)
        ));
    }
}
