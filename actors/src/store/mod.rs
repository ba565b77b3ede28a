//! The sled database: one directory under `LANGFLOW_CONFIG_DIR`, one tree per entity plus index
//! trees. This module opens it, names the trees, and provides the durability barrier that every
//! acknowledged identity or flow write waits for.

pub mod flows;
pub mod messages;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sled::{Db, Tree};

/// Name of the database directory inside the config dir.
pub const DB_DIR: &str = "flowactor.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database at {0} is locked by another flowactor process")]
    Locked(String),
    #[error("cannot open the database at {path}: {source}")]
    Open { path: String, source: sled::Error },
}

/// Handles on every tree. Cheap to clone (sled handles are reference counted).
#[derive(Clone)]
pub struct Store {
    db: Db,
    /// user id → `UserRecord`
    pub users: Tree,
    /// lower-cased username → user id
    pub usernames: Tree,
    /// key id → `ApiKeyRecord`
    pub api_keys: Tree,
    /// key hash → key id
    pub api_key_hashes: Tree,
    /// user id ++ key id → ()
    pub user_api_keys: Tree,
    /// variable id → `VariableRecord`
    pub variables: Tree,
    /// user id ++ variable name → variable id
    pub variable_names: Tree,
    /// flow id → `FlowRecord`
    pub flows: Tree,
    /// user id ++ flow name → flow id
    pub flow_names: Tree,
    /// user id ++ endpoint name → flow id
    pub flow_endpoints: Tree,
    /// user id ++ flow id → ()
    pub user_flows: Tree,
    /// project id → `ProjectRecord`
    pub projects: Tree,
    /// user id ++ project name → project id
    pub project_names: Tree,
    /// user id ++ project id → ()
    pub user_projects: Tree,
    /// Serialises flow and project writers (the flow store and the user deletion): their
    /// uniqueness checks and name suffixes read indexes before the transaction that writes them.
    flow_writer: Arc<Mutex<()>>,
}

impl Store {
    /// Opens (or creates) the database under `config_dir`.
    ///
    /// `flush_every_ms` bounds how long background writes (chat messages, usage counters) may sit
    /// in memory; identity and flow writes call [`Store::durable`] before they are acknowledged.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another process holds the database.
    pub fn open(config_dir: &Path, flush_every_ms: u64) -> Result<Self, StoreError> {
        let path = config_dir.join(DB_DIR);
        let db = sled::Config::new()
            .path(&path)
            .flush_every_ms(Some(flush_every_ms.max(1)))
            .open()
            .map_err(|source| classify_open_error(&path, source))?;
        Self::from_db(db).map_err(|source| StoreError::Open { path: path.display().to_string(), source })
    }

    /// A throw-away in-memory database (unit tests and benches).
    ///
    /// # Errors
    /// Never in practice.
    pub fn temporary() -> Result<Self, sled::Error> {
        Self::from_db(sled::Config::new().temporary(true).open()?)
    }

    fn from_db(db: Db) -> Result<Self, sled::Error> {
        Ok(Self {
            users: db.open_tree("users")?,
            usernames: db.open_tree("usernames")?,
            api_keys: db.open_tree("api_keys")?,
            api_key_hashes: db.open_tree("api_key_hashes")?,
            user_api_keys: db.open_tree("user_api_keys")?,
            variables: db.open_tree("variables")?,
            variable_names: db.open_tree("variable_names")?,
            flows: db.open_tree("flows")?,
            flow_names: db.open_tree("flow_names")?,
            flow_endpoints: db.open_tree("flow_endpoints")?,
            user_flows: db.open_tree("user_flows")?,
            projects: db.open_tree("projects")?,
            project_names: db.open_tree("project_names")?,
            user_projects: db.open_tree("user_projects")?,
            flow_writer: Arc::new(Mutex::new(())),
            db,
        })
    }

    /// The raw database, for modules that add their own trees.
    #[must_use]
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The flow trees in the order [`flows::UserFlowsDeletion::apply`] expects them.
    #[must_use]
    pub fn flow_trees(&self) -> [&Tree; 7] {
        [
            &self.flows,
            &self.flow_names,
            &self.flow_endpoints,
            &self.user_flows,
            &self.projects,
            &self.project_names,
            &self.user_projects,
        ]
    }

    /// Takes the flow writer lock. Never hold it across an `.await`.
    pub fn flow_writer(&self) -> MutexGuard<'_, ()> {
        self.flow_writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until every write made so far is on disk (fsync). Concurrent callers share flushes.
    ///
    /// # Errors
    /// The I/O error sled met while flushing.
    pub async fn durable(&self) -> Result<(), sled::Error> {
        self.db.flush_async().await.map(|_| ())
    }

    /// Synchronous variant of [`Store::durable`] for shutdown paths and CLI commands.
    ///
    /// # Errors
    /// The I/O error sled met while flushing.
    pub fn flush(&self) -> Result<(), sled::Error> {
        self.db.flush().map(|_| ())
    }
}

fn classify_open_error(path: &Path, source: sled::Error) -> StoreError {
    if let sled::Error::Io(io) = &source {
        let text = io.to_string().to_lowercase();
        if io.kind() == std::io::ErrorKind::WouldBlock || text.contains("lock") {
            return StoreError::Locked(path.display().to_string());
        }
    }
    StoreError::Open { path: path.display().to_string(), source }
}

/// `a ++ b` key for composite index trees.
#[must_use]
pub fn compose(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(a.len() + b.len());
    k.extend_from_slice(a);
    k.extend_from_slice(b);
    k
}
