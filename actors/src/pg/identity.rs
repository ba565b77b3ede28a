//! The identity store on PostgreSQL: the same rules as the sled [`crate::registry::Registry`]
//! (validation, key hashing, credential sealing are shared), with uniqueness enforced by the
//! database's constraints, so two instances can never both take a username or variable name.
//! Every write is one transaction, committed before the method returns.
//!
//! One file of ~700 lines (70 of them tests) on purpose: it is the PostgreSQL side of one trait,
//! `IdentityRepo`, and users, keys and variables share its row mappers and transaction helpers;
//! split per entity when the flow and message stores join it here.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

use super::{param_refs, Param, Pg, PgError};
use crate::clock::{now_micros, Micros};
use crate::codec;
use crate::crypto::{self, Secrets};
use crate::error::{KeyRefusal, LoginRefusal, RegistryError};
use crate::pg_params;
use crate::records::{ApiKeyRecord, KeyGrant, KeyPolicy, StoredValue, UserRecord, VariableKind, VariableRecord};
use crate::registry::sled::keys::{MAX_GRACE_SECONDS, MAX_KEYS_PER_USER, MAX_KEY_NAME_LEN};
use crate::registry::sled::users::{validate_optins, validate_username, DEFAULT_OPTINS, MAX_PROFILE_IMAGE_LEN};
use crate::registry::sled::variables::{validate_fields, validate_name, validate_value};
use crate::registry::{IdentityRepo, KeyRepo, Registry, UserPatch, UserRepo, VariablePatch, VariableRepo};
use crate::store::flows::UserFlowsDeletion;
use crate::store::Store;
use crate::usage::KeyUsage;

impl From<PgError> for RegistryError {
    fn from(e: PgError) -> Self {
        match e {
            PgError::Codec(c) => Self::Codec(c),
            other => Self::Storage(sled::Error::Io(std::io::Error::other(other.to_string()))),
        }
    }
}

fn decode_rows<T: serde::de::DeserializeOwned>(rows: &[postgres::Row]) -> Result<Vec<T>, RegistryError> {
    rows.iter().map(|r| codec::decode(r.get::<_, &[u8]>("record")).map_err(Into::into)).collect()
}

/// The `policy` column of a key (NULL: a full-privilege key).
fn policy_column(policy: &KeyPolicy) -> Option<serde_json::Value> {
    (*policy != KeyPolicy::default()).then(|| serde_json::to_value(policy).unwrap_or(serde_json::Value::Null))
}

/// A key from its `record` and `policy` columns; the column is authoritative for the policy.
fn key_from_row(row: &postgres::Row, record: &str, policy: &str) -> Result<ApiKeyRecord, RegistryError> {
    let mut key = codec::decode_api_key(row.get::<_, &[u8]>(record))?;
    key.policy = match row.get::<_, Option<serde_json::Value>>(policy) {
        None => KeyPolicy::default(),
        Some(v) => serde_json::from_value(v).map_err(|e| codec::CodecError::Decode(format!("key policy: {e}")))?,
    };
    Ok(key)
}

/// Users, API keys and variables in PostgreSQL.
pub struct PgIdentity {
    pg: Pg,
    secrets: Secrets,
    /// The embedded database that still holds flows and projects: a deleted user's are removed
    /// there after the user's row is gone.
    flows: Option<Store>,
}

impl PgIdentity {
    #[must_use]
    pub fn new(pg: Pg, secrets: Secrets, flows: Option<Store>) -> Self {
        Self { pg, secrets, flows }
    }

    fn one<T: serde::de::DeserializeOwned + Send>(
        &self,
        sql: &'static str,
        params: Vec<Param>,
    ) -> Result<Option<T>, RegistryError> {
        let rows = self.pg.with(move |c| Ok(c.query(sql, &param_refs(&params))?))?;
        Ok(decode_rows(&rows)?.into_iter().next())
    }

