//! User rules: validation, uniqueness (case-insensitive, as Langflow 1.13), login state, paging,
//! and the cascading delete.

use sled::transaction::ConflictableTransactionError;
use sled::{Transactional, Tree};
use uuid::Uuid;

use super::super::repo::UserRepo;
use super::Registry;
use crate::clock::now_micros;
use crate::codec;
use crate::error::{LoginRefusal, RegistryError};
use crate::records::UserRecord;
use crate::store::flows::UserFlowsDeletion;

/// Longest accepted username, in characters.
pub const MAX_USERNAME_LEN: usize = 64;
/// Longest accepted password, in characters (Langflow 1.13 refuses more than 4096).
pub const MAX_PASSWORD_LEN: usize = 4096;
/// Longest accepted profile image reference.
pub(crate) const MAX_PROFILE_IMAGE_LEN: usize = 1024;
/// Largest accepted `optins` JSON text.
const MAX_OPTINS_LEN: usize = 4096;
pub(crate) const DEFAULT_OPTINS: &str = r#"{"github_starred":false,"dialog_dismissed":false,"discord_clicked":false}"#;

/// Fields a PATCH may change. The caller decides who may send which.
#[derive(Debug, Default, Clone)]
pub struct UserPatch {
    pub username: Option<String>,
    pub profile_image: Option<String>,
    pub password: Option<String>,
    pub is_active: Option<bool>,
    pub is_superuser: Option<bool>,
    pub optins: Option<String>,
}

pub(crate) fn validate_username(username: &str) -> Result<(), RegistryError> {
    let len = username.chars().count();
    if username.trim().is_empty() {
        return Err(RegistryError::Invalid("Username cannot be empty".into()));
    }
    if len > MAX_USERNAME_LEN {
        return Err(RegistryError::Invalid(format!("Username must be at most {MAX_USERNAME_LEN} characters")));
    }
    if username.chars().any(char::is_control) {
        return Err(RegistryError::Invalid("Username cannot contain control characters".into()));
    }
    Ok(())
}

pub(crate) fn validate_password(password: &str) -> Result<(), RegistryError> {
    if password.is_empty() {
        return Err(RegistryError::Invalid("Password cannot be empty".into()));
    }
    if password.chars().count() > MAX_PASSWORD_LEN {
        return Err(RegistryError::Invalid(format!("Password must be at most {MAX_PASSWORD_LEN} characters")));
    }
    if password.contains('\0') {
        return Err(RegistryError::Invalid("Password cannot contain NUL characters".into()));
    }
    Ok(())
}

pub(crate) fn validate_new_user(username: &str, password: &str) -> Result<(), RegistryError> {
    validate_username(username)?;
    validate_password(password)
}

pub(crate) fn validate_optins(optins: &str) -> Result<(), RegistryError> {
    if optins.len() > MAX_OPTINS_LEN {
        return Err(RegistryError::Invalid("optins is too large".into()));
    }
    Ok(())
}

fn username_key(username: &str) -> Vec<u8> {
    username.to_lowercase().into_bytes()
}

fn abort(e: RegistryError) -> ConflictableTransactionError<RegistryError> {
    ConflictableTransactionError::Abort(e)
}

impl Registry {
    fn put_user(&self, user: &UserRecord, old_username: Option<&str>) -> Result<(), RegistryError> {
        let bytes = codec::encode(user)?;
        let new_key = username_key(&user.username);
        let old_key = old_username.map(username_key);
        self.store.write(|| {
            (&self.store.users, &self.store.usernames).transaction(|(users, names)| {
                if let Some(existing) = names.get(&new_key)? {
                    if existing.as_ref() != user.id.as_bytes() {
                        return Err(abort(RegistryError::Conflict("This username is unavailable.")));
                    }
                }
                if let Some(old) = &old_key {
                    if *old != new_key {
                        names.remove(old.as_slice())?;
                    }
                }
                names.insert(new_key.as_slice(), user.id.as_bytes())?;
                users.insert(user.id.as_bytes(), bytes.as_slice())?;
                Ok(())
            })
        })?;
        self.options.epoch.bump();
        Ok(())
    }

