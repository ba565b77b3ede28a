//! The arbiter pool: one actix `Arbiter` (a thread with its own event loop) per core. Vertex
//! actors are spread over it so that independent vertices of one wide graph run on every core,
//! instead of all landing on the HTTP worker thread that started the build.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix::{Arbiter, ArbiterHandle};

struct PoolInner {
    handles: Vec<ArbiterHandle>,
    arbiters: Mutex<Vec<Arbiter>>,
    next: AtomicUsize,
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        let arbiters = match self.arbiters.get_mut() {
            Ok(a) => std::mem::take(a),
            Err(poisoned) => std::mem::take(poisoned.into_inner()),
        };
        for a in arbiters {
            a.stop();
        }
    }
}

/// A fixed set of arbiters; cheap to clone. The arbiters stop when the last clone is dropped.
#[derive(Clone)]
pub struct ArbiterPool {
    inner: Arc<PoolInner>,
}

impl ArbiterPool {
    /// Starts `n` arbiters (at least one). Must be called inside a running actix `System`.
    #[must_use]
    pub fn new(n: usize) -> Self {
        let arbiters: Vec<Arbiter> = (0..n.max(1)).map(|_| Arbiter::new()).collect();
        let handles = arbiters.iter().map(Arbiter::handle).collect();
        Self { inner: Arc::new(PoolInner { handles, arbiters: Mutex::new(arbiters), next: AtomicUsize::new(0) }) }
    }

    /// One arbiter per available core.
    #[must_use]
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.handles.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.handles.is_empty()
    }

    /// The arbiter with that index (modulo the pool size).
    #[must_use]
    pub fn handle(&self, i: usize) -> &ArbiterHandle {
        &self.inner.handles[i % self.inner.handles.len()]
    }

    /// Round-robin choice of the next arbiter index.
    #[must_use]
    pub fn next_index(&self) -> usize {
        self.inner.next.fetch_add(1, Ordering::Relaxed) % self.inner.handles.len()
    }
}