    fn put_user(&self, user: &UserRecord, insert: bool) -> Result<(), RegistryError> {
        let bytes = codec::encode(user)?;
        let key = user.username.to_lowercase();
        let (id, username, superuser, create_at) = (user.id, user.username.clone(), user.is_superuser, user.create_at);
        let result = self.pg.with(move |c| {
            if insert {
                c.execute(
                    "INSERT INTO users (id, username, username_key, is_superuser, create_at, record) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[&id, &username, &key, &superuser, &create_at, &bytes],
                )?;
            } else {
                c.execute(
                    "UPDATE users SET username = $2, username_key = $3, is_superuser = $4, record = $5 WHERE id = $1",
                    &[&id, &username, &key, &superuser, &bytes],
                )?;
            }
            Ok(())
        });
        match result {
            Err(e) if e.is_unique_violation() => Err(RegistryError::Conflict("This username is unavailable.")),
            other => Ok(other?),
        }
    }

    /// Flows and projects still live in the embedded database, whose transactions refuse rows
    /// of a user it does not know: every user this instance resolves or writes is recorded
    /// there too (re-created on the next request if a crash lost it).
    fn mirror(&self, user: &UserRecord) -> Result<(), RegistryError> {
        if let Some(store) = &self.flows {
            if !store.users.contains_key(user.id.as_bytes())? {
                store.users.insert(user.id.as_bytes(), codec::encode(user)?)?;
            }
        }
        Ok(())
    }

    fn get_key(&self, id: Uuid) -> Result<Option<ApiKeyRecord>, RegistryError> {
        let row =
            self.pg.with(move |c| Ok(c.query_opt("SELECT record, policy FROM api_keys WHERE id = $1", &[&id])?))?;
        row.map(|r| key_from_row(&r, "record", "policy")).transpose()
    }

    fn owned_key(&self, user_id: Uuid, key_id: Uuid) -> Result<ApiKeyRecord, RegistryError> {
        self.get_key(key_id)?.filter(|k| k.user_id == user_id).ok_or(RegistryError::NotFound("API Key not found"))
    }

    fn get_variable(&self, id: Uuid) -> Result<Option<VariableRecord>, RegistryError> {
        self.one("SELECT record FROM variables WHERE id = $1", pg_params![id])
    }

    fn owned_variable(&self, user_id: Uuid, id: Uuid) -> Result<VariableRecord, RegistryError> {
        self.get_variable(id)?.filter(|v| v.user_id == user_id).ok_or(RegistryError::NotFound("Variable not found"))
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

    fn put_variable(&self, var: &VariableRecord, insert: bool) -> Result<(), RegistryError> {
        let bytes = codec::encode(var)?;
        let (id, user_id, name, created_at) = (var.id, var.user_id, var.name.clone(), var.created_at);
        let result = self.pg.with(move |c| {
            if insert {
                c.execute(
                    "INSERT INTO variables (id, user_id, name, created_at, record) VALUES ($1, $2, $3, $4, $5)",
                    &[&id, &user_id, &name, &created_at, &bytes],
                )?;
            } else {
                c.execute("UPDATE variables SET name = $2, record = $3 WHERE id = $1", &[&id, &name, &bytes])?;
            }
            Ok(())
        });
        match result {
            Err(e) if e.is_unique_violation() => Err(RegistryError::Conflict("Variable name already exists")),
            Err(e) if e.constraint() == Some("variables_user_id_fkey") => {
                Err(RegistryError::NotFound("User not found"))
            }
            other => Ok(other?),
        }
    }

    /// Writes `new` and, in the same transaction, replaces or removes `old`.
    fn commit_keys(&self, new: &ApiKeyRecord, old: Option<(&ApiKeyRecord, bool)>) -> Result<(), RegistryError> {
        let new_bytes = codec::encode_api_key(new)?;
        let old_bytes = match old {
            Some((rec, false)) => Some(codec::encode_api_key(rec)?),
            _ => None,
        };
        let (id, user_id, hash, created_at) = (new.id, new.user_id, new.hash, new.created_at);
        let policy = policy_column(&new.policy);
        let old = old.map(|(rec, remove)| (rec.id, remove));
        let result = self.pg.transaction(move |tx| {
            tx.execute(
                "INSERT INTO api_keys (id, user_id, hash, created_at, record, policy) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&id, &user_id, &&hash[..], &created_at, &new_bytes, &policy],
            )?;
            if let Some((old_id, remove)) = old {
                if remove {
                    tx.execute("DELETE FROM api_keys WHERE id = $1", &[&old_id])?;
                } else if let Some(bytes) = &old_bytes {
                    tx.execute("UPDATE api_keys SET record = $2 WHERE id = $1", &[&old_id, bytes])?;
                }
            }
            Ok(())
        });
        match result {
            Err(e) if e.constraint() == Some("api_keys_user_id_fkey") => Err(RegistryError::NotFound("User not found")),
            other => Ok(other?),
        }
    }
}

impl UserRepo for PgIdentity {
    fn get_user(&self, id: Uuid) -> Result<Option<UserRecord>, RegistryError> {
        let user: Option<UserRecord> = self.one("SELECT record FROM users WHERE id = $1", pg_params![id])?;
        if let Some(u) = &user {
            self.mirror(u)?;
        }
        Ok(user)
    }

