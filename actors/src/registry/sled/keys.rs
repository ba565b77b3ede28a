//! API keys: creation (plaintext returned once), keyed-hash lookup, revocation, rotation with an
//! optional grace period, and the stored usage of each key (see [`crate::usage`]).

use std::collections::HashMap;

use sled::transaction::ConflictableTransactionError;
use sled::Transactional;
use uuid::Uuid;

use super::super::repo::{KeyRepo, UserRepo};
use super::Registry;
use crate::clock::{now_micros, Micros};
use crate::codec;
use crate::crypto::{self, API_KEY_VISIBLE_PREFIX};
use crate::error::{KeyRefusal, RegistryError};
use crate::records::{ApiKeyRecord, KeyGrant, KeyPolicy};
use crate::store::compose;
use crate::usage::KeyUsage;

/// Longest accepted key name.
pub const MAX_KEY_NAME_LEN: usize = 255;
/// Longest rotation grace period (7 days).
pub const MAX_GRACE_SECONDS: u64 = 7 * 24 * 3600;
/// Most keys one user may hold.
pub const MAX_KEYS_PER_USER: usize = 1000;

const NOT_FOUND: &str = "API Key not found";

impl Registry {
    fn get_key(&self, id: Uuid) -> Result<Option<ApiKeyRecord>, RegistryError> {
        self.store.api_keys.get(id.as_bytes())?.map(|b| codec::decode_api_key(&b).map_err(Into::into)).transpose()
    }

    /// The caller's key, or 404 whether it is missing or someone else's.
    fn owned_key(&self, user_id: Uuid, key_id: Uuid) -> Result<ApiKeyRecord, RegistryError> {
        self.get_key(key_id)?.filter(|k| k.user_id == user_id).ok_or(RegistryError::NotFound(NOT_FOUND))
    }

    fn key_count(&self, user_id: Uuid) -> usize {
        self.store.user_api_keys.scan_prefix(user_id.as_bytes()).count()
    }

    pub(crate) fn new_key_record(
        user_id: Uuid,
        name: Option<String>,
        expires_at: Option<Micros>,
        policy: KeyPolicy,
        plaintext: &str,
        hash: [u8; 32],
    ) -> ApiKeyRecord {
        ApiKeyRecord {
            id: Uuid::new_v4(),
            user_id,
            name,
            hash,
            visible_prefix: plaintext.chars().take(API_KEY_VISIBLE_PREFIX).collect(),
            key_len: u16::try_from(plaintext.len()).unwrap_or(u16::MAX),
            created_at: now_micros(),
            expires_at,
            is_active: true,
            total_uses: 0,
            last_used_at: None,
            policy,
        }
    }

    /// Writes `new` and, in the same transaction, replaces or removes `old`.
    fn commit_keys(&self, new: &ApiKeyRecord, old: Option<(&ApiKeyRecord, bool)>) -> Result<(), RegistryError> {
        let new_bytes = codec::encode_api_key(new)?;
        let old_bytes = match old {
            Some((rec, false)) => Some(codec::encode_api_key(rec)?),
            _ => None,
        };
        let s = &self.store;
        s.write(|| {
            (&s.api_keys, &s.api_key_hashes, &s.user_api_keys).transaction(|(keys, hashes, by_user)| {
                keys.insert(new.id.as_bytes(), new_bytes.as_slice())?;
                hashes.insert(&new.hash[..], new.id.as_bytes())?;
                by_user.insert(compose(new.user_id.as_bytes(), new.id.as_bytes()), &[])?;
                if let Some((rec, remove)) = old {
                    if remove {
                        keys.remove(rec.id.as_bytes())?;
                        hashes.remove(&rec.hash[..])?;
                        by_user.remove(compose(rec.user_id.as_bytes(), rec.id.as_bytes()))?;
                    } else if let Some(bytes) = &old_bytes {
                        keys.insert(rec.id.as_bytes(), bytes.as_slice())?;
                    }
                }
                Ok::<(), ConflictableTransactionError<RegistryError>>(())
            })
        })?;
        self.options.epoch.bump();
        Ok(())
    }
}

