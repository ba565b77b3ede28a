//! Flows and projects (Langflow's "folders") on sled, scoped to their owner.
//!
//! This is the only code that writes the flow trees. Every lookup takes the caller's user id, so
//! another user's flow or project is indistinguishable from a missing one; the HTTP front never
//! has to remember an ownership check. The flow document (`data`) is kept as canonical JSON text
//! (sorted keys, compact) with a BLAKE3 hash of those bytes, computed once at write time, so the
//! engine can cache compiled graphs by (flow id, content hash).
//!
//! Writers are serialised by the store's flow writer lock (uniqueness checks and the `X (1)` /
//! `ep-1` suffixes read indexes before writing), every change of several records is one sled
//! transaction, and callers make a write durable with [`FlowStore::durable`] before acknowledging
//! it. Nothing here knows about HTTP; chat messages of deleted flows are someone else's job.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError,
};
use sled::{Transactional, Tree};
use uuid::Uuid;

use super::{compose, Store};
use crate::clock::{now_micros, Micros};
use crate::codec::{self, CodecError};
use crate::error::RegistryError;

/// Name of the project every user gets on first need.
pub const DEFAULT_PROJECT_NAME: &str = "Starter Project";
/// Its description, as Langflow writes it.
pub const DEFAULT_PROJECT_DESCRIPTION: &str = "Manage your own flows. Download and upload projects.";
/// Longest flow or project name, in characters.
pub const MAX_NAME_LEN: usize = 255;
/// Largest description (and action description), in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 64 * 1024;
/// Longest short text field (icon, gradient, action name, one tag), in characters.
pub const MAX_SHORT_TEXT_LEN: usize = 1024;
/// Most tags on one flow.
pub const MAX_TAGS: usize = 100;
/// Largest `auth_settings` JSON text of a project, in bytes.
pub const MAX_AUTH_SETTINGS_LEN: usize = 64 * 1024;
/// Deepest project nesting accepted (guards the parent-cycle walk).
const MAX_PROJECT_DEPTH: usize = 64;

pub const FLOW_NOT_FOUND: &str = "Flow not found";
pub const PROJECT_NOT_FOUND: &str = "Project not found";
/// An anonymous webhook named an endpoint that flows of several users carry.
pub const AMBIGUOUS_ENDPOINT: &str =
    "Several users' flows have this endpoint name: call the webhook by flow id or with the owner's API key";
