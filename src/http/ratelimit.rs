//! Fixed-window rate limiting per key (client IP for login, user id for password resets), as
//! Langflow 1.13 does: N attempts per minute, failed ones included, then 429 until the window ends.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Entries kept before stale windows are swept.
const SWEEP_AT: usize = 10_000;

pub struct RateLimiter<K> {
    per_window: u32,
    enabled: bool,
    windows: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Eq + Hash + Clone> RateLimiter<K> {
    #[must_use]
    pub fn new(per_window: u32, enabled: bool) -> Self {
        Self { per_window, enabled, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one attempt; `Err(seconds)` when the caller must wait.
    ///
    /// # Errors
    /// The number of seconds until the window resets.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        if !self.enabled {
            return Ok(());
        }
        self.check_at_most(key, self.per_window)
    }

    /// Counts one attempt against a per-key limit (`per_minute` attempts per window); the
    /// limiter's own switch and default do not apply.
    ///
    /// # Errors
    /// The number of seconds until the window resets.
    pub fn check_at_most(&self, key: &K, per_minute: u32) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key.clone()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= per_minute {
            let left = WINDOW.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1) + u64::from(left.subsec_nanos() > 0));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key() {
        let rl = RateLimiter::new(2, true);
        assert!(rl.check(&1).is_ok());
        assert!(rl.check(&1).is_ok());
        let wait = rl.check(&1).expect_err("limited");
        assert!((1..=61).contains(&wait));
        assert!(rl.check(&2).is_ok());
        let off = RateLimiter::new(1, false);
        assert!(off.check(&1).is_ok() && off.check(&1).is_ok());
    }
}
