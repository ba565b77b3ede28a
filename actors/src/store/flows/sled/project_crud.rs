//! Project writes and reads: the default project, creation, renaming and moving, deletion with
//! the project's flows, and project upload.

use std::collections::HashSet;

use uuid::Uuid;

use super::super::suffix::Suffix;
use super::super::validate::{validate_input, validate_project_fields};
use super::super::{
    FlowError, FlowInput, FlowReads, FlowRecord, NewProject, ProjectPatch, ProjectRecord, ProjectWrites,
    DEFAULT_PROJECT_DESCRIPTION, DEFAULT_PROJECT_NAME, MAX_PROJECT_DEPTH, PARENT_NOT_FOUND, PROJECT_NOT_FOUND,
};
use super::views::ChangeSet;
use super::{uuid_at, FlowStore};
use crate::clock::now_micros;
use crate::store::compose;

impl FlowStore {
    fn project_by_name(&self, user: Uuid, name: &str) -> Result<Option<ProjectRecord>, FlowError> {
        let Some(id) = self.store.project_names.get(compose(user.as_bytes(), name.as_bytes()))? else {
            return Ok(None);
        };
        match uuid_at(&id) {
            Some(id) => self.get_project(user, id),
            None => Ok(None),
        }
    }

    pub(super) fn default_project_locked(&self, user: Uuid) -> Result<ProjectRecord, FlowError> {
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
        Self::unique_in(&self.store.project_names, &HashSet::new(), Suffix::Paren, user, base, None)
    }

    fn new_project_record(&self, user: Uuid, project: NewProject) -> Result<ProjectRecord, FlowError> {
        validate_project_fields(Some(&project.name), project.description.as_deref(), project.auth_settings.as_deref())?;
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
}

impl ProjectWrites for FlowStore {
    fn default_project(&self, user: Uuid) -> Result<ProjectRecord, FlowError> {
        let _writer = self.store.flow_writer();
        self.default_project_locked(user)
    }

    fn list_projects(&self, user: Uuid) -> Result<Vec<ProjectRecord>, FlowError> {
        let default = self.default_project(user)?;
        let mut rest: Vec<ProjectRecord> =
            self.owned_projects(user)?.into_iter().filter(|p| p.id != default.id).collect();
        rest.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        let mut out = Vec::with_capacity(rest.len() + 1);
        out.push(default);
        out.extend(rest);
        Ok(out)
    }

    fn create_project(&self, user: Uuid, project: NewProject, move_flows: &[Uuid]) -> Result<ProjectRecord, FlowError> {
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

    fn update_project(&self, user: Uuid, id: Uuid, patch: ProjectPatch) -> Result<ProjectRecord, FlowError> {
        validate_project_fields(patch.name.as_deref(), patch.description.as_deref(), patch.auth_settings.as_deref())?;
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

    fn delete_project(&self, user: Uuid, id: Uuid) -> Result<Vec<Uuid>, FlowError> {
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

    fn import_project(
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
