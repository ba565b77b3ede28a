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
    /// `LANGFLOW_WEBHOOK_AUTH_ENABLE` is off. A name that several users' flows carry is refused.
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

/// Writes (and the reads that may create the default project). Implementations serialise them
/// themselves; callers run them through [`Flows::write`] / [`Flows::blocking`], off the HTTP
/// worker threads. The per-method rules are documented on [`super::FlowStore`].
#[allow(clippy::missing_errors_doc)]
pub trait FlowRepo: FlowReads {
    /// Waits until every write made so far is on disk.
    fn durable(&self) -> StoreFuture<'_, ()>;
    fn create(&self, user: Uuid, id: Option<Uuid>, input: FlowInput) -> Result<FlowRecord, FlowError>;
    fn update(
        &self,
        user: Uuid,
        id: Uuid,
        input: FlowInput,
        if_match: Option<&IfMatch>,
    ) -> Result<FlowRecord, FlowError>;
    fn upsert(
        &self,
        user: Uuid,
        id: Uuid,
        input: FlowInput,
        if_match: Option<&IfMatch>,
    ) -> Result<(FlowRecord, bool), FlowError>;
    fn create_batch(&self, user: Uuid, flows: Vec<(Option<Uuid>, FlowInput)>) -> Result<Vec<FlowRecord>, FlowError>;
    fn import(
        &self,
        user: Uuid,
        flows: Vec<(Option<Uuid>, FlowInput)>,
        folder: Option<Uuid>,
    ) -> Result<Vec<FlowRecord>, FlowError>;
    fn delete_one(&self, user: Uuid, id: Uuid, if_match: Option<&IfMatch>) -> Result<(), FlowError>;
    fn delete(&self, user: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, FlowError>;
    fn default_project(&self, user: Uuid) -> Result<ProjectRecord, FlowError>;
    fn list_projects(&self, user: Uuid) -> Result<Vec<ProjectRecord>, FlowError>;
    fn create_project(&self, user: Uuid, project: NewProject, move_flows: &[Uuid]) -> Result<ProjectRecord, FlowError>;
    fn update_project(&self, user: Uuid, id: Uuid, patch: ProjectPatch) -> Result<ProjectRecord, FlowError>;
    fn delete_project(&self, user: Uuid, id: Uuid) -> Result<Vec<Uuid>, FlowError>;
    fn import_project(
        &self,
        user: Uuid,
        project: NewProject,
        flows: Vec<(Option<Uuid>, FlowInput)>,
    ) -> Result<(ProjectRecord, Vec<FlowRecord>), FlowError>;
}

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