    fn find_user(&self, username: &str) -> Result<Option<UserRecord>, RegistryError> {
        let user: Option<UserRecord> =
            self.one("SELECT record FROM users WHERE username = $1", pg_params![username.to_owned()])?;
        Ok(user.filter(|u| u.username == username))
    }

    fn first_superuser(&self) -> Result<Option<UserRecord>, RegistryError> {
        self.one("SELECT record FROM users WHERE is_superuser ORDER BY create_at, id LIMIT 1", vec![])
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
        self.put_user(&user, true)?;
        self.mirror(&user)?;
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
        self.put_user(&user, false)?;
        Ok(user)
    }

    fn touch_login(&mut self, id: Uuid) -> Result<UserRecord, RegistryError> {
        let mut user = self.get_user(id)?.ok_or(RegistryError::NotFound("User not found"))?;
        user.last_login_at = Some(now_micros());
        self.put_user(&user, false)?;
        Ok(user)
    }

    fn list_users(
        &self,
        skip: usize,
        limit: usize,
        search: Option<&str>,
    ) -> Result<(usize, Vec<UserRecord>), RegistryError> {
        let needle = search.map(str::to_lowercase).filter(|s| !s.is_empty());
        // Sorted by the exact username (bytewise, as on sled), whatever the database collation.
        let rows = self.pg.with(move |c| Ok(c.query("SELECT record FROM users", &[])?))?;
        let mut all: Vec<UserRecord> = decode_rows(&rows)?;
        all.retain(|u| needle.as_ref().is_none_or(|n| u.username.to_lowercase().contains(n.as_str())));
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
        self.put_user(&user, false)?;
        Ok(user)
    }

    fn delete_user(&mut self, id: Uuid) -> Result<(), RegistryError> {
        // Keys (with their usage) and variables go with the row (ON DELETE CASCADE), in the same statement.
        let deleted = self.pg.with(move |c| Ok(c.execute("DELETE FROM users WHERE id = $1", &[&id])?))?;
        if deleted == 0 {
            return Err(RegistryError::NotFound("User not found"));
        }
        if let Some(store) = &self.flows {
            delete_sled_flows(store, id)?;
        }
        Ok(())
    }
}

/// Removes a deleted user's flows and projects from the embedded database.
fn delete_sled_flows(store: &Store, id: Uuid) -> Result<(), RegistryError> {
    use sled::transaction::ConflictableTransactionError;
    use sled::Transactional;
    let _flow_writer = store.flow_writer();
    let flows = UserFlowsDeletion::collect(store, id).map_err(|e| RegistryError::Invalid(e.to_string()))?;
    let trees = store.flow_trees();
    store.write_always(|| {
        trees.as_slice().transaction(|views| {
            flows.apply(views)?;
            Ok::<(), ConflictableTransactionError<RegistryError>>(())
        })
    })?;
    store.users.remove(id.as_bytes())?;
    Ok(())
}

impl KeyRepo for PgIdentity {
    fn create_api_key(
        &mut self,
        user_id: Uuid,
        name: Option<String>,
        expires_at: Option<Micros>,
        policy: KeyPolicy,
    ) -> Result<(ApiKeyRecord, String), RegistryError> {
        if let Some(n) = &name {
            if n.chars().count() > MAX_KEY_NAME_LEN {
                return Err(RegistryError::Invalid(format!(
                    "API key name must be at most {MAX_KEY_NAME_LEN} characters"
                )));
            }
        }
        if self.get_user(user_id)?.is_none() {
            return Err(RegistryError::NotFound("User not found"));
        }
        let count: i64 = self
            .pg
            .with(move |c| Ok(c.query_one("SELECT count(*) FROM api_keys WHERE user_id = $1", &[&user_id])?.get(0)))?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_KEYS_PER_USER {
            return Err(RegistryError::Invalid(format!("A user may hold at most {MAX_KEYS_PER_USER} API keys")));
        }
        let plaintext = crypto::generate_api_key();
        let hash = self.secrets.hash_api_key(&plaintext).0;
        let record = Registry::new_key_record(user_id, name, expires_at, policy, &plaintext, hash);
        self.commit_keys(&record, None)?;
        Ok((record, plaintext))
    }

