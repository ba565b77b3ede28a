//! Chat history on sled: the rows Langflow keeps in its `message` table.
//!
//! Messages are keyed `(flow_id, session_id, timestamp, id)` so that the one hot read — "the last N
//! messages of this session", which the Message History component performs on every turn of a
//! chat — is a reverse prefix scan that stops after N entries, however long the session grows.
//! A second tree maps message id → key for updates and deletes by id.
//!
//! Writes are not fsynced here: the database flushes in the background (see docs/ARCHITECTURE.md, "Storage"),
//! so a crash may lose the last interval's messages but never corrupts them.
//!
//! The tails of recently used sessions are also kept in memory ([`RecentTails`]), so a chat turn
//! reads its history without touching the tree at all; the tree stays the source of truth.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use sled::Tree;
use uuid::Uuid;

use crate::clock::{message_timestamp, Micros};
use crate::codec::{self, CodecError};
use crate::store::Store;

/// One stored chat message. JSON-valued columns are kept as JSON text because the codec is not
/// self-describing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MessageRecord {
    pub id: Uuid,
    pub flow_id: Uuid,
    pub session_id: String,
    pub context_id: String,
    /// Microseconds since the epoch (UTC).
    pub timestamp: Micros,
    /// `"User"` or `"Machine"`.
    pub sender: String,
    pub sender_name: String,
    pub text: String,
    pub files: Vec<String>,
    pub error: bool,
    pub edit: bool,
    /// JSON object text.
    pub properties: String,
    pub category: String,
    /// JSON array text.
    pub content_blocks: String,
    /// JSON text, or `None` for SQL NULL.
    pub session_metadata: Option<String>,
    pub duration: Option<f64>,
}

impl MessageRecord {
    /// Langflow's `MessageResponse` JSON (what `/api/v1/monitor/messages` returns).
    ///
    /// `files` is a JSON-encoded *string*, a quirk of Langflow's response model that clients
    /// depend on.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let files = serde_json::to_string(&self.files).unwrap_or_else(|_| "[]".to_owned());
        serde_json::json!({
            "id": self.id.to_string(),
            "flow_id": self.flow_id.to_string(),
            "timestamp": message_timestamp(self.timestamp),
            "sender": self.sender,
            "sender_name": self.sender_name,
            "session_id": self.session_id,
            "context_id": self.context_id,
            "text": self.text,
            "files": files,
            "edit": self.edit,
            "duration": self.duration,
            "properties": parse_or(&self.properties, serde_json::json!({})),
            "category": self.category,
            "content_blocks": parse_or(&self.content_blocks, serde_json::json!([])),
            "session_metadata": self
                .session_metadata
                .as_deref()
                .map_or(serde_json::Value::Null, |t| parse_or(t, serde_json::Value::Null)),
        })
    }
}

fn parse_or(text: &str, fallback: serde_json::Value) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(fallback)
}

