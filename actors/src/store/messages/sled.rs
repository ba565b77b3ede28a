//! The message store on sled.
//!
//! Messages are keyed `(flow_id, session_id, timestamp, id)` (see [`super`]); a second tree maps
//! message id → key. The tails of recently used sessions are cached (`tails`).

mod tails;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sled::Tree;
use uuid::Uuid;

use super::{MessagePatch, MessageRecord, MessageRepo, MessageStoreError};
use crate::clock::Micros;
use crate::codec::{self, CodecError};
use crate::store::Store;
use tails::{RecentTails, Tail, TAIL_LEN};

/// Handle on the message trees. Cheap to clone.
#[derive(Clone)]
pub struct SledMessages {
    /// `(flow, session, timestamp, id)` → `MessageRecord`
    rows: Tree,
    /// id → row key
    ids: Tree,
    recent: Arc<Mutex<RecentTails>>,
    /// For the free-space reserve and the write gate.
    store: Store,
}

#[cfg(test)]
thread_local! {
    /// Rows decoded by scans on this thread, so tests can prove a read's cost.
    static ROWS_DECODED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn decode_row(bytes: &[u8]) -> Result<MessageRecord, CodecError> {
    #[cfg(test)]
    ROWS_DECODED.with(|c| c.set(c.get() + 1));
    codec::decode(bytes)
}

/// `flow(16) ++ len(session) as u32 BE ++ session`: length-prefixed so that one session's prefix
/// is never a prefix of another session's keys.
fn session_prefix(flow_id: Uuid, session_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(16 + 4 + session_id.len() + 24);
    k.extend_from_slice(flow_id.as_bytes());
    k.extend_from_slice(&u32::try_from(session_id.len()).unwrap_or(u32::MAX).to_be_bytes());
    k.extend_from_slice(session_id.as_bytes());
    k
}

fn row_key(rec: &MessageRecord) -> Vec<u8> {
    let mut k = session_prefix(rec.flow_id, &rec.session_id);
    // Flipping the sign bit keeps negative timestamps ordered before positive ones.
    k.extend_from_slice(&((rec.timestamp as u64) ^ (1 << 63)).to_be_bytes());
    k.extend_from_slice(rec.id.as_bytes());
    k
}

/// `(timestamp, id)` encoded at the end of a row key.
fn key_order(key: &[u8]) -> Option<(Micros, [u8; 16])> {
    let tail = key.len().checked_sub(24).and_then(|start| key.get(start..))?;
    let stamp: [u8; 8] = tail.get(..8)?.try_into().ok()?;
    let id: [u8; 16] = tail.get(8..)?.try_into().ok()?;
    Some(((u64::from_be_bytes(stamp) ^ (1 << 63)) as Micros, id))
}

/// Session id encoded in a row key, if the key is well formed.
fn session_of_key(key: &[u8]) -> Option<&str> {
    let len_bytes: [u8; 4] = key.get(16..20)?.try_into().ok()?;
    let len = u32::from_be_bytes(len_bytes) as usize;
    std::str::from_utf8(key.get(20..20 + len)?).ok()
}

/// The smallest key greater than every key starting with `prefix`.
fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.pop() {
        if last < u8::MAX {
            next.push(last + 1);
            return Some(next);
        }
    }
    None
}

impl SledMessages {
    /// Opens (or creates) the message trees.
    ///
    /// # Errors
    /// The sled error met opening the trees.
    pub fn open(store: &Store) -> Result<Self, sled::Error> {
        Ok(Self {
            rows: store.db().open_tree("messages")?,
            ids: store.db().open_tree("message_ids")?,
            recent: Arc::default(),
            store: store.clone(),
        })
    }

    fn recent(&self) -> MutexGuard<'_, RecentTails> {
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops every cached tail (after an edit, rename or delete).
    fn forget_tails(&self) {
        self.recent().clear();
    }

    fn delete_prefix(&self, prefix: &[u8]) -> Result<usize, MessageStoreError> {
        let mut rows = sled::Batch::default();
        let mut ids = sled::Batch::default();
        let mut n = 0;
        for item in self.rows.scan_prefix(prefix).keys() {
            let key = item?;
            if let Some(id) = key.len().checked_sub(16).and_then(|at| key.get(at..)) {
                ids.remove(id);
            }
            rows.remove(key);
            n += 1;
        }
        // Batches take sled's global write lock like transactions: never beside a flush.
        self.store.write_always(|| self.rows.apply_batch(rows))?;
        self.store.write_always(|| self.ids.apply_batch(ids))?;
        self.forget_tails();
        Ok(n)
    }
}

impl MessageRepo for SledMessages {
    /// Stores a new message (same as [`MessageRepo::upsert`]; ids are unique).
    ///
    /// # Errors
    /// Storage or encoding failures.
    fn insert(&self, rec: &MessageRecord) -> Result<(), MessageStoreError> {
        self.upsert(rec)
    }

