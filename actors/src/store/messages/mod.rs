//! Chat history: the rows Langflow keeps in its `message` table.
//!
//! Messages are keyed `(flow_id, session_id, timestamp, id)` so that the one hot read — "the last N
//! messages of this session", which the Message History component performs on every turn of a
//! chat — is a reverse prefix scan that stops after N entries, however long the session grows.
//! A second tree maps message id → key for updates and deletes by id.
//!
//! Writes are not fsynced here: the database flushes in the background (see docs/ARCHITECTURE.md, "Storage"),
//! so a crash may lose the last interval's messages but never corrupts them.
//!
//! The tails of recently used sessions are also kept in memory (see [`sled`]), so a chat turn
//! reads its history without touching the tree at all; the tree stays the source of truth.
//!
//! Callers hold a [`MessageStore`]: a handle on a [`MessageRepo`] (the sled implementation is
//! [`sled::SledMessages`]), so another database can be put behind it without touching them.

pub mod sled;

use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::{message_timestamp, Micros};
use crate::codec::CodecError;
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
    Storage(#[from] ::sled::Error),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// The message store's interface. Writes are plain inserts (no fsync, see the module docs), so
/// they run inline on the caller's thread.
#[allow(clippy::missing_errors_doc)]
pub trait MessageRepo: Send + Sync {
    /// Stores a new message (same as [`MessageRepo::upsert`]; ids are unique).
    fn insert(&self, rec: &MessageRecord) -> Result<(), MessageStoreError>;
    /// Stores `rec`, replacing any message with the same id (a streamed message being finalised).
    fn upsert(&self, rec: &MessageRecord) -> Result<(), MessageStoreError>;
    /// The message with that id.
    fn get(&self, id: Uuid) -> Result<Option<MessageRecord>, MessageStoreError>;
    /// The last `n` messages of a session, oldest first.
    fn last_n(&self, flow_id: Uuid, session_id: &str, n: usize) -> Result<Vec<MessageRecord>, MessageStoreError>;
    /// The last `n` messages of a session that satisfy `keep`, oldest first.
    fn last_n_matching(
        &self,
        flow_id: Uuid,
        session_id: &str,
        n: usize,
        keep: &mut dyn FnMut(&MessageRecord) -> bool,
    ) -> Result<Vec<MessageRecord>, MessageStoreError>;
    /// Messages of a flow (optionally one session), filtered by sender and sender name.
    fn list(
        &self,
        flow_id: Uuid,
        session_id: Option<&str>,
        sender: Option<&str>,
        sender_name: Option<&str>,
    ) -> Result<Vec<MessageRecord>, MessageStoreError>;
    /// One page of the newest messages of `flows`, newest first.
    fn newest_page(
        &self,
        flows: &[Uuid],
        session_id: Option<&str>,
        sender: Option<&str>,
        sender_name: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<MessageRecord>, MessageStoreError>;
    /// The session ids of a flow.
    fn sessions(&self, flow_id: Uuid) -> Result<Vec<String>, MessageStoreError>;
    /// Applies a patch to one message; `None` when there is no such message.
    fn update(&self, id: Uuid, patch: MessagePatch) -> Result<Option<MessageRecord>, MessageStoreError>;
    /// Moves a session's messages to another session id; answers how many moved.
    fn rename_session(&self, flow_id: Uuid, old: &str, new: &str) -> Result<usize, MessageStoreError>;
    /// Deletes messages by id; answers how many were deleted.
    fn delete_ids(&self, ids: &[Uuid]) -> Result<usize, MessageStoreError>;
    /// Deletes one session's messages.
    fn delete_session(&self, flow_id: Uuid, session_id: &str) -> Result<usize, MessageStoreError>;
    /// Deletes every message of a flow.
    fn delete_flow(&self, flow_id: Uuid) -> Result<usize, MessageStoreError>;
}

/// Handle on the message store (derefs to [`MessageRepo`]). Cheap to clone.
#[derive(Clone)]
pub struct MessageStore {
    repo: Arc<dyn MessageRepo>,
}

impl MessageStore {
    /// Opens (or creates) the message trees of the sled database.
    ///
    /// # Errors
    /// The sled error met opening the trees.
    pub fn open(store: &Store) -> Result<Self, ::sled::Error> {
        Ok(Self::new(sled::SledMessages::open(store)?))
    }

    #[must_use]
    pub fn new(repo: impl MessageRepo + 'static) -> Self {
        Self { repo: Arc::new(repo) }
    }

    /// [`MessageRepo::last_n_matching`] with any closure.
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
        self.repo.last_n_matching(flow_id, session_id, n, &mut keep)
    }
}

impl Deref for MessageStore {
    type Target = dyn MessageRepo;

    fn deref(&self) -> &Self::Target {
        &*self.repo
    }
}