    fn list_api_keys(&self, user_id: Uuid) -> Result<Vec<ApiKeyRecord>, RegistryError> {
        let rows = self.pg.with(move |c| {
            Ok(c.query("SELECT record, policy FROM api_keys WHERE user_id = $1 ORDER BY created_at, id", &[&user_id])?)
        })?;
        let mut out = rows.iter().map(|r| key_from_row(r, "record", "policy")).collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|k| (k.created_at, k.id));
        Ok(out)
    }

    fn delete_api_key(&mut self, user_id: Uuid, key_id: Uuid) -> Result<(), RegistryError> {
        let deleted = self.pg.with(move |c| {
            Ok(c.execute("DELETE FROM api_keys WHERE id = $1 AND user_id = $2", &[&key_id, &user_id])?)
        })?;
        if deleted == 0 {
            return Err(RegistryError::NotFound("API Key not found"));
        }
        Ok(())
    }

    fn rotate_api_key(
        &mut self,
        user_id: Uuid,
        key_id: Uuid,
        grace_seconds: u64,
    ) -> Result<(ApiKeyRecord, String), RegistryError> {
        if grace_seconds > MAX_GRACE_SECONDS {
            return Err(RegistryError::Invalid(format!(
                "grace_period_seconds must be between 0 and {MAX_GRACE_SECONDS}"
            )));
        }
        let mut old = self.owned_key(user_id, key_id)?;
        let now = now_micros();
        let plaintext = crypto::generate_api_key();
        let hash = self.secrets.hash_api_key(&plaintext).0;
        let new =
            Registry::new_key_record(user_id, old.name.clone(), old.expires_at, old.policy.clone(), &plaintext, hash);
        let remove_old = grace_seconds == 0;
        if !remove_old {
            let grace_end =
                now.saturating_add(i64::try_from(grace_seconds).unwrap_or(i64::MAX).saturating_mul(1_000_000));
            old.expires_at = Some(old.expires_at.map_or(grace_end, |t| t.min(grace_end)));
        }
        self.commit_keys(&new, Some((&old, remove_old)))?;
        Ok((new, plaintext))
    }

    fn authenticate_api_key(&mut self, presented: &str) -> Result<KeyGrant, RegistryError> {
        if !crypto::looks_like_api_key(presented) {
            return Err(RegistryError::Key(KeyRefusal::Unknown));
        }
        let hash = self.secrets.hash_api_key(presented);
        let digest = hash.0;
        // The key and its owner in one round trip.
        let row = self.pg.with(move |c| {
            Ok(c.query_opt(
                "SELECT k.record AS key, k.policy AS policy, u.record AS owner FROM api_keys k \
                 JOIN users u ON u.id = k.user_id \
                 WHERE k.hash = $1",
                &[&&digest[..]],
            )?)
        })?;
        let Some(row) = row else {
            return Err(RegistryError::Key(KeyRefusal::Unknown));
        };
        let key = key_from_row(&row, "key", "policy")?;
        if !hash.matches(&key.hash) {
            return Err(RegistryError::Key(KeyRefusal::Unknown));
        }
        if !key.usable_at(now_micros()) {
            return Err(RegistryError::Key(KeyRefusal::Unusable));
        }
        let owner: UserRecord = codec::decode(row.get::<_, &[u8]>("owner"))?;
        if !owner.is_active {
            return Err(RegistryError::Key(KeyRefusal::Unusable));
        }
        self.mirror(&owner)?;
        Ok(KeyGrant { user: owner, key_id: key.id, expires_at: key.expires_at, policy: key.policy })
    }

