//! [`FileRepo`] on the local file system, under the config dir:
//!
//! | what | where |
//! |---|---|
//! | v1 flow files | `<root>/<flow_id>/<stored name>` |
//! | v2 user files | `<root>/<user_id>/<stored name>` |
//! | v2 records | `<root>/.file-records/<user_id>/<file_id>.json` |
//! | legacy uploads | `<root>/.upload-cache/<flow_id>/<sha256><ext>` |
//! | uploads in progress | `<root>/.upload-tmp/` (emptied at start) |
//!
//! Renames stay within one file system, so a file appears whole or not at all.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use uuid::Uuid;

use super::{is_bare_name, split_extension, FileRecord, FileRepo, PendingFile, UserUpload};
use crate::clock::now_micros;

const TEMP_DIR: &str = ".upload-tmp";
const RECORDS_DIR: &str = ".file-records";
const CACHE_DIR: &str = ".upload-cache";

/// The disk file store.
#[derive(Debug)]
pub struct DiskFiles {
    root: PathBuf,
    /// Serialises v2 writes (name suffixes read the user's records before writing one).
    names: Mutex<()>,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.to_owned())
}

/// fsyncs a directory so a rename in it survives a crash (a no-op where unsupported).
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

impl DiskFiles {
    /// Opens the store under `root`, removing temporaries an interrupted upload left.
    ///
    /// # Errors
    /// I/O failures creating the directories.
    pub fn open(root: &Path) -> io::Result<Self> {
        let temp = root.join(TEMP_DIR);
        if temp.exists() {
            fs::remove_dir_all(&temp)?;
        }
        fs::create_dir_all(&temp)?;
        fs::create_dir_all(root.join(RECORDS_DIR))?;
        Ok(Self { root: root.to_owned(), names: Mutex::new(()) })
    }

    fn records_dir(&self, user: Uuid) -> PathBuf {
        self.root.join(RECORDS_DIR).join(user.to_string())
    }

    /// fsync + rename into `dir/name`.
    fn publish(pending: PendingFile, dir: &Path, name: &str) -> io::Result<PathBuf> {
        if !is_bare_name(name) {
            return Err(invalid("not a bare file name"));
        }
        fs::create_dir_all(dir)?;
        pending.file.sync_all()?;
        let target = dir.join(name);
        fs::rename(&pending.temp, &target)?;
        sync_dir(dir);
        Ok(target)
    }

    fn write_record(&self, record: &FileRecord) -> io::Result<()> {
        let dir = self.records_dir(record.user_id);
        fs::create_dir_all(&dir)?;
        let mut pending = self.begin()?;
        pending.write(&serde_json::to_vec(record).map_err(io::Error::other)?)?;
        Self::publish(pending, &dir, &format!("{}.json", record.id))?;
        Ok(())
    }

    fn read_record(path: &Path) -> Option<FileRecord> {
        fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok())
    }

    fn stored_name(record: &FileRecord) -> &str {
        record.path.rsplit('/').next().unwrap_or_default()
    }
}

impl FileRepo for DiskFiles {
    fn root(&self) -> &Path {
        &self.root
    }

    fn begin(&self) -> io::Result<PendingFile> {
        let temp = self.root.join(TEMP_DIR).join(Uuid::new_v4().to_string());
        let file = fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
        Ok(PendingFile { temp, file, size: 0 })
    }

    fn commit_flow_file(&self, pending: PendingFile, flow: Uuid, name: &str) -> io::Result<PathBuf> {
        Self::publish(pending, &self.root.join(flow.to_string()), name)
    }

    fn commit_cache_file(&self, pending: PendingFile, flow: Uuid, name: &str) -> io::Result<PathBuf> {
        let path = Self::publish(pending, &self.root.join(CACHE_DIR).join(flow.to_string()), name)?;
        Ok(fs::canonicalize(&path).unwrap_or(path))
    }

