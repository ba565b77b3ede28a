//! Recent authentication answers, so a request with a known API key or access token does not
//! wait for a round trip to the registry actor (two thread hops on the hot `/run` path).
//!
//! Correctness rests on the registry's [`AuthEpoch`]: it is bumped by every identity write
//! before that write is acknowledged, an entry records the epoch read *before* the registry was
//! asked, and an entry is used only while the epoch is unchanged. So a deleted or rotated key, a
//! deactivated or deleted user fails on the very next request, as without the cache. Expiry is
//! checked on every hit. Usage is recorded by the access policy once the response status is known
//! (see [`flowactor_actors::usage`]), whether or not the cache answered.

use std::collections::HashMap;
use std::sync::Mutex;

use flowactor_actors::clock::now_micros;
use flowactor_actors::crypto::Secrets;
use flowactor_actors::records::{KeyGrant, UserRecord};
use flowactor_actors::registry::AuthEpoch;
use uuid::Uuid;

/// Entries kept per map before it is emptied (a bound, not a tuning knob).
const MAX_ENTRIES: usize = 10_000;

struct Entry<T> {
    value: T,
    epoch: u64,
}

pub struct AuthCache {
    epoch: AuthEpoch,
    secrets: Secrets,
    keys: Mutex<HashMap<[u8; 32], Entry<KeyGrant>>>,
    users: Mutex<HashMap<Uuid, Entry<UserRecord>>>,
}

fn insert<K: std::hash::Hash + Eq, T>(map: &Mutex<HashMap<K, Entry<T>>>, key: K, value: T, epoch: u64) {
    let mut m = map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if m.len() >= MAX_ENTRIES {
        m.clear();
    }
    m.insert(key, Entry { value, epoch });
}

impl AuthCache {
    #[must_use]
    pub fn new(epoch: AuthEpoch, secrets: Secrets) -> Self {
        Self { epoch, secrets, keys: Mutex::new(HashMap::new()), users: Mutex::new(HashMap::new()) }
    }

    /// The epoch to record with an answer that is about to be asked for.
    #[must_use]
    pub fn epoch(&self) -> u64 {
        self.epoch.current()
    }

    /// The cache key of a presented API key (its keyed hash; plaintext keys are not kept).
    #[must_use]
    pub fn key_hash(&self, presented: &str) -> [u8; 32] {
        self.secrets.hash_api_key(presented).0
    }

    /// A still-valid grant for this key hash.
    #[must_use]
    pub fn grant(&self, hash: &[u8; 32]) -> Option<KeyGrant> {
        let now_epoch = self.epoch.current();
        let keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = keys.get(hash)?;
        let valid =
            e.epoch == now_epoch && e.value.user.is_active && e.value.expires_at.is_none_or(|t| t > now_micros());
        valid.then(|| e.value.clone())
    }

    pub fn store_grant(&self, hash: [u8; 32], grant: KeyGrant, epoch_before: u64) {
        insert(&self.keys, hash, grant, epoch_before);
    }

    /// A still-valid user record for a token subject.
    #[must_use]
    pub fn user(&self, id: Uuid) -> Option<UserRecord> {
        let now_epoch = self.epoch.current();
        let users = self.users.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        users.get(&id).filter(|e| e.epoch == now_epoch).map(|e| e.value.clone())
    }

    pub fn store_user(&self, user: UserRecord, epoch_before: u64) {
        insert(&self.users, user.id, user, epoch_before);
    }
}