pub const FOLDER_NOT_FOUND: &str = "Folder not found";
pub const NAME_TAKEN: &str = "Name must be unique";
pub const ENDPOINT_TAKEN: &str = "Endpoint name must be unique";
pub const PROJECT_NAME_TAKEN: &str = "Project name must be unique";
pub const FLOW_ID_TAKEN: &str = "A flow with this id already exists";
pub const PARENT_NOT_FOUND: &str = "Parent project not found";
pub const ENDPOINT_FORMAT: &str = "Endpoint name must contain only letters, numbers, hyphens, and underscores";

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// Missing or owned by someone else (404).
    #[error("{0}")]
    NotFound(&'static str),
    /// A request the rules refuse (400).
    #[error("{0}")]
    Invalid(&'static str),
    /// A per-user unique name or id is taken (409, or 400 where Langflow says so).
    #[error("{0}")]
    Conflict(&'static str),
    /// `If-Match` did not match the stored flow (412).
    #[error("Flow has changed since it was read")]
    Precondition,
    /// A field fails its validation (422).
    #[error("{field}: {message}")]
    Validation { field: &'static str, message: String },
    /// Batch creation with ids that already exist (422).
    #[error("Flow(s) with the following IDs already exist: {}. Use the update endpoint or upload_file() for upsert semantics.", join_ids(.0))]
    IdsExist(Vec<Uuid>),
    #[error("storage error: {0}")]
    Storage(#[from] sled::Error),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

fn join_ids(ids: &[Uuid]) -> String {
    ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", ")
}

impl From<TransactionError<FlowError>> for FlowError {
    fn from(e: TransactionError<FlowError>) -> Self {
        match e {
            TransactionError::Abort(inner) => inner,
            TransactionError::Storage(s) => Self::Storage(s),
        }
    }
}

impl From<FlowError> for RegistryError {
    fn from(e: FlowError) -> Self {
        match e {
            FlowError::Storage(s) => Self::Storage(s),
            FlowError::Codec(c) => Self::Codec(c),
            FlowError::NotFound(m) => Self::NotFound(m),
            other => Self::Invalid(other.to_string()),
        }
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<FlowError>>;

fn abort<T>(e: FlowError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

fn invalid(field: &'static str, message: impl Into<String>) -> FlowError {
    FlowError::Validation { field, message: message.into() }
}

/// Langflow's `access_type`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum AccessType {
    #[default]
    Private,
    Public,
}

impl AccessType {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "PRIVATE",
            Self::Public => "PUBLIC",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "PRIVATE" => Some(Self::Private),
            "PUBLIC" => Some(Self::Public),
            _ => None,
        }
    }
}

/// A stored flow.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FlowRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub folder_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub icon_bg_color: Option<String>,
    pub gradient: Option<String>,
    /// The flow document as canonical JSON text; `None` is JSON `null`.
    pub data: Option<String>,
    /// BLAKE3 of the canonical bytes of `data` (`null` when there is none).
    pub content_hash: [u8; 32],
    pub is_component: bool,
    /// True when a node is a Webhook component (server-computed).
    pub webhook: bool,
    pub endpoint_name: Option<String>,
    pub tags: Vec<String>,
    pub locked: bool,
    pub mcp_enabled: bool,
    pub action_name: Option<String>,
    pub action_description: Option<String>,
    pub access_type: AccessType,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl FlowRecord {
    /// The flow document as a JSON value (`Null` when there is none).
    ///
    /// # Errors
    /// Only if the stored text is corrupt.
    pub fn data_value(&self) -> Result<Value, FlowError> {
        match &self.data {
            None => Ok(Value::Null),
            Some(text) => serde_json::from_str(text).map_err(|e| FlowError::Codec(CodecError::Decode(e.to_string()))),
        }
    }

    /// Entity tag of everything a reader sees: BLAKE3 of the encoded record, in hex.
    ///
    /// # Errors
    /// Only if the record cannot be encoded.
    pub fn etag(&self) -> Result<String, FlowError> {
        Ok(blake3::hash(&codec::encode(self)?).to_hex().to_string())
    }
}

/// A stored project (Langflow's folder).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProjectRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// MCP auth settings as JSON text.
    pub auth_settings: Option<String>,
    pub parent_id: Option<Uuid>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// Flow fields from a client. `None` means "not given"; for PATCH-like updates only given fields
/// change. `endpoint_name: Some(None)` clears the endpoint name.
#[derive(Debug, Clone, Default)]
pub struct FlowInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub icon_bg_color: Option<String>,
    pub gradient: Option<String>,
    /// `Some(Value::Null)` stores no document on create and changes nothing on update.
    pub data: Option<Value>,
    pub is_component: Option<bool>,
    pub endpoint_name: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub locked: Option<bool>,
    pub mcp_enabled: Option<bool>,
    pub action_name: Option<String>,
    pub action_description: Option<String>,
    pub access_type: Option<AccessType>,
    pub folder_id: Option<Uuid>,
}

/// Project fields for creation.
#[derive(Debug, Clone, Default)]
pub struct NewProject {
    pub name: String,
    pub description: Option<String>,
    pub auth_settings: Option<String>,
    pub parent_id: Option<Uuid>,
}

/// Project fields a PATCH may change (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub auth_settings: Option<String>,
    pub parent_id: Option<Uuid>,
}

/// `If-Match` as the store evaluates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// Entity tags (hex, unquoted); one must equal the current tag.
    Tags(Vec<String>),
}

impl IfMatch {
    fn check(&self, current: Option<&FlowRecord>) -> Result<(), FlowError> {
        let Some(rec) = current else { return Err(FlowError::Precondition) };
        match self {
            Self::Any => Ok(()),
            Self::Tags(tags) => {
                let tag = rec.etag()?;
                if tags.contains(&tag) {
                    Ok(())
                } else {
                    Err(FlowError::Precondition)
                }
            }
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Validation and canonical form.

/// Langflow's `^[a-zA-Z0-9_-]+$`.
#[must_use]
pub fn valid_endpoint_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check_name(field: &'static str, name: &str) -> Result<(), FlowError> {
    if name.chars().count() > MAX_NAME_LEN {
        return Err(invalid(field, format!("String should have at most {MAX_NAME_LEN} characters")));
    }
    if name.contains('\0') {
        return Err(invalid(field, "String should not contain NUL characters"));
    }
    Ok(())
}

fn check_text(field: &'static str, text: Option<&str>, max_bytes: usize) -> Result<(), FlowError> {
    match text {
        Some(t) if t.len() > max_bytes => Err(invalid(field, format!("String should have at most {max_bytes} bytes"))),
        Some(t) if t.contains('\0') => Err(invalid(field, "String should not contain NUL characters")),
        _ => Ok(()),
    }
}

fn validate_data(data: &Value) -> Result<(), FlowError> {
    match data {
        Value::Null => Ok(()),
        Value::Object(map) if map.is_empty() => Ok(()),
        Value::Object(map) if !map.contains_key("nodes") => Err(invalid("data", "Value error, Flow must have nodes")),
        Value::Object(map) if !map.contains_key("edges") => Err(invalid("data", "Value error, Flow must have edges")),
        Value::Object(_) => Ok(()),
        _ => Err(invalid("data", "Value error, Flow must be a valid JSON")),
    }
}

fn validate_input(input: &FlowInput) -> Result<(), FlowError> {
    if let Some(name) = &input.name {
        check_name("name", name)?;
    }
    check_text("description", input.description.as_deref(), MAX_DESCRIPTION_LEN)?;
    check_text("action_description", input.action_description.as_deref(), MAX_DESCRIPTION_LEN)?;
    check_text("icon", input.icon.as_deref(), MAX_SHORT_TEXT_LEN)?;
    check_text("gradient", input.gradient.as_deref(), MAX_SHORT_TEXT_LEN)?;
    check_text("action_name", input.action_name.as_deref(), MAX_SHORT_TEXT_LEN)?;
    if let Some(color) = &input.icon_bg_color {
        if !color.starts_with('#') {
            return Err(invalid("icon_bg_color", "Value error, Icon background color must start with #"));
        }
        if color.chars().count() != 7 {
            return Err(invalid("icon_bg_color", "Value error, Icon background color must be 7 characters long"));
        }
    }
    if let Some(Some(ep)) = &input.endpoint_name {
        if !valid_endpoint_name(ep) {
            return Err(invalid("endpoint_name", format!("Value error, {ENDPOINT_FORMAT}")));
        }
        check_name("endpoint_name", ep)?;
    }
    if let Some(tags) = &input.tags {
        if tags.len() > MAX_TAGS {
            return Err(invalid("tags", format!("List should have at most {MAX_TAGS} items")));
        }
        for tag in tags {
            check_text("tags", Some(tag), MAX_SHORT_TEXT_LEN)?;
        }
    }
    if let Some(data) = &input.data {
        validate_data(data)?;
    }
    Ok(())
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), FlowError> {
    let enc = |e: serde_json::Error| FlowError::Codec(CodecError::Encode(e.to_string()));
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).map_err(enc)?;
                out.push(b':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out)?;
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar).map_err(enc)?,
    }
    Ok(())
}

/// The canonical JSON bytes of a value: object keys sorted, no whitespace. Equal JSON values
/// (whatever their key order) give equal bytes, so the hash identifies the document.
///
/// # Errors
/// Never for values parsed from JSON.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, FlowError> {
    let mut out = Vec::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

/// Canonical text and content hash of a flow document.
fn document(data: &Value) -> Result<(Option<String>, [u8; 32]), FlowError> {
    let bytes = canonical_json(data)?;
    let hash = *blake3::hash(&bytes).as_bytes();
    if data.is_null() {
        return Ok((None, hash));
    }
    let text = String::from_utf8(bytes).map_err(|e| FlowError::Codec(CodecError::Encode(e.to_string())))?;
    Ok((Some(text), hash))
}

/// True when a node of the document is a Webhook component.
#[must_use]
pub fn has_webhook(data: &Value) -> bool {
    data.get("nodes").and_then(Value::as_array).is_some_and(|nodes| {
        nodes.iter().any(|n| n.get("data").and_then(|d| d.get("type")).and_then(Value::as_str) == Some("Webhook"))
    })
}

/// Parses a UUID the way Python's `UUID(str)` does: hyphens anywhere, optional `{}` braces and
/// `urn:uuid:` prefix, hex digits in either case.
#[must_use]
pub fn parse_python_uuid(text: &str) -> Option<Uuid> {
    let stripped = text.replace("urn:", "").replace("uuid:", "");
    let hex: String = stripped.trim_matches(|c| c == '{' || c == '}').chars().filter(|&c| c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Uuid::try_parse(&hex).ok()
}

/// How a unique index numbers its duplicates.
#[derive(Clone, Copy)]
enum Suffix {
    /// `Name (n)` (flow names).
    Paren,
    /// `endpoint-n` (endpoint names).
    Dash,
}

impl Suffix {
    fn prefix(self, base: &str) -> String {
        match self {
            Self::Paren => format!("{base} ("),
            Self::Dash => format!("{base}-"),
        }
    }

    fn candidate(self, base: &str, n: u64) -> String {
        match self {
            Self::Paren => format!("{base} ({n})"),
            Self::Dash => format!("{base}-{n}"),
        }
    }

    fn parse(self, name: &str) -> Option<u64> {
        match self {
            Self::Paren => paren_suffix(name),
            Self::Dash => dash_suffix(name),
        }
    }
}

/// The number in a trailing `(n)`.
fn paren_suffix(name: &str) -> Option<u64> {
    let inner = name.strip_suffix(')')?;
    let (_, digits) = inner.rsplit_once('(')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
}

/// The number after the last `-`.
fn dash_suffix(name: &str) -> Option<u64> {
    let (_, digits) = name.rsplit_once('-')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
}

fn uuid_at(bytes: &[u8]) -> Option<Uuid> {
    Uuid::from_slice(bytes).ok()
}

// ----------------------------------------------------------------------------------------------
// Transactions.

/// Views of the flow trees inside one transaction, in [`Store::flow_trees`] order.
struct FlowViews<'a> {
    flows: &'a TransactionalTree,
    names: &'a TransactionalTree,
    endpoints: &'a TransactionalTree,
    user_flows: &'a TransactionalTree,
    projects: &'a TransactionalTree,
    project_names: &'a TransactionalTree,
    user_projects: &'a TransactionalTree,
}

impl<'a> FlowViews<'a> {
    fn new(views: &'a [TransactionalTree]) -> Option<Self> {
        let [flows, names, endpoints, user_flows, projects, project_names, user_projects] = views else {
            return None;
        };
        Some(Self { flows, names, endpoints, user_flows, projects, project_names, user_projects })
    }

    fn remove_flow(&self, rec: &FlowRecord) -> Result<(), UnabortableTransactionError> {
        self.remove_flow_indexes(rec)?;
        self.user_flows.remove(compose(rec.user_id.as_bytes(), rec.id.as_bytes()))?;
        self.flows.remove(rec.id.as_bytes())?;
        Ok(())
    }

    /// Removes the name and endpoint index entries, only where they still point at `rec`.
    fn remove_flow_indexes(&self, rec: &FlowRecord) -> Result<(), UnabortableTransactionError> {
        let name_key = compose(rec.user_id.as_bytes(), rec.name.as_bytes());
        if self.names.get(&name_key)?.is_some_and(|v| v.as_ref() == rec.id.as_bytes()) {
            self.names.remove(name_key)?;
        }
        if let Some(ep) = &rec.endpoint_name {
            let ep_key = compose(rec.user_id.as_bytes(), ep.as_bytes());
            if self.endpoints.get(&ep_key)?.is_some_and(|v| v.as_ref() == rec.id.as_bytes()) {
                self.endpoints.remove(ep_key)?;
            }
        }
        Ok(())
    }

    fn put_flow(&self, rec: &FlowRecord, bytes: &[u8]) -> TxResult<()> {
        let name_key = compose(rec.user_id.as_bytes(), rec.name.as_bytes());
        if self.names.get(&name_key)?.is_some_and(|v| v.as_ref() != rec.id.as_bytes()) {
            return abort(FlowError::Conflict(NAME_TAKEN));
        }
        if let Some(ep) = &rec.endpoint_name {
            let ep_key = compose(rec.user_id.as_bytes(), ep.as_bytes());
            if self.endpoints.get(&ep_key)?.is_some_and(|v| v.as_ref() != rec.id.as_bytes()) {
                return abort(FlowError::Conflict(ENDPOINT_TAKEN));
            }
            self.endpoints.insert(ep_key, rec.id.as_bytes())?;
        }
        self.names.insert(name_key, rec.id.as_bytes())?;
        self.user_flows.insert(compose(rec.user_id.as_bytes(), rec.id.as_bytes()), &[])?;
        self.flows.insert(rec.id.as_bytes(), bytes)?;
        Ok(())
    }

    fn remove_project(&self, rec: &ProjectRecord) -> Result<(), UnabortableTransactionError> {
        self.remove_project_name(rec)?;
        self.user_projects.remove(compose(rec.user_id.as_bytes(), rec.id.as_bytes()))?;
        self.projects.remove(rec.id.as_bytes())?;
        Ok(())
    }

    fn remove_project_name(&self, rec: &ProjectRecord) -> Result<(), UnabortableTransactionError> {
        let key = compose(rec.user_id.as_bytes(), rec.name.as_bytes());
        if self.project_names.get(&key)?.is_some_and(|v| v.as_ref() == rec.id.as_bytes()) {
            self.project_names.remove(key)?;
        }
        Ok(())
    }

    fn put_project(&self, rec: &ProjectRecord, bytes: &[u8]) -> TxResult<()> {
        let key = compose(rec.user_id.as_bytes(), rec.name.as_bytes());
        if self.project_names.get(&key)?.is_some_and(|v| v.as_ref() != rec.id.as_bytes()) {
            return abort(FlowError::Conflict(PROJECT_NAME_TAKEN));
        }
        self.project_names.insert(key, rec.id.as_bytes())?;
        self.user_projects.insert(compose(rec.user_id.as_bytes(), rec.id.as_bytes()), &[])?;
        self.projects.insert(rec.id.as_bytes(), bytes)?;
        Ok(())
    }
}

/// A set of record changes committed in one transaction: `(old, new)` pairs where `None` on the
/// left inserts and `None` on the right deletes.
#[derive(Default)]
struct ChangeSet {
    flows: Vec<(Option<FlowRecord>, Option<FlowRecord>)>,
    projects: Vec<(Option<ProjectRecord>, Option<ProjectRecord>)>,
}

/// Everything a user owns in the flow trees, collected so the user's deletion can remove it in
/// the same transaction as the user record (see `Registry::delete_user`).
#[derive(Debug, Default)]
pub struct UserFlowsDeletion {
    flows: Vec<FlowRecord>,
    projects: Vec<ProjectRecord>,
}

impl UserFlowsDeletion {
    /// Collects the user's flows and projects. Hold [`Store::flow_writer`] from here until the
    /// transaction that applies it has committed, so no flow appears in between.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn collect(store: &Store, user: Uuid) -> Result<Self, FlowError> {
        let flows = FlowStore::new(store.clone());
        Ok(Self { flows: flows.owned_flows(user)?, projects: flows.owned_projects(user)? })
    }

    /// Ids of the flows that will be deleted (for cleaning up their messages afterwards).
    #[must_use]
    pub fn flow_ids(&self) -> Vec<Uuid> {
        self.flows.iter().map(|f| f.id).collect()
    }

    /// Removes everything collected; `views` are the transaction's views of
    /// [`Store::flow_trees`], in that order.
    ///
    /// # Errors
    /// Storage failures or a conflict (sled retries the transaction); a wrong number of views is
    /// reported as an unsupported storage operation.
    pub fn apply(&self, views: &[TransactionalTree]) -> Result<(), UnabortableTransactionError> {
        let Some(v) = FlowViews::new(views) else {
            return Err(UnabortableTransactionError::Storage(sled::Error::Unsupported(
                "flow deletion needs the seven flow trees".into(),
            )));
        };
        for f in &self.flows {
            v.remove_flow(f)?;
        }
        for p in &self.projects {
            v.remove_project(p)?;
        }
        Ok(())
    }
}

// ----------------------------------------------------------------------------------------------
// The store.

/// Handle on the flow and project trees. Cheap to clone.
#[derive(Clone)]
pub struct FlowStore {
    store: Store,
}

/// What to do with a `folder_id` that is not one of the caller's projects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ForeignFolder {
    UseDefault,
    Refuse,
}