    /// Stores `last_login_at`; on a full disk the login still succeeds, unrecorded (reads keep
    /// working while writes are refused).
    fn record_login(&self, user: &UserRecord) -> Result<(), RegistryError> {
        match self.put_user(user, Some(&user.username)) {
            Err(RegistryError::Storage(e)) if crate::store::is_disk_full(&e) => {
                tracing::warn!(user = %user.id, "disk full: login not recorded");
                Ok(())
            }
            other => other,
        }
    }
}

impl UserRepo for Registry {
    fn get_user(&self, id: Uuid) -> Result<Option<UserRecord>, RegistryError> {
        self.store.users.get(id.as_bytes())?.map(|b| codec::decode(&b).map_err(Into::into)).transpose()
    }

    fn find_user(&self, username: &str) -> Result<Option<UserRecord>, RegistryError> {
        let Some(id) = self.store.usernames.get(username_key(username))? else { return Ok(None) };
        let Ok(id) = Uuid::from_slice(&id) else { return Ok(None) };
        Ok(self.get_user(id)?.filter(|u| u.username == username))
    }

    fn first_superuser(&self) -> Result<Option<UserRecord>, RegistryError> {
        let mut best: Option<UserRecord> = None;
        for item in &self.store.users {
            let (_, bytes) = item?;
            let user: UserRecord = codec::decode(&bytes)?;
            if user.is_superuser && best.as_ref().is_none_or(|b| user.create_at < b.create_at) {
                best = Some(user);
            }
        }
        Ok(best)
    }

    fn insert_user(
        &mut self,
        username: &str,
        password_hash: String,
        is_active: bool,
        is_superuser: bool,
        optins: Option<String>,
    ) -> Result<UserRecord, RegistryError> {
        validate_username(username)?;
        let optins = optins.unwrap_or_else(|| DEFAULT_OPTINS.to_owned());
        validate_optins(&optins)?;
        let now = now_micros();
        let user = UserRecord {
            id: Uuid::new_v4(),
            username: username.to_owned(),
            password_hash,
            profile_image: None,
            is_active,
            is_superuser,
            create_at: now,
            updated_at: now,
            last_login_at: None,
            optins,
        };
        self.put_user(&user, None)?;
        Ok(user)
    }

    fn complete_login(&mut self, id: Option<Uuid>, password_ok: bool) -> Result<UserRecord, RegistryError> {
        let user = match id {
            Some(id) if password_ok => self.get_user(id)?,
            _ => None,
        };
        let Some(mut user) = user else {
            return Err(RegistryError::Login(LoginRefusal::BadCredentials));
        };
        if !user.is_active {
            return Err(RegistryError::Login(if user.last_login_at.is_none() {
                LoginRefusal::WaitingForApproval
            } else {
                LoginRefusal::Inactive
            }));
        }
        user.last_login_at = Some(now_micros());
        self.record_login(&user)?;
        Ok(user)
    }

    fn touch_login(&mut self, id: Uuid) -> Result<UserRecord, RegistryError> {
        let mut user = self.get_user(id)?.ok_or(RegistryError::NotFound("User not found"))?;
        user.last_login_at = Some(now_micros());
        self.record_login(&user)?;
        Ok(user)
    }

    fn list_users(
        &self,
        skip: usize,
        limit: usize,
        search: Option<&str>,
    ) -> Result<(usize, Vec<UserRecord>), RegistryError> {
        let needle = search.map(str::to_lowercase).filter(|s| !s.is_empty());
        let mut all = Vec::new();
        for item in &self.store.users {
            let (_, bytes) = item?;
            let user: UserRecord = codec::decode(&bytes)?;
            if needle.as_ref().is_none_or(|n| user.username.to_lowercase().contains(n.as_str())) {
                all.push(user);
            }
        }
        all.sort_by(|a, b| a.username.cmp(&b.username).then(a.id.cmp(&b.id)));
        let total = all.len();
        Ok((total, all.into_iter().skip(skip).take(limit).collect()))
    }

