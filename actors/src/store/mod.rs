//! The sled database: one directory under `LANGFLOW_CONFIG_DIR`, one tree per entity plus index
//! trees. This module opens it, names the trees, and provides the durability barrier that every
//! acknowledged identity or flow write waits for.
//!
//! # One interface per entity
//! Callers never touch trees: each entity has a trait with the methods callers use, and the sled
//! implementation sits in its own module, so a second database (PostgreSQL) is another
//! implementation behind the same traits.
//!
//! | entity | traits | sled implementation | callers hold |
//! |---|---|---|---|
//! | users, API keys, variables | `registry::{UserRepo, KeyRepo, VariableRepo}` (`IdentityRepo`) | `registry::sled::Registry` | `Addr<RegistryActor>` |
//! | flows, projects | [`flows::FlowReads`], [`flows::FlowWrites`], [`flows::ProjectWrites`] ([`flows::FlowRepo`]) | [`flows::sled::FlowStore`] | [`flows::Flows`] |
//! | chat messages | [`messages::MessageRepo`] | [`messages::sled::SledMessages`] | [`messages::MessageStore`] |
//!
//! Build jobs have no store: a job is a live event channel and a cancel handle that exist only
//! while the process runs (`src/jobs/`), so there is nothing a database could hold.
//!
//! # Ownership
//! One model for every entity: a synchronous, unit-testable core behind its trait; writes are
//! serialised by their owner and never run on an HTTP worker thread; nothing holds a lock across
//! an `.await`. Identity's owner is the `RegistryActor` on its own arbiter (its mailbox
//! serialises; it also owns the buffered API-key usage counters, which is why identity reads go
//! through it too). Flows' owner is the flow writer lock ([`Store::flow_writer`]), taken only on
//! the blocking pool by [`flows::Flows::write`]; flow reads (the lookup on every `/run`) go
//! straight to the thread-safe trees through the trait, with no lock and no thread hop. Chat
//! messages are single-key inserts without a flush, cheap enough to run inline. Why: an actix
//! worker serves many connections, so a write that waits for a lock or a fsync on it stalls all of
//! them; moving the wait to the owner keeps the workers free, and keeping reads direct keeps the
//! hot path as fast as before.

pub mod files;
pub mod flows;
pub mod messages;
pub mod writer;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub use writer::{disk_full, is_disk_full, override_free_space};
use writer::{SpaceGuard, Writer};

use sled::{Db, Tree};

/// Name of the database directory inside the config dir.
pub const DB_DIR: &str = "flowactor.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database at {0} is locked by another flowactor process")]
    Locked(String),
    #[error("cannot open the database at {path}: {source}")]
    Open { path: String, source: sled::Error },
    /// The PostgreSQL database named by `LANGFLOW_DATABASE_URL` (connection or migration).
    #[error("cannot use the database at LANGFLOW_DATABASE_URL: {0}")]
    Database(String),
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
    /// key id → `KeyUsage` (see [`crate::usage`])
    pub api_key_usage: Tree,
    /// Serialises flow and project writers (the flow store and the user deletion): their
    /// uniqueness checks and name suffixes read indexes before the transaction that writes them.
    flow_writer: Arc<Mutex<()>>,
    /// The flush thread, the gate transactions share with it, and the free-space reserve.
    writer: Arc<Writer>,
}