    fn list_flow(&self, flow: Uuid) -> io::Result<Vec<String>> {
        let dir = self.root.join(flow.to_string());
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                if let Ok(name) = entry.file_name().into_string() {
                    names.push(name);
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn flow_file(&self, flow: Uuid, name: &str) -> Option<PathBuf> {
        if !is_bare_name(name) {
            return None;
        }
        let path = self.root.join(flow.to_string()).join(name);
        path.is_file().then_some(path)
    }

    fn delete_flow_file(&self, flow: Uuid, name: &str) -> io::Result<()> {
        if let Some(path) = self.flow_file(flow, name) {
            fs::remove_file(path)?;
        }
        Ok(())
    }

    fn delete_flow(&self, flow: Uuid) -> io::Result<()> {
        for dir in [self.root.join(flow.to_string()), self.root.join(CACHE_DIR).join(flow.to_string())] {
            match fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    fn create_user_file(
        &self,
        user: Uuid,
        pending: PendingFile,
        file_name: &str,
        how: UserUpload,
    ) -> io::Result<FileRecord> {
        if !is_bare_name(file_name) {
            return Err(invalid("not a bare file name"));
        }
        let _guard = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = self.root.join(user.to_string());
        let records = self.list_user(user)?;
        let now = now_micros();
        if how.append {
            if let Some(mut existing) = records.into_iter().find(|r| Self::stored_name(r) == file_name) {
                // Old bytes then new into a fresh temporary, renamed over the old file.
                let mut combined = self.begin()?;
                let old_path = dir.join(file_name);
                if let Ok(mut old) = fs::File::open(&old_path) {
                    combined.size += io::copy(&mut old, &mut combined.file)?;
                }
                let mut new = fs::File::open(&pending.temp)?;
                combined.size += io::copy(&mut new, &mut combined.file)?;
                drop(pending);
                existing.size = combined.size;
                existing.updated_at = now;
                Self::publish(combined, &dir, file_name)?;
                self.write_record(&existing)?;
                return Ok(existing);
            }
            let size = pending.size;
            Self::publish(pending, &dir, file_name)?;
            let (stem, _) = split_extension(file_name);
            let record = FileRecord {
                id: Uuid::new_v4(),
                user_id: user,
                name: stem.to_owned(),
                path: format!("{user}/{file_name}"),
                size,
                created_at: now,
                updated_at: now,
            };
            self.write_record(&record)?;
            return Ok(record);
        }
        let (stem, ext) = split_extension(file_name);
        let taken = |name: &str, stored: &str| {
            records.iter().any(|r| r.name == name || Self::stored_name(r) == stored) || dir.join(stored).exists()
        };
        let mut name = stem.to_owned();
        let mut stored = file_name.to_owned();
        let mut n = 1;
        while taken(&name, &stored) {
            name = format!("{stem} ({n})");
            stored = format!("{name}{ext}");
            n += 1;
        }
        let size = pending.size;
        Self::publish(pending, &dir, &stored)?;
        let record = FileRecord {
            id: Uuid::new_v4(),
            user_id: user,
            name,
            path: format!("{user}/{stored}"),
            size,
            created_at: now,
            updated_at: now,
        };
        if !how.ephemeral {
            self.write_record(&record)?;
        }
        Ok(record)
    }

    fn list_user(&self, user: Uuid) -> io::Result<Vec<FileRecord>> {
        let entries = match fs::read_dir(self.records_dir(user)) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut records = Vec::new();
        for entry in entries {
            if let Some(record) = Self::read_record(&entry?.path()) {
                if record.user_id == user {
                    records.push(record);
                }
            }
        }
        records.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(records)
    }

    fn get_user_file(&self, user: Uuid, id: Uuid) -> io::Result<Option<FileRecord>> {
        Ok(Self::read_record(&self.records_dir(user).join(format!("{id}.json"))).filter(|r| r.user_id == user))
    }

    fn rename_user_file(&self, user: Uuid, id: Uuid, name: &str) -> io::Result<Option<FileRecord>> {
        let _guard = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(mut record) = self.get_user_file(user, id)? else { return Ok(None) };
        name.clone_into(&mut record.name);
        record.updated_at = now_micros();
        self.write_record(&record)?;
        Ok(Some(record))
    }

    fn delete_user_file(&self, user: Uuid, id: Uuid) -> io::Result<Option<FileRecord>> {
        let _guard = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(record) = self.get_user_file(user, id)? else { return Ok(None) };
        // The record goes first: a crash in between leaves an unreferenced file, never a
        // record without its bytes.
        fs::remove_file(self.records_dir(user).join(format!("{id}.json")))?;
        let stored = Self::stored_name(&record);
        if is_bare_name(stored) {
            match fs::remove_file(self.root.join(user.to_string()).join(stored)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(Some(record))
    }

    fn delete_user(&self, user: Uuid) -> io::Result<()> {
        let _guard = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        for dir in [self.records_dir(user), self.root.join(user.to_string())] {
            match fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}