    fn update_user(
        &mut self,
        id: Uuid,
        patch: UserPatch,
        password_hash: Option<String>,
    ) -> Result<UserRecord, RegistryError> {
        let mut user = self.get_user(id)?.ok_or(RegistryError::NotFound("User not found"))?;
        let old_username = user.username.clone();
        if let Some(name) = patch.username {
            validate_username(&name)?;
            user.username = name;
        }
        if let Some(image) = patch.profile_image {
            if image.len() > MAX_PROFILE_IMAGE_LEN {
                return Err(RegistryError::Invalid("profile_image is too long".into()));
            }
            user.profile_image = Some(image);
        }
        if let Some(optins) = patch.optins {
            validate_optins(&optins)?;
            user.optins = optins;
        }
        if let Some(active) = patch.is_active {
            user.is_active = active;
        }
        if let Some(superuser) = patch.is_superuser {
            user.is_superuser = superuser;
        }
        if let Some(hash) = password_hash {
            user.password_hash = hash;
        }
        user.updated_at = now_micros();
        self.put_user(&user, Some(&old_username))?;
        Ok(user)
    }

    fn delete_user(&mut self, id: Uuid) -> Result<(), RegistryError> {
        let user = self.get_user(id)?.ok_or(RegistryError::NotFound("User not found"))?;
        // Held until the transaction commits, so no flow or project of this user appears between
        // collecting them and deleting them.
        let _flow_writer = self.store.flow_writer();
        let flows = UserFlowsDeletion::collect(&self.store, id)?;
        let prefix = id.as_bytes();
        let mut keys = Vec::new();
        for item in self.store.user_api_keys.scan_prefix(prefix) {
            let (index_key, _) = item?;
            let key_id = index_key[16..].to_vec();
            let hash =
                self.store.api_keys.get(&key_id)?.map(|b| codec::decode_api_key(&b)).transpose()?.map(|k| k.hash);
            keys.push((index_key.to_vec(), key_id, hash));
        }
        let mut variables = Vec::new();
        for item in self.store.variable_names.scan_prefix(prefix) {
            let (name_key, var_id) = item?;
            variables.push((name_key.to_vec(), var_id.to_vec()));
        }
        let s = &self.store;
        let [f0, f1, f2, f3, f4, f5, f6] = s.flow_trees();
        let trees: [&Tree; 14] = [
            &s.users,
            &s.usernames,
            &s.api_keys,
            &s.api_key_hashes,
            &s.user_api_keys,
            &s.variables,
            &s.variable_names,
            f0,
            f1,
            f2,
            f3,
            f4,
            f5,
            f6,
        ];
        self.store.write_always(|| {
            trees.as_slice().transaction(|views| {
                let [users, names, api_keys, hashes, user_keys, vars, var_names, flow_views @ ..] = views.as_slice()
                else {
                    return Err(abort(RegistryError::Invalid("user deletion needs every tree".into())));
                };
                users.remove(id.as_bytes())?;
                names.remove(username_key(&user.username))?;
                for (index_key, key_id, hash) in &keys {
                    user_keys.remove(index_key.as_slice())?;
                    api_keys.remove(key_id.as_slice())?;
                    if let Some(hash) = hash {
                        hashes.remove(&hash[..])?;
                    }
                }
                for (name_key, var_id) in &variables {
                    var_names.remove(name_key.as_slice())?;
                    vars.remove(var_id.as_slice())?;
                }
                flows.apply(flow_views)?;
                Ok::<(), ConflictableTransactionError<RegistryError>>(())
            })
        })?;
        self.options.epoch.bump();
        // Usage of the deleted keys: a crash before this leaves only records no key reaches.
        for (_, key_id, _) in &keys {
            self.store.api_key_usage.remove(key_id.as_slice())?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::crypto::Secrets;
    use crate::registry::RegistryOptions;
    use crate::store::Store;

    pub(crate) fn registry() -> Registry {
        Registry::new(
            Store::temporary().expect("store"),
            Secrets::derive("test secret"),
            RegistryOptions { track_key_usage: true, ..RegistryOptions::default() },
        )
    }

    #[test]
    fn usernames_are_unique_case_insensitively_but_login_is_exact() {
        let mut r = registry();
        let alice = r.insert_user("Alice", "h".into(), true, false, None).expect("create");
        assert!(matches!(
            r.insert_user("alice", "h".into(), true, false, None),
            Err(RegistryError::Conflict("This username is unavailable."))
        ));
        assert_eq!(r.find_user("Alice").expect("find").map(|u| u.id), Some(alice.id));
        assert!(r.find_user("alice").expect("find").is_none());
    }

    #[test]
    fn login_state_is_revealed_only_after_a_good_password() {
        let mut r = registry();
        let u = r.insert_user("bob", "h".into(), false, false, None).expect("create");
        assert!(matches!(r.complete_login(Some(u.id), false), Err(RegistryError::Login(LoginRefusal::BadCredentials))));
        assert!(matches!(
            r.complete_login(Some(u.id), true),
            Err(RegistryError::Login(LoginRefusal::WaitingForApproval))
        ));
        r.update_user(u.id, UserPatch { is_active: Some(true), ..UserPatch::default() }, None).expect("activate");
        assert!(r.complete_login(Some(u.id), true).expect("login").last_login_at.is_some());
        r.update_user(u.id, UserPatch { is_active: Some(false), ..UserPatch::default() }, None).expect("deactivate");
        assert!(matches!(r.complete_login(Some(u.id), true), Err(RegistryError::Login(LoginRefusal::Inactive))));
        assert!(matches!(r.complete_login(None, true), Err(RegistryError::Login(LoginRefusal::BadCredentials))));
    }

    #[test]
    fn renaming_moves_the_index_and_listing_filters() {
        let mut r = registry();
        let u = r.insert_user("carol", "h".into(), true, false, None).expect("create");
        r.insert_user("dave", "h".into(), true, false, None).expect("create");
        r.update_user(u.id, UserPatch { username: Some("Caroline".into()), ..UserPatch::default() }, None)
            .expect("rename");
        assert!(r.find_user("carol").expect("find").is_none());
        assert!(r.insert_user("carol", "h".into(), true, false, None).is_ok());
        let (total, page) = r.list_users(0, 1, Some("CAROL")).expect("list");
        assert_eq!(total, 2);
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].username, "Caroline");
    }