/// Fields a `PUT /monitor/messages/{id}` may change. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MessagePatch {
    pub text: Option<String>,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub session_id: Option<String>,
    pub context_id: Option<String>,
    pub files: Option<Vec<String>>,
    pub edit: Option<bool>,
    pub error: Option<bool>,
    /// JSON object text.
    pub properties: Option<String>,
    /// JSON text.
    pub session_metadata: Option<String>,
    pub category: Option<String>,
    /// JSON array text.
    pub content_blocks: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MessageStoreError {
    #[error("storage error: {0}")]
    Storage(#[from] sled::Error),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Messages kept per cached session tail.
const TAIL_LEN: usize = 128;
/// Sessions whose tails are cached at once.
const TAIL_SESSIONS: usize = 1024;

/// The last [`TAIL_LEN`] rows of recently read sessions, in key order, exactly as in the tree.
///
/// Consistency: a tail is filled by scanning the tree while the cache lock is held, and every
/// write updates the tree first and the cached tail second (under the lock), so a tail never
/// misses a write made before or during its fill. Rare operations (edits, renames, deletes)
/// simply drop every tail.
#[derive(Default)]
struct RecentTails {
    tails: HashMap<Vec<u8>, Tail>,
    /// Insertion order, for eviction.
    order: VecDeque<Vec<u8>>,
}

struct Tail {
    /// `(row key, record)` in key order.
    rows: VecDeque<(Vec<u8>, MessageRecord)>,
    /// The tail holds the whole session (it had fewer rows than [`TAIL_LEN`] when filled, and
    /// nothing was trimmed since).
    complete: bool,
}

impl RecentTails {
    fn insert_tail(&mut self, prefix: Vec<u8>, tail: Tail) {
        if self.tails.len() >= TAIL_SESSIONS {
            if let Some(old) = self.order.pop_front() {
                self.tails.remove(&old);
            }
        }
        self.order.push_back(prefix.clone());
        self.tails.insert(prefix, tail);
    }

    /// Applies a write to the cached tail of its session, if that session is cached.
    fn record(&mut self, prefix: &[u8], key: &[u8], rec: &MessageRecord, replaced: Option<&[u8]>) {
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

    fn clear(&mut self) {
        self.tails.clear();
        self.order.clear();
    }
}

/// Handle on the message trees. Cheap to clone.
#[derive(Clone)]
pub struct MessageStore {
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

impl MessageStore {
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

    /// Stores a new message (same as [`MessageStore::upsert`]; ids are unique).
    ///
    /// # Errors
    /// Storage or encoding failures.
    pub fn insert(&self, rec: &MessageRecord) -> Result<(), MessageStoreError> {
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
    pub fn upsert(&self, rec: &MessageRecord) -> Result<(), MessageStoreError> {
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
    pub fn get(&self, id: Uuid) -> Result<Option<MessageRecord>, MessageStoreError> {
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
    pub fn last_n(&self, flow_id: Uuid, session_id: &str, n: usize) -> Result<Vec<MessageRecord>, MessageStoreError> {
        self.last_n_matching(flow_id, session_id, n, |_| true)
    }

    /// The last `n` messages of a session that satisfy `keep`, oldest first. Stops scanning as
    /// soon as `n` have been found.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn last_n_matching(
        &self,
        flow_id: Uuid,
        session_id: &str,
        n: usize,
        mut keep: impl FnMut(&MessageRecord) -> bool,
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
    pub fn list(
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
    pub fn newest_page(
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
    pub fn sessions(&self, flow_id: Uuid) -> Result<Vec<String>, MessageStoreError> {
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
    pub fn update(&self, id: Uuid, patch: MessagePatch) -> Result<Option<MessageRecord>, MessageStoreError> {
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
    pub fn rename_session(&self, flow_id: Uuid, old: &str, new: &str) -> Result<usize, MessageStoreError> {
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
    pub fn delete_ids(&self, ids: &[Uuid]) -> Result<usize, MessageStoreError> {
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
    pub fn delete_session(&self, flow_id: Uuid, session_id: &str) -> Result<usize, MessageStoreError> {
        self.delete_prefix(&session_prefix(flow_id, session_id))
    }

    /// Deletes every message of a flow (the flow itself was deleted).
    ///
    /// # Errors
    /// Storage failures.
    pub fn delete_flow(&self, flow_id: Uuid) -> Result<usize, MessageStoreError> {
        self.delete_prefix(flow_id.as_bytes())
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn record(flow: Uuid, session: &str, t: Micros, text: &str, sender: &str) -> MessageRecord {
        MessageRecord {
            id: Uuid::new_v4(),
            flow_id: flow,
            session_id: session.into(),
            context_id: String::new(),
            timestamp: t,
            sender: sender.into(),
            sender_name: if sender == "User" { "User".into() } else { "AI".into() },
            text: text.into(),
            files: vec![],
            error: false,
            edit: false,
            properties: "{}".into(),
            category: "message".into(),
            content_blocks: "[]".into(),
            session_metadata: None,
            duration: None,
        }
    }

    fn store() -> MessageStore {
        MessageStore::open(&Store::temporary().unwrap()).unwrap()
    }

    #[test]
    fn newest_page_pages_across_sessions_and_flows_decoding_only_the_page() {
        let ms = store();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        for i in 0..500 {
            let session = if i % 2 == 0 { "even" } else { "odd" };
            ms.insert(&record(if i % 3 == 0 { a } else { b }, session, 1_000 + i, &format!("m{i}"), "User")).unwrap();
        }
        ROWS_DECODED.with(|c| c.set(0));
        let page = ms.newest_page(&[a, b], None, None, None, 10, 5).unwrap();
        assert_eq!(ROWS_DECODED.with(std::cell::Cell::get), 5);
        let texts: Vec<_> = page.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["m489", "m488", "m487", "m486", "m485"]);
        let odd = ms.newest_page(&[b], Some("odd"), Some("User"), None, 0, 2).unwrap();
        let texts: Vec<_> = odd.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["m499", "m497"]);
        assert!(ms.newest_page(&[a, b], None, None, None, 500, 5).unwrap().is_empty());
    }

    #[test]
    fn last_n_reads_only_n_rows_of_a_long_session() {
        let ms = store();
        let flow = Uuid::new_v4();
        for i in 0..5_000 {
            ms.insert(&record(flow, "long", 1_000 + i, &format!("m{i}"), "User")).unwrap();
        }
        ms.insert(&record(flow, "other", 10, "x", "User")).unwrap();
        ROWS_DECODED.with(|c| c.set(0));
        let last = ms.last_n(flow, "long", 3).unwrap();
        // The first read fills the session's cached tail: a bounded number of rows, whatever
        // the session's length.
        assert_eq!(ROWS_DECODED.with(std::cell::Cell::get), TAIL_LEN + 1);
        let texts: Vec<_> = last.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["m4997", "m4998", "m4999"]);
        // Later turns read from memory, and see new writes.
        ms.insert(&record(flow, "long", 9_000, "new", "User")).unwrap();
        ROWS_DECODED.with(|c| c.set(0));
        let texts: Vec<_> = ms.last_n(flow, "long", 2).unwrap().into_iter().map(|r| r.text).collect();
        assert_eq!(texts, ["m4999", "new"]);
        assert_eq!(ROWS_DECODED.with(std::cell::Cell::get), 0);
        // Beyond the tail, the tree is read: exactly the rows asked for.
        ROWS_DECODED.with(|c| c.set(0));
        assert_eq!(ms.last_n(flow, "long", 200).unwrap().len(), 200);
        assert_eq!(ROWS_DECODED.with(std::cell::Cell::get), 200);
    }

    #[test]
    fn cached_tails_follow_edits_and_deletes() {
        let ms = store();
        let flow = Uuid::new_v4();
        let a = record(flow, "s", 1, "a", "User");
        ms.insert(&a).unwrap();
        assert_eq!(ms.last_n(flow, "s", 10).unwrap().len(), 1);
        ms.update(a.id, MessagePatch { text: Some("edited".into()), ..MessagePatch::default() }).unwrap();
        assert_eq!(ms.last_n(flow, "s", 10).unwrap()[0].text, "edited");
        ms.rename_session(flow, "s", "t").unwrap();
        assert!(ms.last_n(flow, "s", 10).unwrap().is_empty());
        assert_eq!(ms.last_n(flow, "t", 10).unwrap().len(), 1);
        ms.delete_ids(&[a.id]).unwrap();
        assert!(ms.last_n(flow, "t", 10).unwrap().is_empty());
        ms.insert(&record(flow, "t", 5, "b", "Machine")).unwrap();
        ms.delete_session(flow, "t").unwrap();
        assert!(ms.last_n(flow, "t", 10).unwrap().is_empty());
    }

    #[test]
    fn upsert_replaces_and_update_moves_sessions() {
        let ms = store();
        let flow = Uuid::new_v4();
        let mut rec = record(flow, "s", 5, "partial", "Machine");
        ms.insert(&rec).unwrap();
        rec.text = "complete".into();
        rec.timestamp = 6;
        ms.upsert(&rec).unwrap();
        assert_eq!(ms.list(flow, Some("s"), None, None).unwrap().len(), 1);
        assert_eq!(ms.get(rec.id).unwrap().unwrap().text, "complete");

        let patch = MessagePatch { text: Some("edited".into()), session_id: Some("t".into()), ..Default::default() };
        let updated = ms.update(rec.id, patch).unwrap().unwrap();
        assert!(updated.edit);
        assert!(ms.list(flow, Some("s"), None, None).unwrap().is_empty());
        assert_eq!(ms.last_n(flow, "t", 10).unwrap()[0].text, "edited");
        assert!(ms.update(Uuid::new_v4(), MessagePatch::default()).unwrap().is_none());
    }

    #[test]
    fn sessions_filters_renames_and_deletes() {
        let ms = store();
        let flow = Uuid::new_v4();
        let other_flow = Uuid::new_v4();
        ms.insert(&record(flow, "b", 1, "b1", "User")).unwrap();
        ms.insert(&record(flow, "a", 2, "a1", "User")).unwrap();
        ms.insert(&record(flow, "b", 3, "b2", "Machine")).unwrap();
        ms.insert(&record(flow, "ab", 4, "ab1", "Machine")).unwrap();
        ms.insert(&record(other_flow, "b", 1, "x", "User")).unwrap();

        assert_eq!(ms.sessions(flow).unwrap(), ["b", "a", "ab"]);
        let machine = ms.list(flow, None, Some("Machine"), None).unwrap();
        assert_eq!(machine.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(), ["b2", "ab1"]);
        assert_eq!(ms.list(flow, None, None, None).unwrap().len(), 4);

        assert_eq!(ms.rename_session(flow, "b", "c").unwrap(), 2);
        assert_eq!(ms.sessions(flow).unwrap(), ["c", "a", "ab"]);
        assert_eq!(ms.delete_session(flow, "a").unwrap(), 1);
        assert_eq!(ms.sessions(flow).unwrap(), ["c", "ab"]);

        let ids: Vec<_> = ms.list(flow, Some("c"), None, None).unwrap().iter().map(|r| r.id).collect();
        assert_eq!(ms.delete_ids(&ids[..1]).unwrap(), 1);
        assert_eq!(ms.list(flow, Some("c"), None, None).unwrap().len(), 1);

        assert_eq!(ms.delete_flow(flow).unwrap(), 2);
        assert!(ms.sessions(flow).unwrap().is_empty());
        assert_eq!(ms.sessions(other_flow).unwrap(), ["b"]);
        assert!(ms.get(ids[1]).unwrap().is_none());
    }

    #[test]
    fn json_matches_langflow_message_response() {
        let rec = record(Uuid::nil(), "s", 1_732_372_281_358_976, "hi", "User");
        let j = rec.to_json();
        assert_eq!(j["files"], "[]");
        assert_eq!(j["timestamp"], "2024-11-23 14:31:21.358976 UTC");
        assert_eq!(j["properties"], serde_json::json!({}));
        assert_eq!(j["content_blocks"], serde_json::json!([]));
        assert!(j["session_metadata"].is_null());
        assert_eq!(j["sender"], "User");
    }
}