    /// Stores `rec`, replacing any message with the same id (a streamed message being finalised).
    ///
    /// Plain inserts, not a sled transaction: a transaction (or batch) forces a log write per
    /// commit, which would cost every run a disk write. The row goes first and the id index
    /// second, so a crash in between leaves at worst a row that is listed with its session but
    /// not found by id; a replaced row is removed last, so a crash never loses the newer one.
    ///
    /// # Errors
    /// Storage or encoding failures.
    fn upsert(&self, rec: &MessageRecord) -> Result<(), MessageStoreError> {
        self.store.check_space()?;
        let key = row_key(rec);
        let bytes = codec::encode(rec)?;
        self.rows.insert(key.as_slice(), bytes)?;
        let mut replaced = None;
        if let Some(old) = self.ids.insert(rec.id.as_bytes().as_slice(), key.as_slice())? {
            if old.as_ref() != key.as_slice() {
                self.rows.remove(&old)?;
                replaced = Some(old);
            }
        }
        let prefix = session_prefix(rec.flow_id, &rec.session_id);
        self.recent().record(&prefix, &key, rec, replaced.as_deref());
        Ok(())
    }

    /// The message with that id.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn get(&self, id: Uuid) -> Result<Option<MessageRecord>, MessageStoreError> {
        let Some(key) = self.ids.get(id.as_bytes())? else { return Ok(None) };
        match self.rows.get(key)? {
            Some(bytes) => Ok(Some(decode_row(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The last `n` messages of a session, oldest first. Reads exactly the rows it returns.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn last_n(&self, flow_id: Uuid, session_id: &str, n: usize) -> Result<Vec<MessageRecord>, MessageStoreError> {
        self.last_n_matching(flow_id, session_id, n, &mut |_| true)
    }

    /// The last `n` messages of a session that satisfy `keep`, oldest first. Stops scanning as
    /// soon as `n` have been found.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn last_n_matching(
        &self,
        flow_id: Uuid,
        session_id: &str,
        n: usize,
        keep: &mut dyn FnMut(&MessageRecord) -> bool,
    ) -> Result<Vec<MessageRecord>, MessageStoreError> {
        let mut out = Vec::with_capacity(n.min(1024));
        if n == 0 {
            return Ok(out);
        }
        let prefix = session_prefix(flow_id, session_id);
        let mut recent = self.recent();
        if !recent.tails.contains_key(&prefix) {
            let mut rows = VecDeque::new();
            for item in self.rows.scan_prefix(&prefix).rev().take(TAIL_LEN + 1) {
                let (key, bytes) = item?;
                rows.push_front((key.to_vec(), decode_row(&bytes)?));
            }
            let complete = rows.len() <= TAIL_LEN;
            if !complete {
                rows.pop_front();
            }
            recent.insert_tail(prefix.clone(), Tail { rows, complete });
        }
        if let Some(tail) = recent.tails.get(&prefix) {
            for (_, rec) in tail.rows.iter().rev() {
                if keep(rec) {
                    out.push(rec.clone());
                    if out.len() == n {
                        break;
                    }
                }
            }
            if out.len() == n || tail.complete {
                out.reverse();
                return Ok(out);
            }
        }
        drop(recent);
        out.clear();
        for item in self.rows.scan_prefix(prefix).rev() {
            let (_, bytes) = item?;
            let rec = decode_row(&bytes)?;
            if keep(&rec) {
                out.push(rec);
                if out.len() == n {
                    break;
                }
            }
        }
        out.reverse();
        Ok(out)
    }

    /// Messages of a flow (optionally one session), filtered by sender and sender name, in
    /// chronological order within each session; sessions in first-seen order.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn list(
        &self,
        flow_id: Uuid,
        session_id: Option<&str>,
        sender: Option<&str>,
        sender_name: Option<&str>,
    ) -> Result<Vec<MessageRecord>, MessageStoreError> {
        let prefix = match session_id {
            Some(s) => session_prefix(flow_id, s),
            None => flow_id.as_bytes().to_vec(),
        };
        let mut out = Vec::new();
        for item in self.rows.scan_prefix(prefix) {
            let (_, bytes) = item?;
            let rec = decode_row(&bytes)?;
            if sender.is_some_and(|s| s != rec.sender) || sender_name.is_some_and(|s| s != rec.sender_name) {
                continue;
            }
            out.push(rec);
        }
        if session_id.is_none() {
            // Rows are grouped by session; order them by time across sessions.
            out.sort_by_key(|r| r.timestamp);
        }
        Ok(out)
    }

    /// One page of the newest messages of `flows` (optionally one session) that match the
    /// sender filters, newest first: the `offset` newest are skipped and at most `limit`
    /// returned, ordered by timestamp then id, as Langflow pages `/monitor/messages`.
    ///
    /// Only the page is decoded when no sender filter applies (timestamp and id are read from
    /// the row keys), and at most `offset + limit` keys are held while scanning.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn newest_page(
        &self,
        flows: &[Uuid],
        session_id: Option<&str>,
        sender: Option<&str>,
        sender_name: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<MessageRecord>, MessageStoreError> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;

        let keep = offset.saturating_add(limit);
        if keep == 0 || limit == 0 {
            return Ok(Vec::new());
        }
        let filtered = sender.is_some() || sender_name.is_some();
        // Min-heap of the `keep` newest (timestamp, id, row key) seen so far.
        let mut heap: BinaryHeap<Reverse<(Micros, [u8; 16], sled::IVec)>> = BinaryHeap::new();
        for flow_id in flows {
            let prefix = match session_id {
                Some(s) => session_prefix(*flow_id, s),
                None => flow_id.as_bytes().to_vec(),
            };
            for item in self.rows.scan_prefix(prefix) {
                let (key, bytes) = item?;
                let Some((timestamp, id)) = key_order(&key) else { continue };
                if filtered {
                    let rec = decode_row(&bytes)?;
                    if sender.is_some_and(|s| s != rec.sender) || sender_name.is_some_and(|s| s != rec.sender_name) {
                        continue;
                    }
                }
                if heap.len() == keep {
                    match heap.peek() {
                        Some(Reverse(min)) if (min.0, min.1) < (timestamp, id) => {
                            heap.pop();
                        }
                        _ => continue,
                    }
                }
                heap.push(Reverse((timestamp, id, key)));
            }
        }
        let mut newest: Vec<_> = heap.into_iter().map(|Reverse(entry)| entry).collect();
        newest.sort_by_key(|entry| std::cmp::Reverse((entry.0, entry.1)));
        let mut out = Vec::with_capacity(limit.min(newest.len()));
        for (_, _, key) in newest.into_iter().skip(offset).take(limit) {
            if let Some(bytes) = self.rows.get(&key)? {
                out.push(decode_row(&bytes)?);
            }
        }
        Ok(out)
    }

    /// Distinct session ids of a flow, ordered by their first message. Costs one seek per
    /// session, not one read per message.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn sessions(&self, flow_id: Uuid) -> Result<Vec<String>, MessageStoreError> {
        let flow_prefix = flow_id.as_bytes().to_vec();
        let Some(flow_end) = prefix_successor(&flow_prefix) else { return Ok(Vec::new()) };
        let mut found: Vec<(Micros, String)> = Vec::new();
        let mut start = flow_prefix;
        while let Some(item) = self.rows.range(start.as_slice()..flow_end.as_slice()).next() {
            let (key, bytes) = item?;
            let Some(session) = session_of_key(&key).map(str::to_owned) else { break };
            let first = decode_row(&bytes)?.timestamp;
            match prefix_successor(&session_prefix(flow_id, &session)) {
                Some(next) => start = next,
                None => {
                    found.push((first, session));
                    break;
                }
            }
            found.push((first, session));
        }
        found.sort_by_key(|(t, _)| *t);
        Ok(found.into_iter().map(|(_, s)| s).collect())
    }

