//! Flow writes: create, update, upsert, batch creation, upload, deletion.

use std::collections::HashSet;

use serde_json::Value;
use uuid::Uuid;

use super::super::document::{document, has_webhook};
use super::super::validate::{invalid, validate_input, Violation};
use super::super::{
    FlowError, FlowInput, FlowReads, FlowRecord, FlowWrites, IfMatch, StoreFuture, FLOW_ID_TAKEN, FLOW_NOT_FOUND,
};
use super::views::ChangeSet;
use super::{FlowStore, ForeignFolder, Pending, Unique};
use crate::clock::now_micros;

impl FlowStore {
    /// A new record from client fields; name and endpoint are taken as given.
    fn new_record(user: Uuid, id: Uuid, folder_id: Uuid, input: FlowInput) -> Result<FlowRecord, FlowError> {
        let now = now_micros();
        let data = input.data.unwrap_or(Value::Null);
        let (text, content_hash) = document(&data)?;
        Ok(FlowRecord {
            id,
            user_id: user,
            folder_id,
            name: input.name.ok_or_else(|| invalid("name", Violation::Required))?,
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

    /// [`FlowStore::patched`], with a given folder placed by [`FlowStore::folder_for`].
    fn patched_in(
        &self,
        user: Uuid,
        old: &FlowRecord,
        input: FlowInput,
        foreign: ForeignFolder,
    ) -> Result<FlowRecord, FlowError> {
        let folder = match input.folder_id {
            Some(f) => Some(self.folder_for(user, Some(f), foreign)?),
            None => None,
        };
        let mut rec = Self::patched(old, input)?;
        if let Some(folder) = folder {
            rec.folder_id = folder;
        }
        Ok(rec)
    }

    pub(super) fn plan_imports(
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
                input.name = Some(self.unique(Unique::Name, user, &name, exclude, &pending)?);
            }
            if let Some(Some(ep)) = input.endpoint_name.take() {
                input.endpoint_name = Some(Some(self.unique(Unique::Endpoint, user, &ep, exclude, &pending)?));
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
}

impl FlowWrites for FlowStore {
    fn durable(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move { Ok(self.store.durable().await?) })
    }

    fn create(&self, user: Uuid, id: Option<Uuid>, mut input: FlowInput) -> Result<FlowRecord, FlowError> {
        validate_input(&input)?;
        let _writer = self.store.flow_writer();
        let id = id.unwrap_or_else(Uuid::new_v4);
        if self.get(id)?.is_some() {
            return Err(FlowError::Conflict(FLOW_ID_TAKEN));
        }
        let pending = Pending::default();
        let name = input.name.take().ok_or_else(|| invalid("name", Violation::Required))?;
        input.name = Some(self.unique(Unique::Name, user, &name, None, &pending)?);
        if let Some(Some(ep)) = input.endpoint_name.take() {
            input.endpoint_name = Some(Some(self.unique(Unique::Endpoint, user, &ep, None, &pending)?));
        }
        let folder = self.folder_for(user, input.folder_id, ForeignFolder::UseDefault)?;
        let rec = Self::new_record(user, id, folder, input)?;
        self.commit(user, &ChangeSet { flows: vec![(None, Some(rec.clone()))], ..ChangeSet::default() })?;
        Ok(rec)
    }

    fn update(
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
        let rec = self.patched_in(user, &old, input, ForeignFolder::UseDefault)?;
        self.commit(user, &ChangeSet { flows: vec![(Some(old), Some(rec.clone()))], ..ChangeSet::default() })?;
        Ok(rec)
    }

    fn upsert(
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
                let rec = self.patched_in(user, &old, input, ForeignFolder::Refuse)?;
                self.commit(user, &ChangeSet { flows: vec![(Some(old), Some(rec.clone()))], ..ChangeSet::default() })?;
                Ok((rec, false))
            }
            Some(_) => Err(FlowError::NotFound(FLOW_NOT_FOUND)),
            None => {
                let pending = Pending::default();
                let name = input.name.take().ok_or_else(|| invalid("name", Violation::Required))?;
                input.name = Some(self.unique(Unique::Name, user, &name, None, &pending)?);
                let folder = self.folder_for(user, input.folder_id, ForeignFolder::Refuse)?;
                let rec = Self::new_record(user, id, folder, input)?;
                self.commit(user, &ChangeSet { flows: vec![(None, Some(rec.clone()))], ..ChangeSet::default() })?;
                Ok((rec, true))
            }
        }
    }

    fn create_batch(&self, user: Uuid, flows: Vec<(Option<Uuid>, FlowInput)>) -> Result<Vec<FlowRecord>, FlowError> {
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

    fn import(
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

    fn delete_one(&self, user: Uuid, id: Uuid, if_match: Option<&IfMatch>) -> Result<(), FlowError> {
        let _writer = self.store.flow_writer();
        let old = self.get_owned(user, id)?.ok_or(FlowError::NotFound(FLOW_NOT_FOUND))?;
        if let Some(m) = if_match {
            m.check(Some(&old))?;
        }
        self.commit(user, &ChangeSet { flows: vec![(Some(old), None)], ..ChangeSet::default() })
    }

    fn delete(&self, user: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, FlowError> {
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
}
