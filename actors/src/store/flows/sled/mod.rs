//! The flow store on sled: one tree per record kind plus per-user index trees (see
//! [`crate::store::Store`]). This is the only code that writes the flow trees.
//!
//! Writers are serialised by the store's flow writer lock (uniqueness checks and the `X (1)` /
//! `ep-1` suffixes read indexes before writing); every method here is synchronous and may wait
//! for that lock, so the server calls the writes through [`super::Flows`] on the blocking pool.
//! Reads take no lock.

mod flow_crud;
mod project_crud;
#[cfg(test)]
mod tests;
mod views;

use std::collections::HashSet;

use uuid::Uuid;

use super::repo::StoreFuture;
use super::suffix::Suffix;
use super::{
    FlowError, FlowInput, FlowReads, FlowRecord, FlowRepo, IfMatch, NewProject, ProjectPatch, ProjectRecord,
    AMBIGUOUS_ENDPOINT, FOLDER_NOT_FOUND,
};
use crate::codec;
use crate::ids::parse_python_uuid;
use crate::store::{compose, Store};

pub use views::UserFlowsDeletion;

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

fn uuid_at(bytes: &[u8]) -> Option<Uuid> {
    Uuid::from_slice(bytes).ok()
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

    /// A name free in the per-user unique `index` (and among `pending`), for a record other
    /// than `exclude`: see [`Suffix::unique`].
    fn unique_in(
        index: &sled::Tree,
        pending: &HashSet<String>,
        style: Suffix,
        user: Uuid,
        base: &str,
        exclude: Option<Uuid>,
    ) -> Result<String, FlowError> {
        let taken = |name: &str| -> Result<bool, FlowError> {
            let holder = index.get(compose(user.as_bytes(), name.as_bytes()))?;
            Ok(holder.is_some_and(|id| uuid_at(&id) != exclude))
        };
        let with_prefix = |prefix: &str| -> Result<Vec<String>, FlowError> {
            let mut names = Vec::new();
            for item in index.scan_prefix(compose(user.as_bytes(), prefix.as_bytes())) {
                let (key, _) = item?;
                if let Some(name) = key.get(16..).and_then(|k| std::str::from_utf8(k).ok()) {
                    names.push(name.to_owned());
                }
            }
            Ok(names)
        };
        style.unique(base, pending, taken, with_prefix)
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
}

impl FlowReads for FlowStore {
    fn get(&self, id: Uuid) -> Result<Option<FlowRecord>, FlowError> {
        Self::get(self, id)
    }
    fn get_owned(&self, user: Uuid, id: Uuid) -> Result<Option<FlowRecord>, FlowError> {
        Self::get_owned(self, user, id)
    }
    fn find_by_endpoint(&self, user: Uuid, endpoint_name: &str) -> Result<Option<FlowRecord>, FlowError> {
        Self::find_by_endpoint(self, user, endpoint_name)
    }
    fn resolve(&self, user: Uuid, id_or_name: &str) -> Result<Option<FlowRecord>, FlowError> {
        Self::resolve(self, user, id_or_name)
    }
    fn resolve_any(&self, id_or_name: &str) -> Result<Option<FlowRecord>, FlowError> {
        Self::resolve_any(self, id_or_name)
    }
    fn owned_ids(&self, user: Uuid) -> Result<Vec<Uuid>, FlowError> {
        Self::owned_ids(self, user)
    }
    fn list(&self, user: Uuid, folder: Option<Uuid>) -> Result<Vec<FlowRecord>, FlowError> {
        Self::list(self, user, folder)
    }
    fn get_project(&self, user: Uuid, id: Uuid) -> Result<Option<ProjectRecord>, FlowError> {
        Self::get_project(self, user, id)
    }
    fn check_space(&self) -> Result<(), FlowError> {
        Ok(self.store.check_space()?)
    }
}

impl FlowRepo for FlowStore {
    fn durable(&self) -> StoreFuture<'_, ()> {
        Box::pin(Self::durable(self))
    }
    fn create(&self, user: Uuid, id: Option<Uuid>, input: FlowInput) -> Result<FlowRecord, FlowError> {
        Self::create(self, user, id, input)
    }
    fn update(
        &self,
        user: Uuid,
        id: Uuid,
        input: FlowInput,
        if_match: Option<&IfMatch>,
    ) -> Result<FlowRecord, FlowError> {
        Self::update(self, user, id, input, if_match)
    }
    fn upsert(
        &self,
        user: Uuid,
        id: Uuid,
        input: FlowInput,
        if_match: Option<&IfMatch>,
    ) -> Result<(FlowRecord, bool), FlowError> {
        Self::upsert(self, user, id, input, if_match)
    }
    fn create_batch(&self, user: Uuid, flows: Vec<(Option<Uuid>, FlowInput)>) -> Result<Vec<FlowRecord>, FlowError> {
        Self::create_batch(self, user, flows)
    }
    fn import(
        &self,
        user: Uuid,
        flows: Vec<(Option<Uuid>, FlowInput)>,
        folder: Option<Uuid>,
    ) -> Result<Vec<FlowRecord>, FlowError> {
        Self::import(self, user, flows, folder)
    }
    fn delete_one(&self, user: Uuid, id: Uuid, if_match: Option<&IfMatch>) -> Result<(), FlowError> {
        Self::delete_one(self, user, id, if_match)
    }
    fn delete(&self, user: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, FlowError> {
        Self::delete(self, user, ids)
    }
    fn default_project(&self, user: Uuid) -> Result<ProjectRecord, FlowError> {
        Self::default_project(self, user)
    }
    fn list_projects(&self, user: Uuid) -> Result<Vec<ProjectRecord>, FlowError> {
        Self::list_projects(self, user)
    }
    fn create_project(&self, user: Uuid, project: NewProject, move_flows: &[Uuid]) -> Result<ProjectRecord, FlowError> {
        Self::create_project(self, user, project, move_flows)
    }
    fn update_project(&self, user: Uuid, id: Uuid, patch: ProjectPatch) -> Result<ProjectRecord, FlowError> {
        Self::update_project(self, user, id, patch)
    }
    fn delete_project(&self, user: Uuid, id: Uuid) -> Result<Vec<Uuid>, FlowError> {
        Self::delete_project(self, user, id)
    }
    fn import_project(
        &self,
        user: Uuid,
        project: NewProject,
        flows: Vec<(Option<Uuid>, FlowInput)>,
    ) -> Result<(ProjectRecord, Vec<FlowRecord>), FlowError> {
        Self::import_project(self, user, project, flows)
    }
}