    /// Applies `patch` to one message. A changed text marks the message edited, as Langflow does.
    /// Returns the updated record, or `None` when there is no such message.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn update(&self, id: Uuid, patch: MessagePatch) -> Result<Option<MessageRecord>, MessageStoreError> {
        let Some(mut rec) = self.get(id)? else { return Ok(None) };
        if let Some(text) = patch.text {
            if text != rec.text {
                rec.edit = true;
            }
            rec.text = text;
        }
        macro_rules! apply {
            ($($field:ident),*) => { $( if let Some(v) = patch.$field { rec.$field = v; } )* };
        }
        apply!(sender, sender_name, session_id, context_id, files, error, properties, category, content_blocks);
        if let Some(edit) = patch.edit {
            rec.edit = rec.edit || edit;
        }
        if let Some(meta) = patch.session_metadata {
            rec.session_metadata = Some(meta);
        }
        self.upsert(&rec)?;
        self.forget_tails();
        Ok(Some(rec))
    }

    /// Moves every message of `old` to `new` within a flow; returns how many moved.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn rename_session(&self, flow_id: Uuid, old: &str, new: &str) -> Result<usize, MessageStoreError> {
        let recs = self.list(flow_id, Some(old), None, None)?;
        if old == new {
            return Ok(recs.len());
        }
        for mut rec in recs.iter().cloned() {
            rec.session_id = new.to_owned();
            self.upsert(&rec)?;
        }
        self.forget_tails();
        Ok(recs.len())
    }

    /// Deletes messages by id; unknown ids are ignored. Returns how many were deleted.
    ///
    /// # Errors
    /// Storage failures.
    fn delete_ids(&self, ids: &[Uuid]) -> Result<usize, MessageStoreError> {
        let mut n = 0;
        for id in ids {
            if let Some(key) = self.ids.remove(id.as_bytes())? {
                self.rows.remove(key)?;
                n += 1;
            }
        }
        self.forget_tails();
        Ok(n)
    }

    /// Deletes one session of a flow. Returns how many messages were deleted.
    ///
    /// # Errors
    /// Storage failures.
    fn delete_session(&self, flow_id: Uuid, session_id: &str) -> Result<usize, MessageStoreError> {
        self.delete_prefix(&session_prefix(flow_id, session_id))
    }

    /// Deletes every message of a flow (the flow itself was deleted).
    ///
    /// # Errors
    /// Storage failures.
    fn delete_flow(&self, flow_id: Uuid) -> Result<usize, MessageStoreError> {
        self.delete_prefix(flow_id.as_bytes())
    }
}
