//! The identity store on sled: users, API keys and variables, each in its own trees (see
//! [`crate::store::Store`]) with per-user index trees; multi-record changes are transactions.

pub(crate) mod keys;
pub(crate) mod users;
pub(crate) mod variables;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use uuid::Uuid;

use super::repo::IdentityRepo;
use super::{RegistryOptions, UserPatch, VariablePatch};
use crate::clock::Micros;
use crate::crypto::Secrets;
use crate::error::RegistryError;
use crate::records::{ApiKeyRecord, KeyGrant, UserRecord, VariableKind, VariableRecord};
use crate::store::Store;

/// The synchronous core: all rules, no actor plumbing (unit-testable on a temporary store).
pub struct Registry {
    store: Store,
    secrets: Secrets,
    options: RegistryOptions,
    /// key id → (uses not yet written, last use)
    pending_usage: HashMap<Uuid, (u64, Micros)>,
}

impl Registry {
    #[must_use]
    pub fn new(store: Store, secrets: Secrets, options: RegistryOptions) -> Self {
        Self { store, secrets, options, pending_usage: HashMap::new() }
    }

    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl IdentityRepo for Registry {
    fn ping(&self) -> Result<(), RegistryError> {
        self.store.users.first()?;
        Ok(())
    }

    fn durable(&self) -> Pin<Box<dyn Future<Output = Result<(), RegistryError>> + Send + 'static>> {
        let store = self.store.clone();
        Box::pin(async move { Ok(store.durable().await?) })
    }

    fn flush(&self) -> Result<(), RegistryError> {
        Ok(self.store.flush()?)
    }

    fn get_user(&self, id: Uuid) -> Result<Option<UserRecord>, RegistryError> {
        Self::get_user(self, id)
    }
    fn find_user(&self, username: &str) -> Result<Option<UserRecord>, RegistryError> {
        Self::find_user(self, username)
    }
    fn first_superuser(&self) -> Result<Option<UserRecord>, RegistryError> {
        Self::first_superuser(self)
    }
    fn insert_user(
        &mut self,
        username: &str,
        password_hash: String,
        is_active: bool,
        is_superuser: bool,
        optins: Option<String>,
    ) -> Result<UserRecord, RegistryError> {
        Self::insert_user(self, username, password_hash, is_active, is_superuser, optins)
    }
    fn complete_login(&mut self, id: Option<Uuid>, password_ok: bool) -> Result<UserRecord, RegistryError> {
        Self::complete_login(self, id, password_ok)
    }
    fn touch_login(&mut self, id: Uuid) -> Result<UserRecord, RegistryError> {
        Self::touch_login(self, id)
    }
    fn list_users(
        &self,
        skip: usize,
        limit: usize,
        search: Option<&str>,
    ) -> Result<(usize, Vec<UserRecord>), RegistryError> {
        Self::list_users(self, skip, limit, search)
    }
    fn update_user(
        &mut self,
        id: Uuid,
        patch: UserPatch,
        password_hash: Option<String>,
    ) -> Result<UserRecord, RegistryError> {
        Self::update_user(self, id, patch, password_hash)
    }
    fn delete_user(&mut self, id: Uuid) -> Result<(), RegistryError> {
        Self::delete_user(self, id)
    }
    fn create_api_key(
        &mut self,
        user_id: Uuid,
        name: Option<String>,
        expires_at: Option<Micros>,
    ) -> Result<(ApiKeyRecord, String), RegistryError> {
        Self::create_api_key(self, user_id, name, expires_at)
    }
    fn list_api_keys(&self, user_id: Uuid) -> Result<Vec<ApiKeyRecord>, RegistryError> {
        Self::list_api_keys(self, user_id)
    }
    fn delete_api_key(&mut self, user_id: Uuid, key_id: Uuid) -> Result<(), RegistryError> {
        Self::delete_api_key(self, user_id, key_id)
    }
    fn rotate_api_key(
        &mut self,
        user_id: Uuid,
        key_id: Uuid,
        grace_seconds: u64,
    ) -> Result<(ApiKeyRecord, String), RegistryError> {
        Self::rotate_api_key(self, user_id, key_id, grace_seconds)
    }
    fn authenticate_api_key(&mut self, presented: &str) -> Result<KeyGrant, RegistryError> {
        Self::authenticate_api_key(self, presented)
    }
    fn record_key_use(&mut self, key_id: Uuid) {
        Self::record_key_use(self, key_id)
    }
    fn write_back_usage(&mut self) -> Result<(), RegistryError> {
        Self::write_back_usage(self)
    }
    fn create_variable(
        &mut self,
        user_id: Uuid,
        name: &str,
        value: &str,
        kind: VariableKind,
        default_fields: Vec<String>,
    ) -> Result<VariableRecord, RegistryError> {
        Self::create_variable(self, user_id, name, value, kind, default_fields)
    }
    fn list_variables(&self, user_id: Uuid) -> Result<Vec<VariableRecord>, RegistryError> {
        Self::list_variables(self, user_id)
    }
    fn update_variable(
        &mut self,
        user_id: Uuid,
        id: Uuid,
        patch: VariablePatch,
    ) -> Result<VariableRecord, RegistryError> {
        Self::update_variable(self, user_id, id, patch)
    }
    fn delete_variable(&mut self, user_id: Uuid, id: Uuid) -> Result<(), RegistryError> {
        Self::delete_variable(self, user_id, id)
    }
    fn resolve_variable(&self, user_id: Uuid, name: &str) -> Result<Option<String>, RegistryError> {
        Self::resolve_variable(self, user_id, name)
    }
    fn seed_credentials(&mut self, user_id: Uuid, values: Vec<(String, String)>) -> Result<usize, RegistryError> {
        Self::seed_credentials(self, user_id, values)
    }
}
