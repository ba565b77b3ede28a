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

use super::suffix::Suffix;
use super::{FlowError, FlowReads, FlowRecord, ProjectRecord, AMBIGUOUS_ENDPOINT, FOLDER_NOT_FOUND};
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

/// The per-user unique fields of a flow.
#[derive(Clone, Copy)]
enum Unique {
    Name,
    Endpoint,
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

    /// The ids in a per-user owner index (`user ++ id → ()`), read from the index alone.
    fn index_ids(index: &sled::Tree, user: Uuid) -> Result<Vec<Uuid>, FlowError> {
        let mut ids = Vec::new();
        for item in index.scan_prefix(user.as_bytes()) {
            let (key, _) = item?;
            if let Some(id) = key.get(16..).and_then(uuid_at) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    fn owned_flows(&self, user: Uuid) -> Result<Vec<FlowRecord>, FlowError> {
        let mut out = Vec::new();
        for id in Self::index_ids(&self.store.user_flows, user)? {
            out.extend(self.get_owned(user, id)?);
        }
        Ok(out)
    }

    /// The caller's projects, in id order.
    pub(super) fn owned_projects(&self, user: Uuid) -> Result<Vec<ProjectRecord>, FlowError> {
        let mut out = Vec::new();
        for id in Self::index_ids(&self.store.user_projects, user)? {
            out.extend(self.get_project(user, id)?);
        }
        Ok(out)
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

    /// Langflow's de-duplication of a flow name (`X (n)`) or endpoint name (`ep-n`) against the
    /// stored index and the names `pending` in the same write.
    fn unique(
        &self,
        field: Unique,
        user: Uuid,
        base: &str,
        exclude: Option<Uuid>,
        pending: &Pending,
    ) -> Result<String, FlowError> {
        let (index, taken, style) = match field {
            Unique::Name => (&self.store.flow_names, &pending.names, Suffix::Paren),
            Unique::Endpoint => (&self.store.flow_endpoints, &pending.endpoints, Suffix::Dash),
        };
        Self::unique_in(index, taken, style, user, base, exclude)
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
        self.store.flows.get(id.as_bytes())?.map(|b| codec::decode(&b).map_err(FlowError::from)).transpose()
    }

    fn get_owned(&self, user: Uuid, id: Uuid) -> Result<Option<FlowRecord>, FlowError> {
        Ok(self.get(id)?.filter(|f| f.user_id == user))
    }

    fn find_by_endpoint(&self, user: Uuid, endpoint_name: &str) -> Result<Option<FlowRecord>, FlowError> {
        let Some(id) = self.store.flow_endpoints.get(compose(user.as_bytes(), endpoint_name.as_bytes()))? else {
            return Ok(None);
        };
        let Some(id) = uuid_at(&id) else { return Ok(None) };
        self.get_owned(user, id)
    }

    fn resolve(&self, user: Uuid, id_or_name: &str) -> Result<Option<FlowRecord>, FlowError> {
        match parse_python_uuid(id_or_name) {
            Some(id) => self.get_owned(user, id),
            None => self.find_by_endpoint(user, id_or_name),
        }
    }

    /// A linear scan of the endpoint index, acceptable for that rare setting.
    fn resolve_any(&self, id_or_name: &str) -> Result<Option<FlowRecord>, FlowError> {
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

    fn owned_ids(&self, user: Uuid) -> Result<Vec<Uuid>, FlowError> {
        Self::index_ids(&self.store.user_flows, user)
    }

    fn list(&self, user: Uuid, folder: Option<Uuid>) -> Result<Vec<FlowRecord>, FlowError> {
        let mut flows = self.owned_flows(user)?;
        if let Some(folder) = folder {
            flows.retain(|f| f.folder_id == folder);
        }
        flows.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        Ok(flows)
    }

    fn get_project(&self, user: Uuid, id: Uuid) -> Result<Option<ProjectRecord>, FlowError> {
        let rec: Option<ProjectRecord> =
            self.store.projects.get(id.as_bytes())?.map(|b| codec::decode(&b)).transpose()?;
        Ok(rec.filter(|p| p.user_id == user))
    }

    fn check_space(&self) -> Result<(), FlowError> {
        Ok(self.store.check_space()?)
    }
}