/// Names taken by earlier records of the same multi-flow write.
#[derive(Default)]
struct Pending {
    names: HashSet<String>,
    endpoints: HashSet<String>,
    ids: HashSet<Uuid>,
}

impl FlowStore {
    #[must_use]
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Waits until every write made so far is on disk; call before acknowledging a write.
    ///
    /// # Errors
    /// The I/O error sled met while flushing.
    pub async fn durable(&self) -> Result<(), FlowError> {
        self.store.durable().await.map_err(FlowError::from)
    }

    // -- reads ---------------------------------------------------------------------------------

    /// A flow by id, whoever owns it. Only for internal callers that apply their own access
    /// rule (public flows); request handlers use [`FlowStore::get_owned`].
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn get(&self, id: Uuid) -> Result<Option<FlowRecord>, FlowError> {
        self.store.flows.get(id.as_bytes())?.map(|b| codec::decode(&b).map_err(FlowError::from)).transpose()
    }

    /// The caller's flow; `None` when missing or someone else's.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn get_owned(&self, user: Uuid, id: Uuid) -> Result<Option<FlowRecord>, FlowError> {
        Ok(self.get(id)?.filter(|f| f.user_id == user))
    }

    /// The caller's flow with this endpoint name.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn find_by_endpoint(&self, user: Uuid, endpoint_name: &str) -> Result<Option<FlowRecord>, FlowError> {
        let Some(id) = self.store.flow_endpoints.get(compose(user.as_bytes(), endpoint_name.as_bytes()))? else {
            return Ok(None);
        };
        let Some(id) = uuid_at(&id) else { return Ok(None) };
        self.get_owned(user, id)
    }

    /// Langflow's `flow_id_or_name`: a UUID (any form Python accepts) is looked up as an id
    /// only; anything else as an endpoint name. Both are scoped to the caller.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn resolve(&self, user: Uuid, id_or_name: &str) -> Result<Option<FlowRecord>, FlowError> {
        match parse_python_uuid(id_or_name) {
            Some(id) => self.get_owned(user, id),
            None => self.find_by_endpoint(user, id_or_name),
        }
    }

    /// Like [`FlowStore::resolve`] but across all owners: only for webhooks when
    /// `LANGFLOW_WEBHOOK_AUTH_ENABLE` is off. Langflow takes the first flow with that endpoint
    /// name; here a name that several users' flows carry is refused rather than resolved to
    /// whichever owner id sorts first. A linear scan of the endpoint index, acceptable for that
    /// rare setting.
    ///
    /// # Errors
    /// [`FlowError::Conflict`] for an endpoint name several owners use; storage or decoding
    /// failures.
    pub fn resolve_any(&self, id_or_name: &str) -> Result<Option<FlowRecord>, FlowError> {
        if let Some(id) = parse_python_uuid(id_or_name) {
            return self.get(id);
        }
        let mut found = None;
        for item in &self.store.flow_endpoints {
            let (key, id) = item?;
            if key.get(16..) == Some(id_or_name.as_bytes()) {
                if let Some(id) = uuid_at(&id) {
                    if found.replace(id).is_some() {
                        return Err(FlowError::Conflict(AMBIGUOUS_ENDPOINT));
                    }
                }
            }
        }
        match found {
            Some(id) => self.get(id),
            None => Ok(None),
        }
    }

    /// The ids of the caller's flows, read from the owner index alone (no flow is decoded).
    ///
    /// # Errors
    /// Storage failures.
    pub fn owned_ids(&self, user: Uuid) -> Result<Vec<Uuid>, FlowError> {
        let mut ids = Vec::new();
        for item in self.store.user_flows.scan_prefix(user.as_bytes()) {
            let (key, _) = item?;
            if let Some(id) = key.get(16..).and_then(uuid_at) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    fn owned_flows(&self, user: Uuid) -> Result<Vec<FlowRecord>, FlowError> {
        let mut out = Vec::new();
        for item in self.store.user_flows.scan_prefix(user.as_bytes()) {
            let (key, _) = item?;
            let Some(id) = key.get(16..).and_then(uuid_at) else { continue };
            if let Some(flow) = self.get_owned(user, id)? {
                out.push(flow);
            }
        }
        Ok(out)
    }

    /// The caller's flows (in `folder` when given), most recently updated first.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn list(&self, user: Uuid, folder: Option<Uuid>) -> Result<Vec<FlowRecord>, FlowError> {
        let mut flows = self.owned_flows(user)?;
        if let Some(folder) = folder {
            flows.retain(|f| f.folder_id == folder);
        }
        flows.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        Ok(flows)
    }

    // -- flow writes ---------------------------------------------------------------------------

    fn commit(&self, user: Uuid, changes: &ChangeSet) -> Result<(), FlowError> {
        let mut flow_bytes = HashMap::new();
        for rec in changes.flows.iter().filter_map(|(_, new)| new.as_ref()) {
            flow_bytes.insert(rec.id, codec::encode(rec)?);
        }
        let mut project_bytes = HashMap::new();
        for rec in changes.projects.iter().filter_map(|(_, new)| new.as_ref()) {
            project_bytes.insert(rec.id, codec::encode(rec)?);
        }
        let inserts =
            changes.flows.iter().any(|(_, n)| n.is_some()) || changes.projects.iter().any(|(_, n)| n.is_some());
        let s = &self.store;
        let [t0, t1, t2, t3, t4, t5, t6] = s.flow_trees();
        let trees: [&Tree; 8] = [&s.users, t0, t1, t2, t3, t4, t5, t6];
        self.store.write(|| {
            trees.as_slice().transaction(|views| {
                let Some((users, rest)) = views.split_first() else {
                    return abort(FlowError::Invalid("flow transaction without trees"));
                };
                let Some(v) = FlowViews::new(rest) else {
                    return abort(FlowError::Invalid("flow transaction without trees"));
                };
                // Checked inside the transaction so a concurrently deleted user gets no orphans.
                if inserts && users.get(user.as_bytes())?.is_none() {
                    return abort(FlowError::NotFound("User not found"));
                }
                for (old, new) in &changes.flows {
                    match (old, new) {
                        (Some(old), None) => v.remove_flow(old)?,
                        (Some(old), Some(_)) => v.remove_flow_indexes(old)?,
                        _ => {}
                    }
                }
                for (old, new) in &changes.projects {
                    match (old, new) {
                        (Some(old), None) => v.remove_project(old)?,
                        (Some(old), Some(_)) => v.remove_project_name(old)?,
                        _ => {}
                    }
                }
                for rec in changes.flows.iter().filter_map(|(_, new)| new.as_ref()) {
                    let bytes = flow_bytes.get(&rec.id).map_or(&[][..], Vec::as_slice);
                    v.put_flow(rec, bytes)?;
                }
                for rec in changes.projects.iter().filter_map(|(_, new)| new.as_ref()) {
                    let bytes = project_bytes.get(&rec.id).map_or(&[][..], Vec::as_slice);
                    v.put_project(rec, bytes)?;
                }
                Ok(())
            })
        })?;
        Ok(())
    }

    /// Is `name` held in the per-user unique `index` (or by a flow of the same batch) by a
    /// flow other than `exclude`?
    fn taken(
        index: &Tree,
        pending: &HashSet<String>,
        user: Uuid,
        name: &str,
        exclude: Option<Uuid>,
    ) -> Result<bool, FlowError> {
        if pending.contains(name) {
            return Ok(true);
        }
        let holder = index.get(compose(user.as_bytes(), name.as_bytes()))?;
        Ok(holder.is_some_and(|id| uuid_at(&id) != exclude))
    }

    /// Langflow's de-duplication: `base` taken → the largest existing suffix + 1 (`X (n)` for
    /// names, `ep-n` for endpoint names), starting at 1.
    fn unique_in(
        index: &Tree,
        pending: &HashSet<String>,
        style: Suffix,
        user: Uuid,
        base: &str,
        exclude: Option<Uuid>,
    ) -> Result<String, FlowError> {
        if !Self::taken(index, pending, user, base, exclude)? {
            return Ok(base.to_owned());
        }
        let prefix = style.prefix(base);
        let mut max = 0u64;
        for item in index.scan_prefix(compose(user.as_bytes(), prefix.as_bytes())) {
            let (key, _) = item?;
            if let Some(n) = key.get(16..).and_then(|k| std::str::from_utf8(k).ok()).and_then(|k| style.parse(k)) {
                max = max.max(n);
            }
        }
        for name in pending.iter().filter(|n| n.starts_with(&prefix)) {
            max = max.max(style.parse(name).unwrap_or(0));
        }
        let mut n = max.saturating_add(1);
        loop {
            let candidate = style.candidate(base, n);
            if !Self::taken(index, pending, user, &candidate, exclude)? {
                return Ok(candidate);
            }
            n = n.saturating_add(1);
        }
    }

    fn unique_name(
        &self,
        user: Uuid,
        base: &str,
        exclude: Option<Uuid>,
        pending: &Pending,
    ) -> Result<String, FlowError> {
        Self::unique_in(&self.store.flow_names, &pending.names, Suffix::Paren, user, base, exclude)
    }

    fn unique_endpoint(
        &self,
        user: Uuid,
        base: &str,
        exclude: Option<Uuid>,
        pending: &Pending,
    ) -> Result<String, FlowError> {
        Self::unique_in(&self.store.flow_endpoints, &pending.endpoints, Suffix::Dash, user, base, exclude)
    }

    /// The folder a flow goes to: the requested project when it is the caller's, else the
    /// default project (or an error when `foreign` says so). Caller holds the writer lock.
    fn folder_for(&self, user: Uuid, requested: Option<Uuid>, foreign: ForeignFolder) -> Result<Uuid, FlowError> {
        if let Some(id) = requested {
            if self.get_project(user, id)?.is_some() {
                return Ok(id);
            }
            if foreign == ForeignFolder::Refuse {
                return Err(FlowError::Invalid(FOLDER_NOT_FOUND));
            }
        }
        Ok(self.default_project_locked(user)?.id)
    }

    /// A new record from client fields; name and endpoint are taken as given.
    fn new_record(user: Uuid, id: Uuid, folder_id: Uuid, input: FlowInput) -> Result<FlowRecord, FlowError> {
        let now = now_micros();
        let data = input.data.unwrap_or(Value::Null);
        let (text, content_hash) = document(&data)?;
        Ok(FlowRecord {
            id,
            user_id: user,
            folder_id,
            name: input.name.ok_or_else(|| invalid("name", "Field required"))?,
            description: input.description,
            icon: input.icon,
            icon_bg_color: input.icon_bg_color,
            gradient: input.gradient,
            webhook: has_webhook(&data),
            data: text,
            content_hash,
            is_component: input.is_component.unwrap_or(false),
            endpoint_name: input.endpoint_name.flatten(),
            tags: input.tags.unwrap_or_default(),
            locked: input.locked.unwrap_or(false),
            mcp_enabled: input.mcp_enabled.unwrap_or(false),
            action_name: input.action_name,
            action_description: input.action_description,
            access_type: input.access_type.unwrap_or_default(),
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies the given fields (folder excepted: the caller decides it).
    fn patched(old: &FlowRecord, input: FlowInput) -> Result<FlowRecord, FlowError> {
        let mut rec = old.clone();
        if let Some(name) = input.name {
            rec.name = name;
        }
        if let Some(data) = input.data.filter(|d| !d.is_null()) {
            let (text, hash) = document(&data)?;
            rec.webhook = has_webhook(&data);
            rec.data = text;
            rec.content_hash = hash;
        }
        if let Some(ep) = input.endpoint_name {
            rec.endpoint_name = ep.filter(|e| !e.is_empty());
        }
        macro_rules! set {
            ($($field:ident),*) => {$(if let Some(v) = input.$field { rec.$field = v; })*};
        }
        set!(is_component, tags, locked, mcp_enabled, access_type);
        macro_rules! set_opt {
            ($($field:ident),*) => {$(if let Some(v) = input.$field { rec.$field = Some(v); })*};
        }
        set_opt!(description, icon, icon_bg_color, gradient, action_name, action_description);
        rec.updated_at = now_micros().max(old.updated_at);
        Ok(rec)
    }

    /// `POST /flows/`: name and endpoint are de-duplicated; a missing or foreign folder means
    /// the default project; an id, when given, must be new.
    ///
    /// # Errors
    /// Validation, an id already in use (409), storage.
    pub fn create(&self, user: Uuid, id: Option<Uuid>, mut input: FlowInput) -> Result<FlowRecord, FlowError> {
        validate_input(&input)?;
        let _writer = self.store.flow_writer();
        let id = id.unwrap_or_else(Uuid::new_v4);
        if self.get(id)?.is_some() {
            return Err(FlowError::Conflict(FLOW_ID_TAKEN));
        }
        let pending = Pending::default();
        let name = input.name.take().ok_or_else(|| invalid("name", "Field required"))?;
        input.name = Some(self.unique_name(user, &name, None, &pending)?);
        if let Some(Some(ep)) = input.endpoint_name.take() {
            input.endpoint_name = Some(Some(self.unique_endpoint(user, &ep, None, &pending)?));
        }
        let folder = self.folder_for(user, input.folder_id, ForeignFolder::UseDefault)?;
        let rec = Self::new_record(user, id, folder, input)?;
        self.commit(user, &ChangeSet { flows: vec![(None, Some(rec.clone()))], ..ChangeSet::default() })?;
        Ok(rec)
    }

    /// `PATCH /flows/{id}`: given fields change; a foreign folder means the default project.
    ///
    /// # Errors
    /// Not found (or not the caller's), `If-Match` mismatch, validation, unique-name conflicts.
    pub fn update(
        &self,
        user: Uuid,
        id: Uuid,
        input: FlowInput,
        if_match: Option<&IfMatch>,
    ) -> Result<FlowRecord, FlowError> {
        validate_input(&input)?;
        let _writer = self.store.flow_writer();
        let old = self.get_owned(user, id)?.ok_or(FlowError::NotFound(FLOW_NOT_FOUND))?;
        if let Some(m) = if_match {
            m.check(Some(&old))?;
        }
        let folder = match input.folder_id {
            Some(f) => Some(self.folder_for(user, Some(f), ForeignFolder::UseDefault)?),
            None => None,
        };
        let mut rec = Self::patched(&old, input)?;
        if let Some(folder) = folder {
            rec.folder_id = folder;
        }
        self.commit(user, &ChangeSet { flows: vec![(Some(old), Some(rec.clone()))], ..ChangeSet::default() })?;
        Ok(rec)
    }

    /// `PUT /flows/{id}`: updates the caller's flow or creates one with this id; answers
    /// whether it was created. A foreign folder is refused; an endpoint clash is a conflict
    /// (no suffix) while a new flow's name is still de-duplicated.
    ///
    /// # Errors
    /// Someone else's flow (404), `If-Match` mismatch, validation, conflicts.
    pub fn upsert(
        &self,
        user: Uuid,
        id: Uuid,
        mut input: FlowInput,
        if_match: Option<&IfMatch>,
    ) -> Result<(FlowRecord, bool), FlowError> {
        validate_input(&input)?;
        let _writer = self.store.flow_writer();
        let existing = self.get(id)?;
        if let Some(m) = if_match {
            m.check(existing.as_ref().filter(|f| f.user_id == user))?;
        }
        match existing {
            Some(old) if old.user_id == user => {
                let folder = match input.folder_id {
                    Some(f) => Some(self.folder_for(user, Some(f), ForeignFolder::Refuse)?),
                    None => None,
                };
                let mut rec = Self::patched(&old, input)?;
                if let Some(folder) = folder {
                    rec.folder_id = folder;
                }
                self.commit(user, &ChangeSet { flows: vec![(Some(old), Some(rec.clone()))], ..ChangeSet::default() })?;
                Ok((rec, false))
            }
            Some(_) => Err(FlowError::NotFound(FLOW_NOT_FOUND)),
            None => {
                let pending = Pending::default();
                let name = input.name.take().ok_or_else(|| invalid("name", "Field required"))?;
                input.name = Some(self.unique_name(user, &name, None, &pending)?);
                let folder = self.folder_for(user, input.folder_id, ForeignFolder::Refuse)?;
                let rec = Self::new_record(user, id, folder, input)?;
                self.commit(user, &ChangeSet { flows: vec![(None, Some(rec.clone()))], ..ChangeSet::default() })?;
                Ok((rec, true))
            }
        }
    }

    /// `POST /flows/batch/`: all or nothing, names as given (a clash is a conflict), ids must be
    /// new whoever owns them.
    ///
    /// # Errors
    /// Existing ids (422), validation, conflicts, storage.
    pub fn create_batch(
        &self,
        user: Uuid,
        flows: Vec<(Option<Uuid>, FlowInput)>,
    ) -> Result<Vec<FlowRecord>, FlowError> {
        for (_, input) in &flows {
            validate_input(input)?;
        }
        let _writer = self.store.flow_writer();
        let mut seen = HashSet::new();
        let mut existing = Vec::new();
        for id in flows.iter().filter_map(|(id, _)| *id) {
            if !seen.insert(id) || self.get(id)?.is_some() {
                existing.push(id);
            }
        }
        if !existing.is_empty() {
            return Err(FlowError::IdsExist(existing));
        }
        let mut changes = ChangeSet::default();
        let mut out = Vec::with_capacity(flows.len());
        for (id, input) in flows {
            let folder = self.folder_for(user, input.folder_id, ForeignFolder::UseDefault)?;
            let rec = Self::new_record(user, id.unwrap_or_else(Uuid::new_v4), folder, input)?;
            changes.flows.push((None, Some(rec.clone())));
            out.push(rec);
        }
        self.commit(user, &changes)?;
        Ok(out)
    }

    /// Upload semantics, per flow: the caller's own id updates that flow, someone else's id
    /// gets a new id, otherwise the flow is created with its id. Names and endpoint names are
    /// de-duplicated; `folder` (when the caller's) receives every flow.
    ///
    /// # Errors
    /// Validation (a flow without a name), storage.
    pub fn import(
        &self,
        user: Uuid,
        flows: Vec<(Option<Uuid>, FlowInput)>,
        folder: Option<Uuid>,
    ) -> Result<Vec<FlowRecord>, FlowError> {
        for (_, input) in &flows {
            validate_input(input)?;
        }
        let _writer = self.store.flow_writer();
        let target = match folder {
            Some(f) if self.get_project(user, f)?.is_some() => Some(f),
            _ => None,
        };
        let mut changes = ChangeSet::default();
        let out = self.plan_imports(user, flows, target, &mut changes)?;
        self.commit(user, &changes)?;
        Ok(out)
    }

    fn plan_imports(
        &self,
        user: Uuid,
        flows: Vec<(Option<Uuid>, FlowInput)>,
        target: Option<Uuid>,
        changes: &mut ChangeSet,
    ) -> Result<Vec<FlowRecord>, FlowError> {
        let mut pending = Pending::default();
        let mut out = Vec::with_capacity(flows.len());
        for (id, mut input) in flows {
            let existing = match id {
                Some(id) if !pending.ids.contains(&id) => self.get(id)?,
                _ => None,
            };
            let own = existing.filter(|f| f.user_id == user);
            let exclude = own.as_ref().map(|f| f.id);
            if let Some(name) = input.name.take() {
                input.name = Some(self.unique_name(user, &name, exclude, &pending)?);
            }
            if let Some(Some(ep)) = input.endpoint_name.take() {
                input.endpoint_name = Some(Some(self.unique_endpoint(user, &ep, exclude, &pending)?));
            }
            let requested = target.or(input.folder_id);
            let rec = if let Some(old) = own {
                // An exported flow names the folder it came from; a re-upload keeps the flow where
                // it is unless that folder (or the upload's target) is one of the caller's.
                let folder = match requested {
                    Some(f) if self.get_project(user, f)?.is_some() => f,
                    _ => old.folder_id,
                };
                let mut rec = Self::patched(&old, input)?;
                rec.folder_id = folder;
                changes.flows.push((Some(old), Some(rec.clone())));
                rec
            } else {
                let fresh = match id {
                    Some(id) if !pending.ids.contains(&id) && self.get(id)?.is_none() => id,
                    _ => Uuid::new_v4(),
                };
                let folder = self.folder_for(user, requested, ForeignFolder::UseDefault)?;
                let rec = Self::new_record(user, fresh, folder, input)?;
                changes.flows.push((None, Some(rec.clone())));
                rec
            };
            pending.ids.insert(rec.id);
            pending.names.insert(rec.name.clone());
            if let Some(ep) = &rec.endpoint_name {
                pending.endpoints.insert(ep.clone());
            }
            out.push(rec);
        }
        Ok(out)
    }

    /// `DELETE /flows/{id}`.
    ///
    /// # Errors
    /// Not found (or not the caller's), `If-Match` mismatch, storage.
    pub fn delete_one(&self, user: Uuid, id: Uuid, if_match: Option<&IfMatch>) -> Result<(), FlowError> {
        let _writer = self.store.flow_writer();
        let old = self.get_owned(user, id)?.ok_or(FlowError::NotFound(FLOW_NOT_FOUND))?;
        if let Some(m) = if_match {
            m.check(Some(&old))?;
        }
        self.commit(user, &ChangeSet { flows: vec![(Some(old), None)], ..ChangeSet::default() })
    }

    /// Deletes those of `ids` the caller owns (others are skipped silently); answers the ids
    /// deleted.
    ///
    /// # Errors
    /// Storage failures.
    pub fn delete(&self, user: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, FlowError> {
        let _writer = self.store.flow_writer();
        let mut changes = ChangeSet::default();
        let mut seen = HashSet::new();
        for &id in ids {
            if seen.insert(id) {
                if let Some(old) = self.get_owned(user, id)? {
                    changes.flows.push((Some(old), None));
                }
            }
        }
        self.commit(user, &changes)?;
        Ok(changes.flows.iter().filter_map(|(old, _)| old.as_ref().map(|f| f.id)).collect())
    }

    // -- projects ------------------------------------------------------------------------------

    /// The caller's project; `None` when missing or someone else's.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn get_project(&self, user: Uuid, id: Uuid) -> Result<Option<ProjectRecord>, FlowError> {
        let rec: Option<ProjectRecord> =
            self.store.projects.get(id.as_bytes())?.map(|b| codec::decode(&b)).transpose()?;
        Ok(rec.filter(|p| p.user_id == user))
    }

    fn project_by_name(&self, user: Uuid, name: &str) -> Result<Option<ProjectRecord>, FlowError> {
        let Some(id) = self.store.project_names.get(compose(user.as_bytes(), name.as_bytes()))? else {
            return Ok(None);
        };
        match uuid_at(&id) {
            Some(id) => self.get_project(user, id),
            None => Ok(None),
        }
    }

    fn owned_projects(&self, user: Uuid) -> Result<Vec<ProjectRecord>, FlowError> {
        let mut out = Vec::new();
        for item in self.store.user_projects.scan_prefix(user.as_bytes()) {
            let (key, _) = item?;
            let Some(id) = key.get(16..).and_then(uuid_at) else { continue };
            if let Some(p) = self.get_project(user, id)? {
                out.push(p);
            }
        }
        Ok(out)
    }

    fn default_project_locked(&self, user: Uuid) -> Result<ProjectRecord, FlowError> {
        if let Some(p) = self.project_by_name(user, DEFAULT_PROJECT_NAME)? {
            return Ok(p);
        }
        let now = now_micros();
        let rec = ProjectRecord {
            id: Uuid::new_v4(),
            user_id: user,
            name: DEFAULT_PROJECT_NAME.to_owned(),
            description: Some(DEFAULT_PROJECT_DESCRIPTION.to_owned()),
            auth_settings: None,
            parent_id: None,
            created_at: now,
            updated_at: now,
        };
        self.commit(user, &ChangeSet { projects: vec![(None, Some(rec.clone()))], ..ChangeSet::default() })?;
        Ok(rec)
    }

    /// The caller's default project ("Starter Project"), created on first need.
    ///
    /// # Errors
    /// Unknown user, storage.
    pub fn default_project(&self, user: Uuid) -> Result<ProjectRecord, FlowError> {
        let _writer = self.store.flow_writer();
        self.default_project_locked(user)
    }

    /// The caller's projects, the default one first (created if missing), then by name.
    ///
    /// # Errors
    /// Storage failures.
    pub fn list_projects(&self, user: Uuid) -> Result<Vec<ProjectRecord>, FlowError> {
        let default = self.default_project(user)?;
        let mut rest: Vec<ProjectRecord> =
            self.owned_projects(user)?.into_iter().filter(|p| p.id != default.id).collect();
        rest.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        let mut out = Vec::with_capacity(rest.len() + 1);
        out.push(default);
        out.extend(rest);
        Ok(out)
    }

    fn validate_project_fields(
        name: Option<&str>,
        description: Option<&str>,
        auth_settings: Option<&str>,
    ) -> Result<(), FlowError> {
        if let Some(name) = name {
            check_name("name", name)?;
        }
        check_text("description", description, MAX_DESCRIPTION_LEN)?;
        check_text("auth_settings", auth_settings, MAX_AUTH_SETTINGS_LEN)
    }

    /// Checks that `parent` is the caller's and that making it the parent of `child` creates no
    /// cycle.
    fn check_parent(&self, user: Uuid, child: Option<Uuid>, parent: Uuid) -> Result<(), FlowError> {
        let mut cursor = Some(parent);
        for _ in 0..MAX_PROJECT_DEPTH {
            let Some(id) = cursor else { return Ok(()) };
            if Some(id) == child {
                return Err(FlowError::Invalid(PARENT_NOT_FOUND));
            }
            cursor = self.get_project(user, id)?.ok_or(FlowError::Invalid(PARENT_NOT_FOUND))?.parent_id;
        }
        Err(FlowError::Invalid(PARENT_NOT_FOUND))
    }

    fn unique_project_name(&self, user: Uuid, base: &str) -> Result<String, FlowError> {
        if self.project_by_name(user, base)?.is_none() {
            return Ok(base.to_owned());
        }
        let prefix = format!("{base} (");
        let mut max = 0u64;
        for item in self.store.project_names.scan_prefix(compose(user.as_bytes(), prefix.as_bytes())) {
            let (key, _) = item?;
            if let Some(n) = key.get(16..).and_then(|k| std::str::from_utf8(k).ok()).and_then(paren_suffix) {
                max = max.max(n);
            }
        }
        let mut n = max.saturating_add(1);
        loop {
            let candidate = format!("{base} ({n})");
            if self.project_by_name(user, &candidate)?.is_none() {
                return Ok(candidate);
            }
            n = n.saturating_add(1);
        }
    }

    fn new_project_record(&self, user: Uuid, project: NewProject) -> Result<ProjectRecord, FlowError> {
        Self::validate_project_fields(
            Some(&project.name),
            project.description.as_deref(),
            project.auth_settings.as_deref(),
        )?;
        if let Some(parent) = project.parent_id {
            self.check_parent(user, None, parent)?;
        }
        let now = now_micros();
        Ok(ProjectRecord {
            id: Uuid::new_v4(),
            user_id: user,
            name: self.unique_project_name(user, &project.name)?,
            description: project.description,
            auth_settings: project.auth_settings,
            parent_id: project.parent_id,
            created_at: now,
            updated_at: now,
        })
    }

    /// `POST /projects/`: the name is de-duplicated; the caller's flows among `move_flows` move
    /// into the new project (others are ignored).
    ///
    /// # Errors
    /// Validation, a foreign parent, storage.
    pub fn create_project(
        &self,
        user: Uuid,
        project: NewProject,
        move_flows: &[Uuid],
    ) -> Result<ProjectRecord, FlowError> {
        let _writer = self.store.flow_writer();
        let rec = self.new_project_record(user, project)?;
        let mut changes = ChangeSet { projects: vec![(None, Some(rec.clone()))], ..ChangeSet::default() };
        let mut seen = HashSet::new();
        for &id in move_flows {
            if !seen.insert(id) {
                continue;
            }
            if let Some(old) = self.get_owned(user, id)? {
                let mut moved = old.clone();
                moved.folder_id = rec.id;
                changes.flows.push((Some(old), Some(moved)));
            }
        }
        self.commit(user, &changes)?;
        Ok(rec)
    }

    /// `PATCH /projects/{id}`.
    ///
    /// # Errors
    /// Not found (or not the caller's), a taken name (conflict), a foreign parent, validation.
    pub fn update_project(&self, user: Uuid, id: Uuid, patch: ProjectPatch) -> Result<ProjectRecord, FlowError> {
        Self::validate_project_fields(
            patch.name.as_deref(),
            patch.description.as_deref(),
            patch.auth_settings.as_deref(),
        )?;
        let _writer = self.store.flow_writer();
        let old = self.get_project(user, id)?.ok_or(FlowError::NotFound(PROJECT_NOT_FOUND))?;
        if let Some(parent) = patch.parent_id {
            self.check_parent(user, Some(id), parent)?;
        }
        let mut rec = old.clone();
        if let Some(name) = patch.name {
            rec.name = name;
        }
        if let Some(description) = patch.description {
            rec.description = Some(description);
        }
        if let Some(auth) = patch.auth_settings {
            rec.auth_settings = Some(auth);
        }
        if let Some(parent) = patch.parent_id {
            rec.parent_id = Some(parent);
        }
        rec.updated_at = now_micros().max(old.updated_at);
        self.commit(user, &ChangeSet { projects: vec![(Some(old), Some(rec.clone()))], ..ChangeSet::default() })?;
        Ok(rec)
    }

    /// `DELETE /projects/{id}`: the project and the caller's flows in it, in one transaction;
    /// child projects lose their parent. Answers the deleted flow ids.
    ///
    /// # Errors
    /// Not found (or not the caller's), storage.
    pub fn delete_project(&self, user: Uuid, id: Uuid) -> Result<Vec<Uuid>, FlowError> {
        let _writer = self.store.flow_writer();
        let old = self.get_project(user, id)?.ok_or(FlowError::NotFound(PROJECT_NOT_FOUND))?;
        let mut changes = ChangeSet::default();
        for child in self.owned_projects(user)?.into_iter().filter(|p| p.parent_id == Some(id)) {
            let mut orphan = child.clone();
            orphan.parent_id = None;
            changes.projects.push((Some(child), Some(orphan)));
        }
        changes.projects.push((Some(old), None));
        let flows = self.list(user, Some(id))?;
        let ids = flows.iter().map(|f| f.id).collect();
        changes.flows = flows.into_iter().map(|f| (Some(f), None)).collect();
        self.commit(user, &changes)?;
        Ok(ids)
    }

    /// `POST /projects/upload/`: a new project (name de-duplicated) holding the given flows,
    /// created with upload semantics, all in one transaction.
    ///
    /// # Errors
    /// Validation, storage.
    pub fn import_project(
        &self,
        user: Uuid,
        project: NewProject,
        flows: Vec<(Option<Uuid>, FlowInput)>,
    ) -> Result<(ProjectRecord, Vec<FlowRecord>), FlowError> {
        for (_, input) in &flows {
            validate_input(input)?;
        }
        let _writer = self.store.flow_writer();
        let rec = self.new_project_record(user, project)?;
        // The flows land in the project being created, so foreign ids are never updated in place.
        let mut fresh = Vec::with_capacity(flows.len());
        for (id, mut input) in flows {
            input.folder_id = None;
            let id = match id {
                Some(id) if self.get(id)?.is_none() => Some(id),
                _ => None,
            };
            fresh.push((id, input));
        }
        let mut changes = ChangeSet { projects: vec![(None, Some(rec.clone()))], ..ChangeSet::default() };
        let mut out = self.plan_imports(user, fresh, None, &mut changes)?;
        for (_, new) in &mut changes.flows {
            if let Some(f) = new {
                f.folder_id = rec.id;
            }
        }
        for f in &mut out {
            f.folder_id = rec.id;
        }
        self.commit(user, &changes)?;
        Ok((rec, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::UserRecord;
    use serde_json::json;

    fn store_with_user() -> (FlowStore, Uuid) {
        let store = Store::temporary().expect("store");
        let user = Uuid::new_v4();
        let rec = UserRecord {
            id: user,
            username: "u".into(),
            password_hash: String::new(),
            profile_image: None,
            is_active: true,
            is_superuser: false,
            create_at: 0,
            updated_at: 0,
            last_login_at: None,
            optins: String::new(),
        };
        store.users.insert(user.as_bytes(), codec::encode(&rec).expect("encode")).expect("insert");
        (FlowStore::new(store), user)
    }

    fn named(name: &str, ep: Option<&str>) -> FlowInput {
        FlowInput {
            name: Some(name.into()),
            endpoint_name: ep.map(|e| Some(e.to_owned())),
            data: Some(json!({"nodes": [], "edges": []})),
            ..FlowInput::default()
        }
    }

    #[test]
    fn names_and_endpoints_are_suffixed_like_langflow() {
        let (fs, u) = store_with_user();
        let names: Vec<String> = (0..3)
            .map(|_| fs.create(u, None, named("Flow", Some("ep"))).expect("create"))
            .map(|f| format!("{}|{}", f.name, f.endpoint_name.unwrap_or_default()))
            .collect();
        assert_eq!(names, ["Flow|ep", "Flow (1)|ep-1", "Flow (2)|ep-2"]);
        fs.create(u, None, named("Flow (7)", Some("ep-7"))).expect("create");
        let next = fs.create(u, None, named("Flow", Some("ep"))).expect("create");
        assert_eq!(next.name, "Flow (8)");
        assert_eq!(next.endpoint_name.as_deref(), Some("ep-8"));
    }

    #[test]
    fn content_hash_ignores_key_order() {
        let (fs, u) = store_with_user();
        let a =
            fs.create(u, None, FlowInput { data: Some(json!({"nodes": [], "edges": [], "x": 1})), ..named("a", None) });
        let b =
            fs.create(u, None, FlowInput { data: Some(json!({"x": 1, "edges": [], "nodes": []})), ..named("b", None) });
        assert_eq!(a.expect("a").content_hash, b.expect("b").content_hash);
    }

    #[test]
    fn python_uuid_forms() {
        let id = Uuid::new_v4();
        let simple = id.simple().to_string();
        for form in
            [id.to_string(), simple.clone(), simple.to_uppercase(), format!("{{{id}}}"), format!("urn:uuid:{id}")]
        {
            assert_eq!(parse_python_uuid(&form), Some(id), "{form}");
        }
        assert_eq!(parse_python_uuid("my-endpoint"), None);
        assert_eq!(parse_python_uuid(&format!("{simple}0")), None);
    }

    #[test]
    fn deleting_a_project_takes_its_flows_only() {
        let (fs, u) = store_with_user();
        let p = fs.create_project(u, NewProject { name: "P".into(), ..NewProject::default() }, &[]).expect("p");
        let inside = fs.create(u, None, FlowInput { folder_id: Some(p.id), ..named("in", None) }).expect("in");
        let outside = fs.create(u, None, named("out", None)).expect("out");
        assert_eq!(fs.delete_project(u, p.id).expect("delete"), vec![inside.id]);
        assert!(fs.get(inside.id).expect("get").is_none());
        assert!(fs.get(outside.id).expect("get").is_some());
        assert!(fs.find_by_endpoint(u, "in").expect("find").is_none());
    }
}