impl KeyRepo for Registry {
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
        if self.key_count(user_id) >= MAX_KEYS_PER_USER {
            return Err(RegistryError::Invalid(format!("A user may hold at most {MAX_KEYS_PER_USER} API keys")));
        }
        let plaintext = crypto::generate_api_key();
        let hash = self.secrets.hash_api_key(&plaintext).0;
        let record = Self::new_key_record(user_id, name, expires_at, policy, &plaintext, hash);
        self.commit_keys(&record, None)?;
        Ok((record, plaintext))
    }

    fn list_api_keys(&self, user_id: Uuid) -> Result<Vec<ApiKeyRecord>, RegistryError> {
        let mut out = Vec::new();
        for item in self.store.user_api_keys.scan_prefix(user_id.as_bytes()) {
            let (index_key, _) = item?;
            let Ok(key_id) = Uuid::from_slice(&index_key[16..]) else { continue };
            if let Some(key) = self.get_key(key_id)? {
                out.push(key);
            }
        }
        out.sort_by_key(|k| (k.created_at, k.id));
        Ok(out)
    }

    fn delete_api_key(&mut self, user_id: Uuid, key_id: Uuid) -> Result<(), RegistryError> {
        let key = self.owned_key(user_id, key_id)?;
        let s = &self.store;
        s.write_always(|| {
            (&s.api_keys, &s.api_key_hashes, &s.user_api_keys).transaction(|(keys, hashes, by_user)| {
                keys.remove(key.id.as_bytes())?;
                hashes.remove(&key.hash[..])?;
                by_user.remove(compose(user_id.as_bytes(), key.id.as_bytes()))?;
                Ok::<(), ConflictableTransactionError<RegistryError>>(())
            })
        })?;
        self.options.epoch.bump();
        self.store.api_key_usage.remove(key_id.as_bytes())?;
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
        let new = Self::new_key_record(user_id, old.name.clone(), old.expires_at, old.policy.clone(), &plaintext, hash);
        let remove_old = grace_seconds == 0;
        if !remove_old {
            let grace_end =
                now.saturating_add(i64::try_from(grace_seconds).unwrap_or(i64::MAX).saturating_mul(1_000_000));
            old.expires_at = Some(old.expires_at.map_or(grace_end, |t| t.min(grace_end)));
        }
        self.commit_keys(&new, Some((&old, remove_old)))?;
        if remove_old {
            self.store.api_key_usage.remove(key_id.as_bytes())?;
        }
        Ok((new, plaintext))
    }

    fn authenticate_api_key(&mut self, presented: &str) -> Result<KeyGrant, RegistryError> {
        if !crypto::looks_like_api_key(presented) {
            return Err(RegistryError::Key(KeyRefusal::Unknown));
        }
        let hash = self.secrets.hash_api_key(presented);
        let Some(key_id) = self.store.api_key_hashes.get(hash.0)? else {
            return Err(RegistryError::Key(KeyRefusal::Unknown));
        };
        let key = Uuid::from_slice(&key_id).ok().map(|id| self.get_key(id)).transpose()?.flatten();
        let Some(key) = key.filter(|k| hash.matches(&k.hash)) else {
            return Err(RegistryError::Key(KeyRefusal::Unknown));
        };
        let now = now_micros();
        if !key.usable_at(now) {
            return Err(RegistryError::Key(KeyRefusal::Unusable));
        }
        let owner = self.get_user(key.user_id)?.filter(|u| u.is_active);
        let Some(owner) = owner else {
            return Err(RegistryError::Key(KeyRefusal::Unusable));
        };
        Ok(KeyGrant { user: owner, key_id: key.id, expires_at: key.expires_at, policy: key.policy })
    }

    fn write_usage(&mut self, batch: &HashMap<Uuid, KeyUsage>) -> Result<(), RegistryError> {
        let mut writes = sled::Batch::default();
        for (key_id, delta) in batch {
            let Some(key) = self.get_key(*key_id)? else { continue };
            let mut usage = self.stored_usage(&key)?;
            usage.merge(delta);
            writes.insert(key_id.as_bytes(), codec::encode(&usage)?);
        }
        let tree = &self.store.api_key_usage;
        self.store.write(|| tree.apply_batch(writes))?;
        Ok(())
    }

    fn key_usage(&self, user_id: Uuid, key_id: Uuid) -> Result<KeyUsage, RegistryError> {
        let key = self.owned_key(user_id, key_id)?;
        self.stored_usage(&key)
    }

    fn user_key_usage(&self, user_id: Uuid) -> Result<HashMap<Uuid, KeyUsage>, RegistryError> {
        self.list_api_keys(user_id)?.iter().map(|k| Ok((k.id, self.stored_usage(k)?))).collect()
    }
}

