//! Flows and projects (Langflow's "folders"), scoped to their owner.
//!
//! Every lookup takes the caller's user id, so another user's flow or project is
//! indistinguishable from a missing one; the HTTP front never has to remember an ownership check.
//! The flow document (`data`) is kept as canonical JSON text (sorted keys, compact) with a BLAKE3
//! hash of those bytes, computed once at write time ([`document`]), so the engine can cache
//! compiled graphs by (flow id, content hash). Nothing here knows about HTTP (how a broken field
//! rule is worded is the HTTP layer's job, see [`Violation`]); chat messages of deleted flows are
//! someone else's job.
//!
//! # Layout
//! - [`FlowReads`], [`FlowWrites`], [`ProjectWrites`] (together [`FlowRepo`]): the synchronous
//!   core callers program against; [`Flows`] the handle the server holds (`Arc<dyn FlowRepo>`).
//! - [`sled`]: the implementation on the embedded database (flow CRUD, project CRUD, the
//!   transaction views with their one unique-index helper).
//! - [`model`], [`validate`], [`document`], [`suffix`]: records, field rules, canonical JSON and
//!   content hash, `X (1)` / `ep-1` de-duplication; none of them depends on sled.
//!
//! # Ownership
//! Flows follow the same model as identity (see [`crate::registry`]): a synchronous,
//! unit-testable core behind a trait, whose writes are serialised by their owner and never run on
//! an HTTP worker thread. Identity's owner is the `RegistryActor` on its own arbiter; flows' owner
//! is the store's flow writer lock, taken only on the blocking pool by [`Flows::write`], never
//! across an `.await`. Uniqueness checks and name suffixes read indexes before the transaction
//! that writes them, so writers must be serialised; keeping that off the worker threads means a
//! slow write (a large import, an fsync) never stalls the requests sharing a worker. Reads (the
//! flow lookup on every `/run`) go straight to the thread-safe store through the same trait,
//! without a lock, a hop to another thread or a message. Every change of several records is one
//! transaction, and [`Flows::write`] answers only once the write is durable.

pub mod document;
pub mod model;
mod repo;
pub mod sled;
pub mod suffix;
pub mod validate;

use ::sled::transaction::TransactionError;
use uuid::Uuid;

use crate::codec::CodecError;
use crate::error::RegistryError;

pub use self::sled::{FlowStore, UserFlowsDeletion};
pub use document::{canonical_json, has_webhook};
pub use model::{AccessType, FlowInput, FlowRecord, IfMatch, NewProject, ProjectPatch, ProjectRecord};
pub use repo::{FlowReads, FlowRepo, FlowWrites, Flows, ProjectWrites, StoreFuture};
pub use validate::{
    valid_endpoint_name, Violation, MAX_AUTH_SETTINGS_LEN, MAX_DESCRIPTION_LEN, MAX_NAME_LEN, MAX_SHORT_TEXT_LEN,
    MAX_TAGS,
};

/// Name of the project every user gets on first need.
pub const DEFAULT_PROJECT_NAME: &str = "Starter Project";
/// Its description, as Langflow writes it.
pub const DEFAULT_PROJECT_DESCRIPTION: &str = "Manage your own flows. Download and upload projects.";
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
    #[error("{field}: {violation:?}")]
    Validation { field: &'static str, violation: Violation },
    /// Batch creation with ids that already exist (422).
    #[error("Flow(s) with the following IDs already exist: {}. Use the update endpoint or upload_file() for upsert semantics.", join_ids(.0))]
    IdsExist(Vec<Uuid>),
    #[error("storage error: {0}")]
    Storage(#[from] ::sled::Error),
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
