//! Uploaded files: the bytes of the v1 flow-scoped uploads (`<config_dir>/<flow_id>/<name>`),
//! the v2 user-scoped uploads (`<config_dir>/<user_id>/<name>`) and their records.
//!
//! Bytes and records both live on disk under the config dir (see [`disk::DiskFiles`]):
//! storage paths are the ones Langflow hands out, so a `path` a client got from an upload route
//! resolves the same way here. Every write goes to a temporary file in the same file system,
//! is fsynced, and is then renamed into place; a record is written only after its bytes. An
//! upload interrupted at any point (a dropped connection, a killed process) therefore leaves
//! no half-file under a visible name, only a temporary that the next start removes.
//!
//! Callers hold a [`Files`] handle on a [`FileRepo`], so another backend (records in
//! PostgreSQL, bytes in a blob table) can be put behind the same trait.

pub mod disk;

use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Micros;

/// One user-scoped (v2) file: Langflow's `file` table row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    /// Display name, without the extension (`report (1)`); renames change only this.
    pub name: String,
    /// Storage path relative to the storage root: `<user_id>/<stored name>`.
    pub path: String,
    pub size: u64,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// Bytes written to a temporary file, not yet visible under any name.
#[derive(Debug)]
pub struct PendingFile {
    pub(crate) temp: PathBuf,
    pub(crate) file: std::fs::File,
    /// Bytes written so far.
    pub size: u64,
}

impl PendingFile {
    /// Appends a chunk.
    ///
    /// # Errors
    /// I/O failures.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        io::Write::write_all(&mut self.file, bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        // A commit renames the temp away first; anything left here was never committed.
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// How a v2 upload is stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserUpload {
    /// Write onto the existing file of the same name (same record, new size).
    pub append: bool,
    /// Store the bytes but keep no record.
    pub ephemeral: bool,
}

/// The file store's interface. All methods block (file system calls); callers run them off the
/// HTTP worker threads.
pub trait FileRepo: Send + Sync {
    /// The storage root (the config dir); storage paths are relative to it.
    fn root(&self) -> &Path;

    /// A new temporary file to stream an upload into.
    ///
    /// # Errors
    /// I/O failures.
    fn begin(&self) -> io::Result<PendingFile>;

    /// Makes `pending` visible as `<flow>/<name>` (fsync, then rename). `name` is a bare file name.
    ///
    /// # Errors
    /// I/O failures.
    fn commit_flow_file(&self, pending: PendingFile, flow: Uuid, name: &str) -> io::Result<PathBuf>;

    /// Makes `pending` visible as the legacy upload `<cache>/<flow>/<name>`; returns its absolute path.
    ///
    /// # Errors
    /// I/O failures.
    fn commit_cache_file(&self, pending: PendingFile, flow: Uuid, name: &str) -> io::Result<PathBuf>;

    /// The bare names of a flow's files.
    ///
    /// # Errors
    /// I/O failures.
    fn list_flow(&self, flow: Uuid) -> io::Result<Vec<String>>;

    /// The absolute path of a flow's file, when it exists.
    fn flow_file(&self, flow: Uuid, name: &str) -> Option<PathBuf>;

    /// Removes a flow's file (no error when it is missing).
    ///
    /// # Errors
    /// I/O failures.
    fn delete_flow_file(&self, flow: Uuid, name: &str) -> io::Result<()>;

    /// Removes every file of a deleted flow.
    ///
    /// # Errors
    /// I/O failures.
    fn delete_flow(&self, flow: Uuid) -> io::Result<()>;

    /// Stores a v2 upload named `file_name` (a bare name with its extension) for `user`.
    ///
    /// # Errors
    /// I/O failures.
    fn create_user_file(
        &self,
        user: Uuid,
        pending: PendingFile,
        file_name: &str,
        how: UserUpload,
    ) -> io::Result<FileRecord>;

    /// The user's file records, oldest first.
    ///
    /// # Errors
    /// I/O failures.
    fn list_user(&self, user: Uuid) -> io::Result<Vec<FileRecord>>;

    /// The user's record; `None` when missing or someone else's.
    ///
    /// # Errors
    /// I/O failures.
    fn get_user_file(&self, user: Uuid, id: Uuid) -> io::Result<Option<FileRecord>>;

    /// Renames the record (the stored path is unchanged).
    ///
    /// # Errors
    /// I/O failures.
    fn rename_user_file(&self, user: Uuid, id: Uuid, name: &str) -> io::Result<Option<FileRecord>>;

    /// Deletes the record and its bytes; `None` when missing or someone else's.
    ///
    /// # Errors
    /// I/O failures.
    fn delete_user_file(&self, user: Uuid, id: Uuid) -> io::Result<Option<FileRecord>>;

    /// Removes every file and record of a deleted user.
    ///
    /// # Errors
    /// I/O failures.
    fn delete_user(&self, user: Uuid) -> io::Result<()>;

    /// Saves bytes as a user file (components writing output files): a new record named after
    /// `file_name`, or, with `append`, onto the existing one.
    ///
    /// # Errors
    /// I/O failures.
    fn save_user_bytes(&self, user: Uuid, file_name: &str, bytes: &[u8], append: bool) -> io::Result<FileRecord> {
        let mut pending = self.begin()?;
        pending.write(bytes)?;
        self.create_user_file(user, pending, file_name, UserUpload { append, ephemeral: false })
    }
}

/// A cheap, cloneable handle on the file store.
#[derive(Clone)]
pub struct Files(Arc<dyn FileRepo>);

impl Files {
    pub fn new(repo: impl FileRepo + 'static) -> Self {
        Self(Arc::new(repo))
    }

    /// The disk store under `config_dir` (temporaries of an interrupted upload are removed).
    ///
    /// # Errors
    /// I/O failures creating its directories.
    pub fn open(config_dir: &Path) -> io::Result<Self> {
        Ok(Self::new(disk::DiskFiles::open(config_dir)?))
    }
}

impl Deref for Files {
    type Target = dyn FileRepo;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files").field("root", &self.0.root()).finish()
    }
}

/// Splits `report.txt` into (`report`, `.txt`); a name without a dot has no extension.
#[must_use]
pub fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// True for a bare file name: no separators, no `..`, no NUL, not empty.
#[must_use]
pub fn is_bare_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']) && !name.contains("..")
}

#[cfg(test)]
mod tests;
