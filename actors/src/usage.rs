//! API-key usage audit: per key the total, the last use (time and client address), per-day counts
//! and the most recent uses.
//!
//! The HTTP front records each use into a [`UsageBuffer`] (an in-memory map guarded by one
//! mutex, no I/O): counted when the key authenticates the request, and added to the recent uses
//! with its status once the response status is known; the registry actor takes the buffered batch every
//! `FLOWACTOR_KEY_USAGE_FLUSH_MS` and on shutdown and merges it into the stored [`KeyUsage`] of
//! each key in one write (a sled batch, or one PostgreSQL transaction). Reads through the actor
//! add what is still buffered, so they are exact at any moment; a crash loses at most the uses of
//! the last flush window.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Micros;
use crate::records::ApiKeyRecord;

/// Uses kept per key, newest last.
pub const MAX_RECENT: usize = 100;
/// Days of per-day counts kept per key (older days are dropped).
pub const MAX_DAYS: usize = 90;
/// Keys the buffer holds between flushes; uses of further keys are dropped (and logged).
pub const MAX_BUFFERED_KEYS: usize = 100_000;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// One use of a key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyUse {
    pub at: Micros,
    pub method: String,
    /// The matched route's pattern (never the raw path).
    pub route: String,
    pub status: u16,
    /// The TCP peer address.
    pub client: Option<String>,
}

/// What is known about a key's use: stored per key, and also the shape of a buffered delta.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyUsage {
    pub total_uses: u64,
    pub last_used_at: Option<Micros>,
    pub last_used_ip: Option<String>,
    /// (days since the Unix epoch, UTC; count), oldest first, at most [`MAX_DAYS`].
    pub days: Vec<(i64, u64)>,
    /// At most [`MAX_RECENT`], oldest first.
    pub recent: Vec<KeyUse>,
}

/// The UTC day number of a timestamp.
#[must_use]
pub fn day_of(at: Micros) -> i64 {
    at.div_euclid(MICROS_PER_DAY)
}

/// `YYYY-MM-DD` of a day number.
#[must_use]
pub fn day_string(day: i64) -> String {
    crate::clock::iso_date(day.saturating_mul(MICROS_PER_DAY))
}

impl KeyUsage {
    /// The counters a key record carried before usage had its own store.
    #[must_use]
    pub fn legacy(key: &ApiKeyRecord) -> Self {
        Self { total_uses: key.total_uses, last_used_at: key.last_used_at, ..Self::default() }
    }

    /// Counts one use (total, last use, its day).
    fn count(&mut self, at: Micros, client: Option<&str>) {
        self.total_uses += 1;
        if self.last_used_at.is_none_or(|t| at >= t) {
            self.last_used_at = Some(at);
            self.last_used_ip = client.map(str::to_owned);
        }
        let day = day_of(at);
        match self.days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, n)) => *n += 1,
            None => {
                self.days.push((day, 1));
                self.days.sort_unstable_by_key(|(d, _)| *d);
            }
        }
        self.trim();
    }

    /// Adds a finished use to the recent ones.
    fn push_recent(&mut self, u: KeyUse) {
        self.recent.push(u);
        self.trim();
    }

    #[cfg(test)]
    fn add_use(&mut self, u: KeyUse) {
        self.count(u.at, u.client.as_deref());
        self.push_recent(u);
    }

    fn trim(&mut self) {
        if self.days.len() > MAX_DAYS {
            self.days.drain(..self.days.len() - MAX_DAYS);
        }
        if self.recent.len() > MAX_RECENT {
            self.recent.drain(..self.recent.len() - MAX_RECENT);
        }
    }

    /// Adds a later delta (buffered uses) to these counters.
    pub fn merge(&mut self, later: &Self) {
        self.total_uses += later.total_uses;
        if let Some(t) = later.last_used_at {
            if self.last_used_at.is_none_or(|s| t >= s) {
                self.last_used_at = Some(t);
                self.last_used_ip.clone_from(&later.last_used_ip);
            }
        }
        for &(day, n) in &later.days {
            match self.days.iter_mut().find(|(d, _)| *d == day) {
                Some((_, m)) => *m += n,
                None => self.days.push((day, n)),
            }
        }
        self.days.sort_unstable_by_key(|(d, _)| *d);
        self.recent.extend(later.recent.iter().cloned());
        self.recent.sort_by_key(|u| u.at);
        self.trim();
    }
}

/// Uses recorded since the last flush, shared by the HTTP front (writers) and the registry
/// actor (which takes and stores them). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct UsageBuffer {
    inner: Arc<BufferInner>,
}

#[derive(Debug, Default)]
struct BufferInner {
    enabled: AtomicBool,
    pending: Mutex<HashMap<Uuid, KeyUsage>>,
    dropped: AtomicU64,
}