impl Registry {
    /// A key's stored usage; a key never flushed since usage got its own tree starts from the
    /// counters its record carried.
    fn stored_usage(&self, key: &ApiKeyRecord) -> Result<KeyUsage, RegistryError> {
        match self.store.api_key_usage.get(key.id.as_bytes())? {
            Some(bytes) => Ok(codec::decode(&bytes)?),
            None => Ok(KeyUsage::legacy(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::sled::users::tests::registry;
    use crate::usage::KeyUse;

    #[test]
    fn keys_authenticate_until_revoked_and_count_uses() {
        let mut r = registry();
        let u = r.insert_user("k", "h".into(), true, false, None).expect("user");
        let (rec, key) = r.create_api_key(u.id, Some("ci".into()), None, KeyPolicy::default()).expect("key");
        assert_eq!(r.authenticate_api_key(&key).expect("auth").user.id, u.id);
        let buffer = crate::usage::UsageBuffer::new(true);
        for status in [200, 404] {
            let at = now_micros();
            buffer.record(rec.id, KeyUse { at, method: "GET".into(), route: "/r".into(), status, client: None });
        }
        r.write_usage(&buffer.take()).expect("write usage");
        r.write_usage(&HashMap::from([(rec.id, r.key_usage(u.id, rec.id).expect("usage"))])).expect("again");
        let usage = r.key_usage(u.id, rec.id).expect("usage");
        assert_eq!(usage.total_uses, 4);
        assert_eq!(usage.recent.len(), 4);
        assert!(matches!(r.key_usage(Uuid::new_v4(), rec.id), Err(RegistryError::NotFound(NOT_FOUND))));
        r.delete_api_key(u.id, rec.id).expect("delete");
        assert!(matches!(r.authenticate_api_key(&key), Err(RegistryError::Key(KeyRefusal::Unknown))));
        assert!(r.store.api_key_usage.is_empty(), "usage goes with its key");
        r.write_usage(&HashMap::from([(rec.id, usage)])).expect("deleted key");
        assert!(r.store.api_key_usage.is_empty(), "uses of a deleted key are dropped");
    }

    #[test]
    fn foreign_keys_are_not_found() {
        let mut r = registry();
        let a = r.insert_user("a", "h".into(), true, false, None).expect("user");
        let b = r.insert_user("b", "h".into(), true, false, None).expect("user");
        let (rec, key) = r.create_api_key(a.id, None, None, KeyPolicy::default()).expect("key");
        assert!(matches!(r.delete_api_key(b.id, rec.id), Err(RegistryError::NotFound(NOT_FOUND))));
        assert!(matches!(r.rotate_api_key(b.id, rec.id, 0), Err(RegistryError::NotFound(NOT_FOUND))));
        assert!(r.authenticate_api_key(&key).is_ok());
    }

    #[test]
    fn rotation_with_and_without_grace() {
        let mut r = registry();
        let u = r.insert_user("r", "h".into(), true, false, None).expect("user");
        let (rec, old) = r.create_api_key(u.id, Some("svc".into()), None, KeyPolicy::default()).expect("key");
        let (new_rec, new) = r.rotate_api_key(u.id, rec.id, 60).expect("rotate");
        assert_eq!(new_rec.name.as_deref(), Some("svc"));
        assert!(r.authenticate_api_key(&old).is_ok());
        assert!(r.authenticate_api_key(&new).is_ok());
        let (_, newest) = r.rotate_api_key(u.id, new_rec.id, 0).expect("rotate");
        assert!(r.authenticate_api_key(&new).is_err());
        assert!(r.authenticate_api_key(&newest).is_ok());
        assert!(r.rotate_api_key(u.id, rec.id, MAX_GRACE_SECONDS + 1).is_err());
    }

    #[test]
    fn inactive_owner_or_expired_key_is_unusable() {
        let mut r = registry();
        let u = r.insert_user("x", "h".into(), true, false, None).expect("user");
        let (_, expired) = r.create_api_key(u.id, None, Some(now_micros() - 1), KeyPolicy::default()).expect("key");
        assert!(matches!(r.authenticate_api_key(&expired), Err(RegistryError::Key(KeyRefusal::Unusable))));
        let (_, key) = r.create_api_key(u.id, None, None, KeyPolicy::default()).expect("key");
        r.update_user(u.id, crate::registry::UserPatch { is_active: Some(false), ..Default::default() }, None)
            .expect("deactivate");
        assert!(matches!(r.authenticate_api_key(&key), Err(RegistryError::Key(KeyRefusal::Unusable))));
        assert!(matches!(r.authenticate_api_key("sk-nope"), Err(RegistryError::Key(KeyRefusal::Unknown))));
    }

    #[test]
    fn deleting_a_user_removes_their_keys() {
        let mut r = registry();
        let u = r.insert_user("gone", "h".into(), true, false, None).expect("user");
        let (rec, key) = r.create_api_key(u.id, None, None, KeyPolicy::default()).expect("key");
        let used = KeyUse { at: now_micros(), method: "GET".into(), route: "/r".into(), status: 200, client: None };
        let buffer = crate::usage::UsageBuffer::new(true);
        buffer.record(rec.id, used);
        r.write_usage(&buffer.take()).expect("usage");
        assert_eq!(r.store.api_key_usage.len(), 1);
        r.delete_user(u.id).expect("delete");
        assert!(matches!(r.authenticate_api_key(&key), Err(RegistryError::Key(KeyRefusal::Unknown))));
        assert!(r.store.api_key_usage.is_empty(), "usage goes with the user");
        assert!(r.store.api_keys.is_empty());
        assert!(r.store.api_key_hashes.is_empty());
    }
}
