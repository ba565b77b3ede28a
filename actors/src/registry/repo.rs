//! The identity store's interface: what the [`super::RegistryActor`] asks of it, one trait per
//! entity (users, API keys, variables) and [`IdentityRepo`] for all of them.
//!
//! Implementations hold every rule (uniqueness, key hashing, credential encryption) and are
//! synchronous: one actor owns the implementation and serialises every call (`&mut self` for
//! writes), so they need `Send` but no locking of their own. Password hashing is not here: the
//! actor runs it on the blocking pool and hands over the hash.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

use super::{UserPatch, VariablePatch};
use crate::clock::Micros;
use crate::error::RegistryError;
use crate::records::{ApiKeyRecord, KeyGrant, KeyPolicy, UserRecord, VariableKind, VariableRecord};
use crate::usage::KeyUsage;

/// Users: accounts, logins, profile changes, deletion with everything they own.
pub trait UserRepo: Send {
    fn get_user(&self, id: Uuid) -> Result<Option<UserRecord>, RegistryError>;

    /// Exact-match lookup (the index is case-insensitive; login is not).
    fn find_user(&self, username: &str) -> Result<Option<UserRecord>, RegistryError>;

    fn first_superuser(&self) -> Result<Option<UserRecord>, RegistryError>;

    fn insert_user(
        &mut self,
        username: &str,
        password_hash: String,
        is_active: bool,
        is_superuser: bool,
        optins: Option<String>,
    ) -> Result<UserRecord, RegistryError>;

    /// Decides a login after the (slow) password check ran off-thread.
    fn complete_login(&mut self, id: Option<Uuid>, password_ok: bool) -> Result<UserRecord, RegistryError>;

    fn touch_login(&mut self, id: Uuid) -> Result<UserRecord, RegistryError>;

    fn list_users(
        &self,
        skip: usize,
        limit: usize,
        search: Option<&str>,
    ) -> Result<(usize, Vec<UserRecord>), RegistryError>;

    fn update_user(
        &mut self,
        id: Uuid,
        patch: UserPatch,
        password_hash: Option<String>,
    ) -> Result<UserRecord, RegistryError>;

    /// Removes the user, their API keys, variables, flows and projects atomically.
    fn delete_user(&mut self, id: Uuid) -> Result<(), RegistryError>;
}

/// API keys: creation, rotation, revocation, authentication and usage counters.
pub trait KeyRepo: Send {
    fn create_api_key(
        &mut self,
        user_id: Uuid,
        name: Option<String>,
        expires_at: Option<Micros>,
        policy: KeyPolicy,
    ) -> Result<(ApiKeyRecord, String), RegistryError>;

    fn list_api_keys(&self, user_id: Uuid) -> Result<Vec<ApiKeyRecord>, RegistryError>;

    fn delete_api_key(&mut self, user_id: Uuid, key_id: Uuid) -> Result<(), RegistryError>;

    /// A new key with the old one's name, expiry and policy.
    fn rotate_api_key(
        &mut self,
        user_id: Uuid,
        key_id: Uuid,
        grace_seconds: u64,
    ) -> Result<(ApiKeyRecord, String), RegistryError>;

    /// Resolves a presented key to its owner. Unknown keys cost one hash and one index probe.
    fn authenticate_api_key(&mut self, presented: &str) -> Result<KeyGrant, RegistryError>;

    /// Merges a batch of buffered uses (see [`crate::usage`]) into the stored usage of each key
    /// that still exists, in one write; uses of deleted keys are dropped.
    fn write_usage(&mut self, batch: &HashMap<Uuid, KeyUsage>) -> Result<(), RegistryError>;

    /// The stored usage of one of the caller's keys (404 whether it is missing or someone
    /// else's).
    fn key_usage(&self, user_id: Uuid, key_id: Uuid) -> Result<KeyUsage, RegistryError>;

    /// The stored usage of every key of a user.
    fn user_key_usage(&self, user_id: Uuid) -> Result<HashMap<Uuid, KeyUsage>, RegistryError>;
}

/// Global variables (Generic and sealed Credential values) per user.
pub trait VariableRepo: Send {
    fn create_variable(
        &mut self,
        user_id: Uuid,
        name: &str,
        value: &str,
        kind: VariableKind,
        default_fields: Vec<String>,
    ) -> Result<VariableRecord, RegistryError>;

    fn list_variables(&self, user_id: Uuid) -> Result<Vec<VariableRecord>, RegistryError>;

    fn update_variable(
        &mut self,
        user_id: Uuid,
        id: Uuid,
        patch: VariablePatch,
    ) -> Result<VariableRecord, RegistryError>;

    fn delete_variable(&mut self, user_id: Uuid, id: Uuid) -> Result<(), RegistryError>;

    fn resolve_variable(&self, user_id: Uuid, name: &str) -> Result<Option<String>, RegistryError>;

    fn seed_credentials(&mut self, user_id: Uuid, values: Vec<(String, String)>) -> Result<usize, RegistryError>;
}

/// Every identity entity, plus what the owning actor needs of the database.
pub trait IdentityRepo: UserRepo + KeyRepo + VariableRepo {
    /// Is the database readable? (`/health_check`)
    ///
    /// # Errors
    /// The storage error.
    fn ping(&self) -> Result<(), RegistryError>;
    /// Waits (without borrowing the repo) until every write made so far is durable.
    fn durable(&self) -> Pin<Box<dyn Future<Output = Result<(), RegistryError>> + Send + 'static>>;
    /// Blocking flush, for shutdown.
    ///
    /// # Errors
    /// The storage error.
    fn flush(&self) -> Result<(), RegistryError>;
}