impl UsageBuffer {
    /// A buffer that records (`enabled`) or ignores every use
    /// (`LANGFLOW_DISABLE_TRACK_APIKEY_USAGE`).
    #[must_use]
    pub fn new(enabled: bool) -> Self {
        let b = Self::default();
        b.inner.enabled.store(enabled, Ordering::Relaxed);
        b
    }

    #[must_use]
    pub fn enabled(&self) -> bool {
        self.inner.enabled.load(Ordering::Relaxed)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, KeyUsage>> {
        self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_entry(&self, key_id: Uuid, f: impl FnOnce(&mut KeyUsage)) {
        if !self.enabled() {
            return;
        }
        let mut pending = self.pending();
        if pending.len() >= MAX_BUFFERED_KEYS && !pending.contains_key(&key_id) {
            drop(pending);
            if self.inner.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::warn!(
                    limit = MAX_BUFFERED_KEYS,
                    "API key usage buffer full: uses of further keys are dropped"
                );
            }
            return;
        }
        f(pending.entry(key_id).or_default());
    }

    /// Counts a use of a key as it authenticates a request (as Langflow does, so a request that
    /// reads the counters sees itself counted).
    pub fn count(&self, key_id: Uuid, at: Micros, client: Option<&str>) {
        self.with_entry(key_id, |u| u.count(at, client));
    }

    /// Adds a request the key authenticated to its recent uses once its status is known.
    pub fn finish(&self, key_id: Uuid, u: KeyUse) {
        self.with_entry(key_id, |e| e.push_recent(u));
    }

    /// [`UsageBuffer::count`] and [`UsageBuffer::finish`] at once.
    pub fn record(&self, key_id: Uuid, u: KeyUse) {
        self.with_entry(key_id, |e| {
            e.count(u.at, u.client.as_deref());
            e.push_recent(u);
        });
    }

    /// Everything buffered, leaving the buffer empty.
    #[must_use]
    pub fn take(&self) -> HashMap<Uuid, KeyUsage> {
        self.inner.dropped.store(0, Ordering::Relaxed);
        std::mem::take(&mut *self.pending())
    }

    /// Puts back a batch that could not be stored, before whatever was recorded since.
    pub fn restore(&self, batch: HashMap<Uuid, KeyUsage>) {
        let mut pending = self.pending();
        for (key_id, mut older) in batch {
            if let Some(newer) = pending.remove(&key_id) {
                older.merge(&newer);
            }
            pending.insert(key_id, older);
        }
    }

    /// What is buffered for one key.
    #[must_use]
    pub fn peek(&self, key_id: Uuid) -> Option<KeyUsage> {
        self.pending().get(&key_id).cloned()
    }

    /// Drops a deleted key's buffered uses.
    pub fn forget(&self, key_id: Uuid) {
        self.pending().remove(&key_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64, n: i64) -> KeyUse {
        KeyUse { at: day * MICROS_PER_DAY + n, method: "GET".into(), route: "/r".into(), status: 200, client: None }
    }

    #[test]
    fn bounds_days_and_recent_uses() {
        let mut u = KeyUsage::default();
        for day in 0..200 {
            u.add_use(at(day, 0));
        }
        assert_eq!(u.total_uses, 200);
        assert_eq!(u.days.len(), MAX_DAYS);
        assert_eq!(u.days[0].0, 200 - i64::try_from(MAX_DAYS).expect("fits"));
        assert_eq!(u.recent.len(), MAX_RECENT);
        assert_eq!(u.recent.last().map(|r| r.at), Some(199 * MICROS_PER_DAY));
    }

    #[test]
    fn merge_adds_counts_and_keeps_the_latest_use() {
        let mut stored = KeyUsage::default();
        stored.add_use(at(1, 1));
        let mut later = KeyUsage::default();
        let mut last = at(1, 2);
        last.client = Some("127.0.0.1".into());
        later.add_use(last);
        later.add_use(at(2, 0));
        stored.merge(&later);
        assert_eq!(stored.total_uses, 3);
        assert_eq!(stored.days, vec![(1, 2), (2, 1)]);
        assert_eq!(stored.last_used_at, Some(2 * MICROS_PER_DAY));
        assert_eq!(stored.recent.len(), 3);
        assert_eq!(day_string(0), "1970-01-01");
    }

    #[test]
    fn disabled_buffer_records_nothing() {
        let b = UsageBuffer::new(false);
        b.record(Uuid::nil(), at(0, 0));
        assert!(b.take().is_empty());
        let b = UsageBuffer::new(true);
        b.record(Uuid::nil(), at(0, 0));
        let batch = b.take();
        assert_eq!(batch[&Uuid::nil()].total_uses, 1);
        b.record(Uuid::nil(), at(0, 1));
        b.restore(batch);
        assert_eq!(b.peek(Uuid::nil()).map(|u| u.total_uses), Some(2));
    }
}