    fn write_usage(&mut self, batch: &HashMap<Uuid, KeyUsage>) -> Result<(), RegistryError> {
        let batch = batch.clone();
        self.pg.transaction(move |tx| {
            for (key_id, delta) in &batch {
                // The key row is locked until commit: a concurrent deletion (another instance)
                // waits, and two instances merging into the same key take turns.
                let Some(row) = tx.query_opt(
                    "SELECT k.record AS key, u.record AS usage FROM api_keys k \
                     LEFT JOIN api_key_usage u ON u.key_id = k.id WHERE k.id = $1 FOR NO KEY UPDATE OF k",
                    &[key_id],
                )?
                else {
                    continue;
                };
                let mut usage: KeyUsage = match row.get::<_, Option<&[u8]>>("usage") {
                    Some(bytes) => codec::decode(bytes)?,
                    None => KeyUsage::legacy(&codec::decode_api_key(row.get::<_, &[u8]>("key"))?),
                };
                usage.merge(delta);
                let total = i64::try_from(usage.total_uses).unwrap_or(i64::MAX);
                tx.execute(
                    "INSERT INTO api_key_usage (key_id, total_uses, last_used_at, record) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (key_id) DO UPDATE SET total_uses = EXCLUDED.total_uses, \
                     last_used_at = EXCLUDED.last_used_at, record = EXCLUDED.record",
                    &[key_id, &total, &usage.last_used_at, &codec::encode(&usage)?],
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }

    fn key_usage(&self, user_id: Uuid, key_id: Uuid) -> Result<KeyUsage, RegistryError> {
        let row = self.pg.with(move |c| {
            Ok(c.query_opt(
                "SELECT k.record AS key, u.record AS usage FROM api_keys k \
                 LEFT JOIN api_key_usage u ON u.key_id = k.id WHERE k.id = $1 AND k.user_id = $2",
                &[&key_id, &user_id],
            )?)
        })?;
        let row = row.ok_or(RegistryError::NotFound("API Key not found"))?;
        usage_of_row(&row)
    }

    fn user_key_usage(&self, user_id: Uuid) -> Result<HashMap<Uuid, KeyUsage>, RegistryError> {
        let rows = self.pg.with(move |c| {
            Ok(c.query(
                "SELECT k.id AS id, k.record AS key, u.record AS usage FROM api_keys k \
                 LEFT JOIN api_key_usage u ON u.key_id = k.id WHERE k.user_id = $1",
                &[&user_id],
            )?)
        })?;
        rows.iter().map(|r| Ok((r.get::<_, Uuid>("id"), usage_of_row(r)?))).collect()
    }
}

/// The stored usage of a `key, usage` row (a key never flushed starts from its record's counters).
fn usage_of_row(row: &postgres::Row) -> Result<KeyUsage, RegistryError> {
    match row.get::<_, Option<&[u8]>>("usage") {
        Some(bytes) => Ok(codec::decode(bytes)?),
        None => Ok(KeyUsage::legacy(&codec::decode_api_key(row.get::<_, &[u8]>("key"))?)),
    }
}

impl VariableRepo for PgIdentity {
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
        self.put_variable(&var, true)?;
        Ok(var)
    }

    fn list_variables(&self, user_id: Uuid) -> Result<Vec<VariableRecord>, RegistryError> {
        let rows = self.pg.with(move |c| {
            Ok(c.query("SELECT record FROM variables WHERE user_id = $1 ORDER BY created_at, id", &[&user_id])?)
        })?;
        let mut out: Vec<VariableRecord> = decode_rows(&rows)?;
        out.retain(|v| !(v.name.len() > 4 && v.name.starts_with("__") && v.name.ends_with("__")));
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
        self.put_variable(&var, false)?;
        Ok(var)
    }

    fn delete_variable(&mut self, user_id: Uuid, id: Uuid) -> Result<(), RegistryError> {
        let deleted = self
            .pg
            .with(move |c| Ok(c.execute("DELETE FROM variables WHERE id = $1 AND user_id = $2", &[&id, &user_id])?))?;
        if deleted == 0 {
            return Err(RegistryError::NotFound("Variable not found"));
        }
        Ok(())
    }

    fn resolve_variable(&self, user_id: Uuid, name: &str) -> Result<Option<String>, RegistryError> {
        let var: Option<VariableRecord> = self.one(
            "SELECT record FROM variables WHERE user_id = $1 AND name = $2",
            pg_params![user_id, name.to_owned()],
        )?;
        var.map(|v| self.plaintext(&v)).transpose()
    }

    fn seed_credentials(&mut self, user_id: Uuid, values: Vec<(String, String)>) -> Result<usize, RegistryError> {
        let mut stored = 0;
        for (name, value) in values {
            if name.is_empty() || value.is_empty() {
                continue;
            }
            let existing: Option<VariableRecord> = self.one(
                "SELECT record FROM variables WHERE user_id = $1 AND name = $2",
                pg_params![user_id, name.to_owned()],
            )?;
            match existing {
                Some(var) => {
                    let patch = VariablePatch {
                        value: Some(value),
                        kind: Some(VariableKind::Credential),
                        ..Default::default()
                    };
                    self.update_variable(user_id, var.id, patch)?;
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

impl IdentityRepo for PgIdentity {
    fn ping(&self) -> Result<(), RegistryError> {
        self.pg.with(move |c| Ok(c.simple_query("SELECT 1").map(|_| ())?))?;
        Ok(())
    }

    /// Every write committed before it returned: nothing left to wait for.
    fn durable(&self) -> Pin<Box<dyn Future<Output = Result<(), RegistryError>> + Send + 'static>> {
        Box::pin(async { Ok(()) })
    }

    fn flush(&self) -> Result<(), RegistryError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::{test_database, PgOptions};

    fn identity(test: &str) -> Option<PgIdentity> {
        let url = test_database(test)?;
        let pg = Pg::open(&url, &PgOptions { pool_size: 2, ..PgOptions::default() }).expect("open");
        Some(PgIdentity::new(pg, Secrets::derive("test secret"), None))
    }

    #[test]
    fn pg_users_are_unique_case_insensitively_and_migrations_are_idempotent() {
        let Some(mut r) = identity("pg_users_are_unique_case_insensitively_and_migrations_are_idempotent") else {
            return;
        };
        assert!(r.pg.migrate().expect("again").is_empty(), "a second run applies nothing");
        let alice = r.insert_user("Alice", "h".into(), true, false, None).expect("create");
        assert!(matches!(
            r.insert_user("alice", "h".into(), true, false, None),
            Err(RegistryError::Conflict("This username is unavailable."))
        ));
        assert_eq!(r.find_user("Alice").expect("find").map(|u| u.id), Some(alice.id));
        assert!(r.find_user("alice").expect("find").is_none());
        let (total, page) = r.list_users(0, 10, Some("ALI")).expect("list");
        assert_eq!((total, page.len()), (1, 1));
    }

    #[test]
    fn pg_keys_are_hashed_credentials_sealed_and_deletes_cascade() {
        let Some(mut r) = identity("pg_keys_are_hashed_credentials_sealed_and_deletes_cascade") else { return };
        let u = r.insert_user("k", "argon-hash".into(), true, false, None).expect("user");
        let (rec, key) = r.create_api_key(u.id, Some("ci".into()), None, KeyPolicy::default()).expect("key");
        assert_eq!(r.authenticate_api_key(&key).expect("auth").user.id, u.id);
        let buffer = crate::usage::UsageBuffer::new(true);
        let one = crate::usage::KeyUse {
            at: now_micros(),
            method: "GET".into(),
            route: "/r".into(),
            status: 200,
            client: None,
        };
        buffer.record(rec.id, one);
        r.write_usage(&buffer.take()).expect("usage");
        assert_eq!(r.key_usage(u.id, rec.id).expect("usage").total_uses, 1);
        assert_eq!(r.user_key_usage(u.id).expect("usage")[&rec.id].recent.len(), 1);
        let var = r.create_variable(u.id, "OPENAI", "sk-plain-secret", VariableKind::Credential, vec![]).expect("var");
        assert!(matches!(
            r.create_variable(u.id, "OPENAI", "x", VariableKind::Generic, vec![]),
            Err(RegistryError::Conflict("Variable name already exists"))
        ));
        assert_eq!(r.resolve_variable(u.id, "OPENAI").expect("resolve").as_deref(), Some("sk-plain-secret"));
        // Neither the key nor the credential is anywhere in the database in plaintext.
        let dump: Vec<Vec<u8>> =
            r.pg.with(move |c| {
                let mut out = Vec::new();
                for table in ["users", "api_keys", "variables"] {
                    for row in c.query(&format!("SELECT t::text FROM {table} t"), &[])? {
                        out.push(row.get::<_, String>(0).into_bytes());
                    }
                    for row in c.query(&format!("SELECT record FROM {table}"), &[])? {
                        out.push(row.get::<_, Vec<u8>>(0));
                    }
                }
                Ok(out)
            })
            .expect("dump");
        let contains = |needle: &[u8]| dump.iter().any(|d| d.windows(needle.len()).any(|w| w == needle));
        assert!(!contains(key.as_bytes()) && !contains(&key.as_bytes()[rec.visible_prefix.len()..]));
        assert!(!contains(b"sk-plain-secret"));
        let (_, rotated) = r.rotate_api_key(u.id, rec.id, 0).expect("rotate");
        assert!(matches!(r.authenticate_api_key(&key), Err(RegistryError::Key(KeyRefusal::Unknown))));
        assert!(r.authenticate_api_key(&rotated).is_ok());
        r.update_user(u.id, UserPatch { is_active: Some(false), ..UserPatch::default() }, None).expect("deactivate");
        assert!(matches!(r.authenticate_api_key(&rotated), Err(RegistryError::Key(KeyRefusal::Unusable))));
        r.delete_user(u.id).expect("delete");
        assert!(r.get_variable(var.id).expect("get").is_none());
        assert!(matches!(r.authenticate_api_key(&rotated), Err(RegistryError::Key(KeyRefusal::Unknown))));
        assert!(matches!(r.delete_user(u.id), Err(RegistryError::NotFound(_))));
    }

    #[test]
    fn pg_key_policies_persist_and_keys_written_before_them_are_full_keys() {
        let Some(mut r) = identity("pg_key_policies_persist_and_keys_written_before_them_are_full_keys") else {
            return;
        };
        let u = r.insert_user("p", "h".into(), true, false, None).expect("user");
        let policy = KeyPolicy {
            scopes: Some(vec![crate::records::Scope::Run]),
            flow_ids: vec![Uuid::new_v4()],
            endpoint_names: vec!["bot".into()],
            rate_limit_per_minute: Some(7),
        };
        let (rec, key) = r.create_api_key(u.id, None, None, policy.clone()).expect("key");
        assert_eq!(r.authenticate_api_key(&key).expect("auth").policy, policy);
        let (rotated, _) = r.rotate_api_key(u.id, rec.id, 0).expect("rotate");
        assert_eq!(rotated.policy, policy);
        assert_eq!(r.list_api_keys(u.id).expect("list")[0].policy, policy);

        // A row as the code before policies wrote it: a version-1 record, no policy column value.
        let (mut old, old_key) = r.create_api_key(u.id, Some("old".into()), None, KeyPolicy::default()).expect("key");
        old.policy = KeyPolicy::default();
        let v1 = {
            let mut bytes = codec::encode_api_key(&old).expect("encode");
            // Version 1 had no policy: drop the default policy's trailing bytes (None, [], [], None).
            bytes.truncate(bytes.len() - 4);
            bytes[0] = codec::FORMAT_VERSION;
            bytes
        };
        let id = old.id;
        r.pg.with(move |c| {
            c.execute("UPDATE api_keys SET record = $2, policy = NULL WHERE id = $1", &[&id, &v1])?;
            Ok(())
        })
        .expect("write old row");
        let grant = r.authenticate_api_key(&old_key).expect("old key authenticates");
        assert_eq!(grant.policy, KeyPolicy::default());
        let buffer = crate::usage::UsageBuffer::new(true);
        buffer.count(id, now_micros(), None);
        r.write_usage(&buffer.take()).expect("usage of an old-layout key");
        assert_eq!(r.key_usage(u.id, id).expect("usage").total_uses, 1);
        assert!(r.list_api_keys(u.id).expect("list").iter().any(|k| k.id == id));
    }
}
