//! Cancellation of one build. Every vertex of a build shares one token: cancelling it (the
//! `/cancel` route, a dropped event stream, the deadline, a failing `/run`) makes long-running
//! components return early, while the supervisor halts the vertex actors themselves.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    notify: Notify,
}

/// A cloneable, one-way cancellation flag with an async wait.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

impl CancelToken {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels; idempotent.
    pub fn cancel(&self) {
        if !self.inner.cancelled.swap(true, Ordering::SeqCst) {
            self.inner.notify.notify_waiters();
        }
    }

    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
    }

    /// Resolves once the token is cancelled.
    pub async fn cancelled(&self) {
        // The `Notified` future is registered before the flag is checked, so a concurrent
        // `cancel` cannot slip between the check and the wait.
        let notified = self.inner.notify.notified();
        if self.is_cancelled() {
            return;
        }
        notified.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_waiters_and_stays_cancelled() {
        let t = CancelToken::new();
        let waiter = {
            let t = t.clone();
            tokio::spawn(async move { t.cancelled().await })
        };
        tokio::task::yield_now().await;
        t.cancel();
        assert!(waiter.await.is_ok());
        assert!(t.is_cancelled());
        t.cancelled().await;
    }
}
