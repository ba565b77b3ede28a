//! The flow store's interface: what callers use, whatever the database behind it.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use uuid::Uuid;

use super::{FlowError, FlowInput, FlowRecord, IfMatch, NewProject, ProjectPatch, ProjectRecord};

/// A future answered by the store.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, FlowError>> + Send + 'a>>;

/// Lock-free reads, safe on any thread (the `/run` hot path looks flows up through these).
pub trait FlowReads: Send + Sync {
    /// A flow by id, whoever owns it. Only for internal callers that apply their own access
    /// rule (public flows); request handlers use [`FlowReads::get_owned`].
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn get(&self, id: Uuid) -> Result<Option<FlowRecord>, FlowError>;

    /// The caller's flow; `None` when missing or someone else's.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn get_owned(&self, user: Uuid, id: Uuid) -> Result<Option<FlowRecord>, FlowError>;

    /// The caller's flow with this endpoint name.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn find_by_endpoint(&self, user: Uuid, endpoint_name: &str) -> Result<Option<FlowRecord>, FlowError>;

    /// Langflow's `flow_id_or_name`: a UUID (any form Python accepts) is looked up as an id
    /// only; anything else as an endpoint name. Both are scoped to the caller.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn resolve(&self, user: Uuid, id_or_name: &str) -> Result<Option<FlowRecord>, FlowError>;

    /// Like [`FlowReads::resolve`] but across all owners: only for webhooks when
    /// `LANGFLOW_WEBHOOK_AUTH_ENABLE` is off. Langflow takes the first flow with that endpoint
    /// name; here a name that several users' flows carry is refused rather than resolved to
    /// whichever owner id sorts first.
    ///
    /// # Errors
    /// [`FlowError::Conflict`] for an endpoint name several owners use; storage or decoding
    /// failures.
    fn resolve_any(&self, id_or_name: &str) -> Result<Option<FlowRecord>, FlowError>;

    /// The ids of the caller's flows (no flow is decoded).
    ///
    /// # Errors
    /// Storage failures.
    fn owned_ids(&self, user: Uuid) -> Result<Vec<Uuid>, FlowError>;

    /// The caller's flows (in `folder` when given), most recently updated first.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn list(&self, user: Uuid, folder: Option<Uuid>) -> Result<Vec<FlowRecord>, FlowError>;

    /// The caller's project; `None` when missing or someone else's.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn get_project(&self, user: Uuid, id: Uuid) -> Result<Option<ProjectRecord>, FlowError>;

    /// `Err` while the database refuses writes for lack of space (runs check it first).
    ///
    /// # Errors
    /// The refusal.
    fn check_space(&self) -> Result<(), FlowError>;
}

/// Flow writes. Implementations serialise them themselves (they may wait for a writer lock);
/// callers run them through [`Flows::write`], off the HTTP worker threads.
pub trait FlowWrites: Send + Sync {
    /// Waits until every write made so far is on disk.
    ///
    /// # Errors
    /// The I/O error met while flushing.
    fn durable(&self) -> StoreFuture<'_, ()>;

    /// `POST /flows/`: name and endpoint are de-duplicated; a missing or foreign folder means
    /// the default project; an id, when given, must be new.
    ///
    /// # Errors
    /// Validation, an id already in use (409), storage.
    fn create(&self, user: Uuid, id: Option<Uuid>, input: FlowInput) -> Result<FlowRecord, FlowError>;

    /// `PATCH /flows/{id}`: given fields change; a foreign folder means the default project.
    ///
    /// # Errors
    /// Not found (or not the caller's), `If-Match` mismatch, validation, unique-name conflicts.
    fn update(
        &self,
        user: Uuid,
        id: Uuid,
        input: FlowInput,
        if_match: Option<&IfMatch>,
    ) -> Result<FlowRecord, FlowError>;

    /// `PUT /flows/{id}`: updates the caller's flow or creates one with this id; answers
    /// whether it was created. A foreign folder is refused; an endpoint clash is a conflict
    /// (no suffix) while a new flow's name is still de-duplicated.
    ///
    /// # Errors
    /// Someone else's flow (404), `If-Match` mismatch, validation, conflicts.
    fn upsert(
        &self,
        user: Uuid,
        id: Uuid,
        input: FlowInput,
        if_match: Option<&IfMatch>,
    ) -> Result<(FlowRecord, bool), FlowError>;

    /// `POST /flows/batch/`: all or nothing, names as given (a clash is a conflict), ids must be
    /// new whoever owns them.
    ///
    /// # Errors
    /// Existing ids (422), validation, conflicts, storage.
    fn create_batch(&self, user: Uuid, flows: Vec<(Option<Uuid>, FlowInput)>) -> Result<Vec<FlowRecord>, FlowError>;

