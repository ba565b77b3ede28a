//! The identity store's interface: what the [`super::RegistryActor`] asks of it.

use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

use super::{UserPatch, VariablePatch};
use crate::clock::Micros;
use crate::error::RegistryError;
use crate::records::{ApiKeyRecord, KeyGrant, UserRecord, VariableKind, VariableRecord};

/// Users, API keys and global variables, with their rules (uniqueness, key hashing, credential
/// encryption). Synchronous and owned by one actor, which serialises every call (`&mut self`
/// for writes), so implementations need `Send` but no locking of their own. Password hashing is
/// not here: the actor runs it on the blocking pool and hands over the hash.
#[allow(clippy::missing_errors_doc)]
pub trait IdentityRepo: Send {
    /// Is the database readable? (`/health_check`)
    fn ping(&self) -> Result<(), RegistryError>;
    /// Waits (without borrowing the repo) until every write made so far is durable.
    fn durable(&self) -> Pin<Box<dyn Future<Output = Result<(), RegistryError>> + Send + 'static>>;
    /// Blocking flush, for shutdown.
    fn flush(&self) -> Result<(), RegistryError>;

    fn get_user(&self, id: Uuid) -> Result<Option<UserRecord>, RegistryError>;
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
    /// Removes the user with everything they own (keys, variables, flows, projects) atomically.
    fn delete_user(&mut self, id: Uuid) -> Result<(), RegistryError>;

    fn create_api_key(
        &mut self,
        user_id: Uuid,
        name: Option<String>,
        expires_at: Option<Micros>,
    ) -> Result<(ApiKeyRecord, String), RegistryError>;
    fn list_api_keys(&self, user_id: Uuid) -> Result<Vec<ApiKeyRecord>, RegistryError>;
    fn delete_api_key(&mut self, user_id: Uuid, key_id: Uuid) -> Result<(), RegistryError>;
    fn rotate_api_key(
        &mut self,
        user_id: Uuid,
        key_id: Uuid,
        grace_seconds: u64,
    ) -> Result<(ApiKeyRecord, String), RegistryError>;
    fn authenticate_api_key(&mut self, presented: &str) -> Result<KeyGrant, RegistryError>;
    /// Buffers one use of a key (written back by [`IdentityRepo::write_back_usage`]).
    fn record_key_use(&mut self, key_id: Uuid);
    fn write_back_usage(&mut self) -> Result<(), RegistryError>;

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
