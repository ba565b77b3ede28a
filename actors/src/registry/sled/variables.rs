//! Global variables: Generic (plain) and Credential (sealed with a key derived from the secret,
//! bound to owner and record). Names are unique per user.

use sled::transaction::ConflictableTransactionError;
use sled::Transactional;
use uuid::Uuid;

use super::super::repo::VariableRepo;
use super::Registry;
use crate::clock::now_micros;
use crate::codec;
use crate::error::RegistryError;
use crate::records::{StoredValue, VariableKind, VariableRecord};
use crate::store::compose;

/// Longest accepted variable name.
pub const MAX_VARIABLE_NAME_LEN: usize = 255;
/// Largest accepted variable value, in bytes.
pub const MAX_VARIABLE_VALUE_LEN: usize = 64 * 1024;
/// Most `default_fields` entries.
pub const MAX_DEFAULT_FIELDS: usize = 100;
const NOT_FOUND: &str = "Variable not found";

/// Fields a PATCH may change.
#[derive(Debug, Default, Clone)]
pub struct VariablePatch {
    pub name: Option<String>,
    pub value: Option<String>,
    pub kind: Option<VariableKind>,
    pub default_fields: Option<Vec<String>>,
}

pub(crate) fn validate_name(name: &str) -> Result<(), RegistryError> {
    if name.chars().count() > MAX_VARIABLE_NAME_LEN {
        return Err(RegistryError::Invalid(format!(
            "Variable name must be at most {MAX_VARIABLE_NAME_LEN} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(RegistryError::Invalid("Variable name cannot contain control characters".into()));
    }
    Ok(())
}

pub(crate) fn validate_value(value: &str) -> Result<(), RegistryError> {
    if value.len() > MAX_VARIABLE_VALUE_LEN {
        return Err(RegistryError::Invalid(format!("Variable value must be at most {MAX_VARIABLE_VALUE_LEN} bytes")));
    }
    Ok(())
}

pub(crate) fn validate_fields(fields: &[String]) -> Result<(), RegistryError> {
    if fields.len() > MAX_DEFAULT_FIELDS || fields.iter().any(|f| f.len() > MAX_VARIABLE_NAME_LEN) {
        return Err(RegistryError::Invalid("default_fields is too large".into()));
    }
    Ok(())
}

impl Registry {
    fn get_variable(&self, id: Uuid) -> Result<Option<VariableRecord>, RegistryError> {
        self.store.variables.get(id.as_bytes())?.map(|b| codec::decode(&b).map_err(Into::into)).transpose()
    }

    fn owned_variable(&self, user_id: Uuid, id: Uuid) -> Result<VariableRecord, RegistryError> {
        self.get_variable(id)?.filter(|v| v.user_id == user_id).ok_or(RegistryError::NotFound(NOT_FOUND))
    }

    fn stored_value(
        &self,
        user_id: Uuid,
        id: Uuid,
        kind: VariableKind,
        value: &str,
    ) -> Result<StoredValue, RegistryError> {
        Ok(match kind {
            VariableKind::Generic => StoredValue::Plain(value.to_owned()),
            VariableKind::Credential => {
                StoredValue::Sealed(self.secrets.seal(&VariableRecord::seal_context(user_id, id), value)?)
            }
        })
    }

    fn plaintext(&self, var: &VariableRecord) -> Result<String, RegistryError> {
        match &var.value {
            StoredValue::Plain(v) => Ok(v.clone()),
            StoredValue::Sealed(bytes) => {
                Ok(self.secrets.open(&VariableRecord::seal_context(var.user_id, var.id), bytes)?)
            }
        }
    }

    /// Writes `var`, moving its name index from `old_name` when renamed; refuses duplicates.
    fn put_variable(&self, var: &VariableRecord, old_name: Option<&str>) -> Result<(), RegistryError> {
        let bytes = codec::encode(var)?;
        let name_key = compose(var.user_id.as_bytes(), var.name.as_bytes());
        let old_key = old_name.map(|n| compose(var.user_id.as_bytes(), n.as_bytes()));
        self.store.write(|| {
            (&self.store.variables, &self.store.variable_names).transaction(|(vars, names)| {
                if let Some(existing) = names.get(&name_key)? {
                    if existing.as_ref() != var.id.as_bytes() {
                        return Err(ConflictableTransactionError::Abort(RegistryError::Conflict(
                            "Variable name already exists",
                        )));
                    }
                }
                if let Some(old) = &old_key {
                    if *old != name_key {
                        names.remove(old.as_slice())?;
                    }
                }
                names.insert(name_key.as_slice(), var.id.as_bytes())?;
                vars.insert(var.id.as_bytes(), bytes.as_slice())?;
                Ok(())
            })
        })?;
        Ok(())
    }
}

impl VariableRepo for Registry {
    fn create_variable(
        &mut self,
        user_id: Uuid,
        name: &str,
        value: &str,
        kind: VariableKind,
        default_fields: Vec<String>,
    ) -> Result<VariableRecord, RegistryError> {
        match (name.is_empty(), value.is_empty()) {
            (true, true) => return Err(RegistryError::Invalid("Variable name and value cannot be empty".into())),
            (true, false) => return Err(RegistryError::Invalid("Variable name cannot be empty".into())),
            (false, true) => return Err(RegistryError::Invalid("Variable value cannot be empty".into())),
            (false, false) => {}
        }
        validate_name(name)?;
        validate_value(value)?;
        validate_fields(&default_fields)?;
        let id = Uuid::new_v4();
        let now = now_micros();
        let var = VariableRecord {
            id,
            user_id,
            name: name.to_owned(),
            kind,
            value: self.stored_value(user_id, id, kind, value)?,
            default_fields,
            created_at: now,
            updated_at: now,
        };
        self.put_variable(&var, None)?;
        Ok(var)
    }

    fn list_variables(&self, user_id: Uuid) -> Result<Vec<VariableRecord>, RegistryError> {
        let mut out = Vec::new();
        for item in self.store.variable_names.scan_prefix(user_id.as_bytes()) {
            let (_, id) = item?;
            let Ok(id) = Uuid::from_slice(&id) else { continue };
            if let Some(var) = self.get_variable(id)? {
                let internal = var.name.len() > 4 && var.name.starts_with("__") && var.name.ends_with("__");
                if !internal {
                    out.push(var);
                }
            }
        }
        out.sort_by_key(|v| (v.created_at, v.id));
        Ok(out)
    }

    fn update_variable(
        &mut self,
        user_id: Uuid,
        id: Uuid,
        patch: VariablePatch,
    ) -> Result<VariableRecord, RegistryError> {
        let mut var = self.owned_variable(user_id, id)?;
        let old_name = var.name.clone();
        if let Some(name) = patch.name {
            if name.is_empty() {
                return Err(RegistryError::Invalid("Variable name cannot be empty".into()));
            }
            validate_name(&name)?;
            var.name = name;
        }
        if let Some(fields) = patch.default_fields {
            validate_fields(&fields)?;
            var.default_fields = fields;
        }
        let new_kind = patch.kind.unwrap_or(var.kind);
        let value = match patch.value {
            Some(v) => {
                if v.is_empty() {
                    return Err(RegistryError::Invalid("Variable value cannot be empty".into()));
                }
                validate_value(&v)?;
                Some(v)
            }
            None if new_kind != var.kind => Some(self.plaintext(&var)?),
            None => None,
        };
        var.kind = new_kind;
        if let Some(v) = value {
            var.value = self.stored_value(user_id, id, new_kind, &v)?;
        }
        var.updated_at = now_micros();
        self.put_variable(&var, Some(&old_name))?;
        Ok(var)
    }

    fn delete_variable(&mut self, user_id: Uuid, id: Uuid) -> Result<(), RegistryError> {
        let var = self.owned_variable(user_id, id)?;
        let name_key = compose(user_id.as_bytes(), var.name.as_bytes());
        self.store.write_always(|| {
            (&self.store.variables, &self.store.variable_names).transaction(|(vars, names)| {
                vars.remove(id.as_bytes())?;
                names.remove(name_key.as_slice())?;
                Ok::<(), ConflictableTransactionError<RegistryError>>(())
            })
        })?;
        Ok(())
    }

    fn resolve_variable(&self, user_id: Uuid, name: &str) -> Result<Option<String>, RegistryError> {
        let Some(id) = self.store.variable_names.get(compose(user_id.as_bytes(), name.as_bytes()))? else {
            return Ok(None);
        };
        let Ok(id) = Uuid::from_slice(&id) else { return Ok(None) };
        self.get_variable(id)?.map(|v| self.plaintext(&v)).transpose()
    }

    fn seed_credentials(&mut self, user_id: Uuid, values: Vec<(String, String)>) -> Result<usize, RegistryError> {
        let mut stored = 0;
        for (name, value) in values {
            if name.is_empty() || value.is_empty() {
                continue;
            }
            let existing = self.store.variable_names.get(compose(user_id.as_bytes(), name.as_bytes()))?;
            match existing.and_then(|id| Uuid::from_slice(&id).ok()) {
                Some(id) => {
                    let patch = VariablePatch {
                        value: Some(value),
                        kind: Some(VariableKind::Credential),
                        ..Default::default()
                    };
                    self.update_variable(user_id, id, patch)?;
                }
                None => {
                    self.create_variable(user_id, &name, &value, VariableKind::Credential, Vec::new())?;
                }
            }
            stored += 1;
        }
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::sled::users::tests::registry;
    use crate::registry::UserRepo;

    #[test]
    fn credentials_are_sealed_and_resolvable() {
        let mut r = registry();
        let u = r.insert_user("v", "h".into(), true, false, None).expect("user");
        let v =
            r.create_variable(u.id, "OPENAI_API_KEY", "sk-canary", VariableKind::Credential, vec![]).expect("create");
        assert!(matches!(v.value, StoredValue::Sealed(_)));
        assert_eq!(r.resolve_variable(u.id, "OPENAI_API_KEY").expect("resolve").as_deref(), Some("sk-canary"));
        assert!(matches!(
            r.create_variable(u.id, "OPENAI_API_KEY", "x", VariableKind::Generic, vec![]),
            Err(RegistryError::Conflict("Variable name already exists"))
        ));
        let other = r.insert_user("w", "h".into(), true, false, None).expect("user");
        assert!(r.create_variable(other.id, "OPENAI_API_KEY", "x", VariableKind::Generic, vec![]).is_ok());
        assert!(matches!(r.delete_variable(other.id, v.id), Err(RegistryError::NotFound(NOT_FOUND))));
    }

    #[test]
    fn empty_inputs_get_langflow_messages() {
        let mut r = registry();
        let id = Uuid::new_v4();
        let msg = |res: Result<VariableRecord, RegistryError>| match res {
            Err(RegistryError::Invalid(m)) => m,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            msg(r.create_variable(id, "", "", VariableKind::Generic, vec![])),
            "Variable name and value cannot be empty"
        );
        assert_eq!(msg(r.create_variable(id, "", "v", VariableKind::Generic, vec![])), "Variable name cannot be empty");
        assert_eq!(
            msg(r.create_variable(id, "n", "", VariableKind::Generic, vec![])),
            "Variable value cannot be empty"
        );
    }

    #[test]
    fn kind_change_reseals_and_rename_moves_index() {
        let mut r = registry();
        let u = r.insert_user("k", "h".into(), true, false, None).expect("user");
        let v = r.create_variable(u.id, "A", "plain", VariableKind::Generic, vec![]).expect("create");
        let patch =
            VariablePatch { name: Some("B".into()), kind: Some(VariableKind::Credential), ..Default::default() };
        let v2 = r.update_variable(u.id, v.id, patch).expect("update");
        assert!(matches!(v2.value, StoredValue::Sealed(_)));
        assert_eq!(r.resolve_variable(u.id, "B").expect("resolve").as_deref(), Some("plain"));
        assert!(r.resolve_variable(u.id, "A").expect("resolve").is_none());
        assert_eq!(
            r.seed_credentials(u.id, vec![("B".into(), "new".into()), ("C".into(), "c".into())]).expect("seed"),
            2
        );
        assert_eq!(r.resolve_variable(u.id, "B").expect("resolve").as_deref(), Some("new"));
        assert_eq!(r.list_variables(u.id).expect("list").len(), 2);
    }
}
