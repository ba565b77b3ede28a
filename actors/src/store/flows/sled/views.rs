//! The flow trees inside one sled transaction: change sets, their commit, and the user
//! deletion's share of the flow trees.
//!
//! Each record owns entries in per-user unique indexes (`user ++ name → id`: flow names,
//! endpoint names, project names); [`claim`] and [`release`] are the one place that keeps them.

use std::collections::HashMap;

use sled::transaction::{ConflictableTransactionError, TransactionalTree, UnabortableTransactionError};
use sled::{Transactional, Tree};
use uuid::Uuid;

use super::super::{FlowError, FlowRecord, ProjectRecord, ENDPOINT_TAKEN, NAME_TAKEN, PROJECT_NAME_TAKEN};
use super::FlowStore;
use crate::codec;
use crate::store::{compose, Store};

type TxResult<T> = Result<T, ConflictableTransactionError<FlowError>>;

pub(super) fn abort<T>(e: FlowError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

/// Points `user ++ name` of a unique index at `id`, or aborts with `taken` when another record
/// holds it.
fn claim(index: &TransactionalTree, user: Uuid, name: &str, id: Uuid, taken: &'static str) -> TxResult<()> {
    let key = compose(user.as_bytes(), name.as_bytes());
    if index.get(&key)?.is_some_and(|v| v.as_ref() != id.as_bytes()) {
        return abort(FlowError::Conflict(taken));
    }
    index.insert(key, id.as_bytes())?;
    Ok(())
}

/// Removes `user ++ name` from a unique index, only where it still points at `id`.
fn release(index: &TransactionalTree, user: Uuid, name: &str, id: Uuid) -> Result<(), UnabortableTransactionError> {
    let key = compose(user.as_bytes(), name.as_bytes());
    if index.get(&key)?.is_some_and(|v| v.as_ref() == id.as_bytes()) {
        index.remove(key)?;
    }
    Ok(())
}

/// Stores a record and its owner-index entry (`user ++ id → ()`).
fn keep_record(
    records: &TransactionalTree,
    owner: &TransactionalTree,
    user: Uuid,
    id: Uuid,
    bytes: &[u8],
) -> TxResult<()> {
    owner.insert(compose(user.as_bytes(), id.as_bytes()), &[])?;
    records.insert(id.as_bytes(), bytes)?;
    Ok(())
}

/// Removes a record and its owner-index entry.
fn drop_record(
    records: &TransactionalTree,
    owner: &TransactionalTree,
    user: Uuid,
    id: Uuid,
) -> Result<(), UnabortableTransactionError> {
    owner.remove(compose(user.as_bytes(), id.as_bytes()))?;
    records.remove(id.as_bytes())?;
    Ok(())
}

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
        drop_record(self.flows, self.user_flows, rec.user_id, rec.id)
    }

    fn remove_flow_indexes(&self, rec: &FlowRecord) -> Result<(), UnabortableTransactionError> {
        release(self.names, rec.user_id, &rec.name, rec.id)?;
        if let Some(ep) = &rec.endpoint_name {
            release(self.endpoints, rec.user_id, ep, rec.id)?;
        }
        Ok(())
    }

    fn put_flow(&self, rec: &FlowRecord, bytes: &[u8]) -> TxResult<()> {
        claim(self.names, rec.user_id, &rec.name, rec.id, NAME_TAKEN)?;
        if let Some(ep) = &rec.endpoint_name {
            claim(self.endpoints, rec.user_id, ep, rec.id, ENDPOINT_TAKEN)?;
        }
        keep_record(self.flows, self.user_flows, rec.user_id, rec.id, bytes)
    }

    fn remove_project(&self, rec: &ProjectRecord) -> Result<(), UnabortableTransactionError> {
        self.remove_project_name(rec)?;
        drop_record(self.projects, self.user_projects, rec.user_id, rec.id)
    }

    fn remove_project_name(&self, rec: &ProjectRecord) -> Result<(), UnabortableTransactionError> {
        release(self.project_names, rec.user_id, &rec.name, rec.id)
    }

    fn put_project(&self, rec: &ProjectRecord, bytes: &[u8]) -> TxResult<()> {
        claim(self.project_names, rec.user_id, &rec.name, rec.id, PROJECT_NAME_TAKEN)?;
        keep_record(self.projects, self.user_projects, rec.user_id, rec.id, bytes)
    }
}

/// A set of record changes committed in one transaction: `(old, new)` pairs where `None` on the
/// left inserts and `None` on the right deletes.
#[derive(Default)]
pub(super) struct ChangeSet {
    pub flows: Vec<(Option<FlowRecord>, Option<FlowRecord>)>,
    pub projects: Vec<(Option<ProjectRecord>, Option<ProjectRecord>)>,
}

impl FlowStore {
    /// Commits `changes` in one transaction; inserts fail when `user` no longer exists.
    pub(super) fn commit(&self, user: Uuid, changes: &ChangeSet) -> Result<(), FlowError> {
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