/// How [`Store::open_with`] opens the database.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreOptions {
    /// Upper bound in ms for background writes (chat messages, usage counters) to sit in memory.
    pub flush_every_ms: u64,
    /// Writes are refused ([`disk_full`]) while the file system has less free space than this.
    pub min_free_bytes: u64,
    /// Bound of sled's page cache in bytes (0: sled's own default, 1 GiB). Everything written
    /// passes through this cache, so it is what memory grows to under a steady write load.
    pub cache_bytes: u64,
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
        Self::open_with(config_dir, StoreOptions { flush_every_ms, ..StoreOptions::default() })
    }

    /// [`Store::open`] with a free-space reserve. Zero-length `snap.*.generating` files (left by
    /// a snapshot that a full disk or a crash interrupted; sled refuses to open with them) are
    /// removed first.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another process holds the database.
    pub fn open_with(config_dir: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let path = config_dir.join(DB_DIR);
        let open_error = |source| StoreError::Open { path: path.display().to_string(), source };
        remove_empty_snapshots(&path).map_err(|e| open_error(sled::Error::Io(e)))?;
        let mut config = sled::Config::new().path(&path).flush_every_ms(Some(options.flush_every_ms.max(1)));
        if options.cache_bytes > 0 {
            config = config.cache_capacity(options.cache_bytes);
        }
        let db = config.open().map_err(|source| classify_open_error(&path, source))?;
        let space = SpaceGuard::new(Some(path.clone()), options.min_free_bytes);
        Self::from_db(db, space).map_err(open_error)
    }

    /// A throw-away in-memory database (unit tests and benches).
    ///
    /// # Errors
    /// Never in practice.
    pub fn temporary() -> Result<Self, sled::Error> {
        Self::from_db(sled::Config::new().temporary(true).open()?, SpaceGuard::new(None, 0))
    }

    fn from_db(db: Db, space: SpaceGuard) -> Result<Self, sled::Error> {
        let writer = Arc::new(Writer::start(&db, space)?);
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
            api_key_usage: db.open_tree("api_key_usage")?,
            flow_writer: Arc::new(Mutex::new(())),
            writer,
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

    /// Waits until every write made so far is on disk (fsync). Concurrent callers share flushes,
    /// which all run on the store's writer thread (see [`writer`]).
    ///
    /// # Errors
    /// The I/O error sled met while flushing, or a flush that did not finish in
    /// [`writer::FLUSH_TIMEOUT`].
    pub async fn durable(&self) -> Result<(), sled::Error> {
        self.writer.durable().await
    }

    /// Synchronous variant of [`Store::durable`] for shutdown paths and CLI commands.
    ///
    /// # Errors
    /// The I/O error sled met while flushing.
    pub fn flush(&self) -> Result<(), sled::Error> {
        self.writer.flush()
    }

    /// Runs a sled transaction or batch: refused with [`disk_full`] below the free-space reserve,
    /// and never concurrently with an explicit flush (sled 0.34 can deadlock otherwise). Never
    /// call [`Store::durable`] or [`Store::flush`] inside `f`.
    ///
    /// # Errors
    /// [`disk_full`], or whatever `f` answers.
    pub fn write<T, E: From<sled::Error>>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        self.writer.space.check()?;
        let _gate = self.writer.gate();
        f()
    }

    /// A transaction or batch that must not be refused for lack of space (deletions that free it).
    ///
    /// # Errors
    /// Whatever `f` answers.
    pub fn write_always<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let _gate = self.writer.gate();
        f()
    }

    /// `Err(disk_full())` while free space is below the reserve; plain inserts call it first.
    ///
    /// # Errors
    /// [`disk_full`].
    pub fn check_space(&self) -> Result<(), sled::Error> {
        self.writer.space.check()
    }
}

/// Removes zero-length `snap.*.generating` files from a sled directory (sled issue #1527: an
/// interrupted snapshot leaves one, and the database then never opens again).
///
/// # Errors
/// I/O failures other than a missing directory.
pub fn remove_empty_snapshots(db_dir: &Path) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(db_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("snap.") && name.ends_with(".generating") && entry.metadata()?.len() == 0 {
            std::fs::remove_file(entry.path())?;
            tracing::warn!(file = %entry.path().display(), "removed an empty, unfinished database snapshot");
            removed += 1;
        }
    }
    Ok(removed)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn start_up_removes_empty_unfinished_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 50).unwrap();
            store.users.insert(b"k", b"v".as_slice()).unwrap();
            store.flush().unwrap();
        }
        let db_dir = dir.path().join(DB_DIR);
        let empty = db_dir.join("snap.00000000000ABCDE.generating");
        let kept = db_dir.join("snap.00000000000ABCDF.generating");
        std::fs::write(&empty, b"").unwrap();
        std::fs::write(&kept, b"not empty").unwrap();
        assert_eq!(remove_empty_snapshots(&db_dir).unwrap(), 1);
        assert!(!empty.exists() && kept.exists());
        std::fs::remove_file(&kept).unwrap();
        std::fs::write(&empty, b"").unwrap();
        let store = Store::open(dir.path(), 50).unwrap();
        assert!(!empty.exists());
        assert_eq!(store.users.get(b"k").unwrap().as_deref(), Some(b"v".as_slice()));
        assert_eq!(remove_empty_snapshots(&dir.path().join("missing")).unwrap(), 0);
    }

    #[test]
    fn writes_are_refused_below_the_reserve_and_resume_when_space_returns() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(
            dir.path(),
            StoreOptions { flush_every_ms: 50, min_free_bytes: 1 << 20, ..StoreOptions::default() },
        )
        .unwrap();
        store.write(|| store.users.insert(b"a", b"1".as_slice()).map(|_| ())).unwrap();
        override_free_space(dir.path(), Some(1000));
        std::thread::sleep(writer::SPACE_RECHECK * 2);
        let refused = store.write(|| store.users.insert(b"b", b"2".as_slice()).map(|_| ())).unwrap_err();
        assert!(is_disk_full(&refused));
        assert!(store.check_space().is_err());
        assert_eq!(store.users.get(b"a").unwrap().as_deref(), Some(b"1".as_slice()));
        override_free_space(dir.path(), None);
        std::thread::sleep(writer::SPACE_RECHECK * 2);
        store.write(|| store.users.insert(b"b", b"2".as_slice()).map(|_| ())).unwrap();
        store.flush().unwrap();
    }
}
