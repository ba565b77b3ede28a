//! The identity store on sled: users, API keys and variables, each in its own trees (see
//! [`crate::store::Store`]) with per-user index trees; multi-record changes are transactions.

pub(crate) mod keys;
pub(crate) mod users;
pub(crate) mod variables;

use std::future::Future;
use std::pin::Pin;

use super::repo::IdentityRepo;
use super::RegistryOptions;
use crate::crypto::Secrets;
use crate::error::RegistryError;
use crate::store::Store;

/// The synchronous core: all rules, no actor plumbing (unit-testable on a temporary store).
pub struct Registry {
    store: Store,
    secrets: Secrets,
    options: RegistryOptions,
}

impl Registry {
    #[must_use]
    pub fn new(store: Store, secrets: Secrets, options: RegistryOptions) -> Self {
        Self { store, secrets, options }
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
