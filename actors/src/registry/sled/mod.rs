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
use super::RegistryOptions;
use crate::clock::Micros;
use crate::crypto::Secrets;
use crate::error::RegistryError;
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
}