    #[test]
    fn deleting_a_user_deletes_their_flows_and_projects_only() {
        use crate::store::flows::{FlowError, FlowInput, FlowReads, FlowStore, FlowWrites};
        let mut r = registry();
        let a = r.insert_user("a", "h".into(), true, false, None).expect("create");
        let b = r.insert_user("b", "h".into(), true, false, None).expect("create");
        let flows = FlowStore::new(r.store().clone());
        let input =
            || FlowInput { name: Some("f".into()), endpoint_name: Some(Some("ep".into())), ..FlowInput::default() };
        let fa = flows.create(a.id, None, input()).expect("flow a");
        let fb = flows.create(b.id, None, input()).expect("flow b");
        r.delete_user(a.id).expect("delete");
        assert!(flows.get(fa.id).expect("get").is_none());
        assert_eq!(flows.get(fb.id).expect("get").map(|f| f.folder_id), Some(fb.folder_id));
        let s = r.store();
        for tree in [&s.flow_names, &s.flow_endpoints, &s.user_flows, &s.project_names, &s.user_projects] {
            assert_eq!(tree.scan_prefix(a.id.as_bytes()).count(), 0);
        }
        assert_eq!(s.projects.len(), 1);
        assert!(matches!(flows.create(a.id, None, input()), Err(FlowError::NotFound("User not found"))));
    }

    #[test]
    fn bounds_are_enforced() {
        assert!(validate_new_user("", "pw").is_err());
        assert!(validate_new_user(&"x".repeat(MAX_USERNAME_LEN + 1), "pw").is_err());
        assert!(validate_new_user("ok", "").is_err());
        assert!(validate_new_user("ok", "a\0b").is_err());
        assert!(validate_new_user("ok", &"p".repeat(MAX_PASSWORD_LEN + 1)).is_err());
        assert!(validate_new_user("ok", "pw").is_ok());
    }
}
