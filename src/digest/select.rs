//! Which alerts the digest is about: each alert once, unresolved, not a test, in the window.
//! The rules are applied one alert at a time as they arrive (see [`super::Intake`]).

use chrono::{DateTime, TimeDelta, Utc};

use crate::alert::Alert;

/// How the collected alerts were sorted out; every alert read lands in exactly one bucket
/// after de-duplication.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selection {
    /// Records parsed (before de-duplication).
    pub read: usize,
    /// Copies dropped because the same id arrived more than once.
    pub duplicates: usize,
    /// Test alerts left out (`include_test_alerts = false`).
    pub test: usize,
    /// Alerts whose status is `resolved`.
    pub resolved: usize,
    /// Unresolved alerts detected inside the window: the digest's subject.
    pub in_window: usize,
    /// Unresolved alerts detected before the window starts.
    pub older_than_window: usize,
    /// Unresolved alerts detected after the as-of instant (clock skew, or an `--as-of` in the past).
    pub after_as_of: usize,
}

/// The window `[as_of − window_days × 24 h, as_of]`, closed at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn ending_at(as_of: DateTime<Utc>, days: u32) -> Self {
        Self {
            start: as_of - TimeDelta::days(i64::from(days)),
            end: as_of,
        }
    }
}

/// Where an alert was sorted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Test,
    Resolved,
    OlderThanWindow,
    AfterAsOf,
    InWindow,
}

impl Selection {
    /// The bucket of one alert, by the module's rules (test, then resolved, then the window).
    pub fn bucket(alert: &Alert, window: Window, include_test_alerts: bool) -> Bucket {
        if alert.is_test && !include_test_alerts {
            Bucket::Test
        } else if !alert.status.is_unresolved() {
            Bucket::Resolved
        } else if alert.detected < window.start {
            Bucket::OlderThanWindow
        } else if alert.detected > window.end {
            Bucket::AfterAsOf
        } else {
            Bucket::InWindow
        }
    }

    /// Counts (`up`) or uncounts an alert in `bucket`.
    pub(super) fn count(&mut self, bucket: Bucket, up: bool) {
        let counter = match bucket {
            Bucket::Test => &mut self.test,
            Bucket::Resolved => &mut self.resolved,
            Bucket::OlderThanWindow => &mut self.older_than_window,
            Bucket::AfterAsOf => &mut self.after_as_of,
            Bucket::InWindow => &mut self.in_window,
        };
        if up {
            *counter += 1;
        } else {
            *counter -= 1;
        }
    }
}

/// An alert id, lower-cased, as a 128-bit keyed hash: what de-duplication remembers of every
/// alert it has seen, so that a million ids take 16 bytes each rather than a string each. Two
/// different ids share a key with a probability of about n² / 2¹²⁹ (10⁻²⁷ for a million).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdKey([u64; 2]);

impl std::hash::Hash for IdKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[0]);
    }
}

/// Hashes an [`IdKey`] in a map: the key already is a keyed hash, so its first half is used
/// as it is (hashing it again with `SipHash` cost a tenth of the digest's time at a million).
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `IdKey` is hashed with this, through `write_u64`; anything else still hashes.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// A map keyed by [`IdKey`].
pub type IdMap<V> = std::collections::HashMap<IdKey, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// Makes [`IdKey`]s; the keys are random per process, so nobody can choose colliding ids.
#[derive(Debug, Default)]
pub struct IdHasher([std::collections::hash_map::RandomState; 2]);

impl IdHasher {
    pub fn key(&self, id: &str) -> IdKey {
        use std::hash::BuildHasher;
        let lower = lower(id);
        IdKey([
            self.0[0].hash_one(lower.as_ref()),
            self.0[1].hash_one(lower.as_ref()),
        ])
    }
}

/// `id` lower-cased as `str::to_lowercase` does, without a copy when it already is.
pub fn lower(id: &str) -> std::borrow::Cow<'_, str> {
    if id.is_ascii() && !id.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Borrowed(id)
    } else {
        std::borrow::Cow::Owned(id.to_lowercase())
    }
}

/// Compares two ids as their lower-cased forms compare, without copies for ASCII ids.
pub fn cmp_lower(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    }
}
