//! The in-memory tails of recently read sessions.

use std::collections::{HashMap, VecDeque};

use super::MessageRecord;

/// Messages kept per cached session tail.
pub(super) const TAIL_LEN: usize = 128;
/// Sessions whose tails are cached at once.
const TAIL_SESSIONS: usize = 1024;

/// The last [`TAIL_LEN`] rows of recently read sessions, in key order, exactly as in the tree.
///
/// Consistency: a tail is filled by scanning the tree while the cache lock is held, and every
/// write updates the tree first and the cached tail second (under the lock), so a tail never
/// misses a write made before or during its fill. Rare operations (edits, renames, deletes)
/// simply drop every tail.
#[derive(Default)]
pub(super) struct RecentTails {
    pub(super) tails: HashMap<Vec<u8>, Tail>,
    /// Insertion order, for eviction.
    order: VecDeque<Vec<u8>>,
}

pub(super) struct Tail {
    /// `(row key, record)` in key order.
    pub(super) rows: VecDeque<(Vec<u8>, MessageRecord)>,
    /// The tail holds the whole session (it had fewer rows than [`TAIL_LEN`] when filled, and
    /// nothing was trimmed since).
    pub(super) complete: bool,
}

impl RecentTails {
    pub(super) fn insert_tail(&mut self, prefix: Vec<u8>, tail: Tail) {
        if self.tails.len() >= TAIL_SESSIONS {
            if let Some(old) = self.order.pop_front() {
                self.tails.remove(&old);
            }
        }
        self.order.push_back(prefix.clone());
        self.tails.insert(prefix, tail);
    }

    /// Applies a write to the cached tail of its session, if that session is cached.
    pub(super) fn record(&mut self, prefix: &[u8], key: &[u8], rec: &MessageRecord, replaced: Option<&[u8]>) {
        let Some(tail) = self.tails.get_mut(prefix) else { return };
        if let Some(old) = replaced {
            tail.rows.retain(|(k, _)| k.as_slice() != old);
        }
        let pos = tail.rows.partition_point(|(k, _)| k.as_slice() < key);
        if tail.rows.get(pos).is_some_and(|(k, _)| k.as_slice() == key) {
            tail.rows[pos].1 = rec.clone();
        } else if pos > 0 || tail.complete || tail.rows.is_empty() {
            tail.rows.insert(pos, (key.to_vec(), rec.clone()));
        }
        while tail.rows.len() > TAIL_LEN {
            tail.rows.pop_front();
            tail.complete = false;
        }
    }

    pub(super) fn clear(&mut self) {
        self.tails.clear();
        self.order.clear();
    }
}