    /// Upload semantics, per flow: the caller's own id updates that flow, someone else's id
    /// gets a new id, otherwise the flow is created with its id. Names and endpoint names are
    /// de-duplicated; `folder` (when the caller's) receives every flow.
    ///
    /// # Errors
    /// Validation (a flow without a name), storage.
    fn import(
        &self,
        user: Uuid,
        flows: Vec<(Option<Uuid>, FlowInput)>,
        folder: Option<Uuid>,
    ) -> Result<Vec<FlowRecord>, FlowError>;

    /// `DELETE /flows/{id}`.
    ///
    /// # Errors
    /// Not found (or not the caller's), `If-Match` mismatch, storage.
    fn delete_one(&self, user: Uuid, id: Uuid, if_match: Option<&IfMatch>) -> Result<(), FlowError>;

    /// Deletes those of `ids` the caller owns (others are skipped silently); answers the ids
    /// deleted.
    ///
    /// # Errors
    /// Storage failures.
    fn delete(&self, user: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, FlowError>;
}

/// Project writes, and the project reads that may create the default project; run like
/// [`FlowWrites`] (reads through [`Flows::blocking`]).
pub trait ProjectWrites: Send + Sync {
    /// The caller's default project ("Starter Project"), created on first need.
    ///
    /// # Errors
    /// Unknown user, storage.
    fn default_project(&self, user: Uuid) -> Result<ProjectRecord, FlowError>;

    /// The caller's projects, the default one first (created if missing), then by name.
    ///
    /// # Errors
    /// Storage failures.
    fn list_projects(&self, user: Uuid) -> Result<Vec<ProjectRecord>, FlowError>;

    /// `POST /projects/`: the name is de-duplicated; the caller's flows among `move_flows` move
    /// into the new project (others are ignored).
    ///
    /// # Errors
    /// Validation, a foreign parent, storage.
    fn create_project(&self, user: Uuid, project: NewProject, move_flows: &[Uuid]) -> Result<ProjectRecord, FlowError>;

    /// `PATCH /projects/{id}`.
    ///
    /// # Errors
    /// Not found (or not the caller's), a taken name (conflict), a foreign parent, validation.
    fn update_project(&self, user: Uuid, id: Uuid, patch: ProjectPatch) -> Result<ProjectRecord, FlowError>;

    /// `DELETE /projects/{id}`: the project and the caller's flows in it, in one transaction;
    /// child projects lose their parent. Answers the deleted flow ids.
    ///
    /// # Errors
    /// Not found (or not the caller's), storage.
    fn delete_project(&self, user: Uuid, id: Uuid) -> Result<Vec<Uuid>, FlowError>;

    /// `POST /projects/upload/`: a new project (name de-duplicated) holding the given flows,
    /// created with upload semantics, all in one transaction.
    ///
    /// # Errors
    /// Validation, storage.
    fn import_project(
        &self,
        user: Uuid,
        project: NewProject,
        flows: Vec<(Option<Uuid>, FlowInput)>,
    ) -> Result<(ProjectRecord, Vec<FlowRecord>), FlowError>;
}

/// Everything a flow store does; what [`Flows`] holds.
pub trait FlowRepo: FlowReads + FlowWrites + ProjectWrites {}

impl<T: FlowReads + FlowWrites + ProjectWrites> FlowRepo for T {}

/// The handle the server holds: reads straight through (it derefs to [`FlowReads`]), writes on
/// the blocking pool. Cheap to clone.
#[derive(Clone)]
pub struct Flows {
    repo: Arc<dyn FlowRepo>,
}

impl Flows {
    #[must_use]
    pub fn new(repo: impl FlowRepo + 'static) -> Self {
        Self { repo: Arc::new(repo) }
    }

    /// Runs `f` on the blocking pool (where the implementation may wait for its writer lock)
    /// without waiting for durability: reads that may create the default project.
    ///
    /// # Errors
    /// Whatever `f` answers; a storage error when the blocking pool is gone.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn FlowRepo) -> Result<T, FlowError> + Send + 'static,
    ) -> Result<T, FlowError> {
        let repo = Arc::clone(&self.repo);
        tokio::task::spawn_blocking(move || f(&*repo)).await.map_err(|e| {
            FlowError::Storage(::sled::Error::Io(std::io::Error::other(format!("flow store task failed: {e}"))))
        })?
    }

    /// Runs the write `f` like [`Flows::blocking`] and answers once it is durable.
    ///
    /// # Errors
    /// Whatever `f` answers, or the flush failure.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn FlowRepo) -> Result<T, FlowError> + Send + 'static,
    ) -> Result<T, FlowError> {
        let value = self.blocking(f).await?;
        self.repo.durable().await?;
        Ok(value)
    }
}

impl Deref for Flows {
    type Target = dyn FlowReads;

    fn deref(&self) -> &Self::Target {
        &*self.repo
    }
}
