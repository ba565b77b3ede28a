//! The one writer thread of a database and the free-space reserve.
//!
//! sled 0.34 can wedge itself for good when an explicit flush runs while a transaction commits:
//! `Tree::flush` holds sled's global concurrency-control lock for reading while it waits for log
//! buffers to reach the disk; a transaction (or batch) then waits for that lock for writing, and
//! the lock, preferring the writer, also blocks sled's background flusher, which is what would
//! have written those buffers. `flush_async` made it worse by parking each waiting caller on one
//! of sled's I/O threads. So nothing here calls `flush_async`: every fsync is done by one thread
//! per database, which takes all callers waiting at that moment and answers them with one flush
//! (group commit) while holding the [`Writer::gate`]. Transactions and batches take the same gate
//! (see [`crate::Store::write`]), so no transaction ever runs beside an explicit flush. Plain
//! inserts (chat messages, usage counters) only take sled's lock for reading, and sled's own
//! background flusher takes it the same way, so neither can wait behind a flush.
//!
//! Writes are refused with [`disk_full`] while the file system holding the database has less
//! free space than the configured reserve, before sled can hit `ENOSPC` (after which sled 0.34
//! refuses every further write until the process restarts); the check is repeated at most every
//! [`SPACE_RECHECK`], so writes resume by themselves once space returns.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sled::Db;

/// How long a cached free-space figure is trusted.
pub const SPACE_RECHECK: Duration = Duration::from_millis(100);
/// How long a caller waits for its flush before giving up with an error.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// The error every refused write carries (`ErrorKind::StorageFull`).
#[must_use]
pub fn disk_full() -> sled::Error {
    sled::Error::Io(io::Error::new(io::ErrorKind::StorageFull, "not enough free disk space for the database"))
}

/// Is `e` a full disk (the reserve refusal or a real `ENOSPC`/`EDQUOT`)?
#[must_use]
pub fn is_disk_full(e: &sled::Error) -> bool {
    match e {
        sled::Error::Io(io) => {
            io.kind() == io::ErrorKind::StorageFull
                || io.kind() == io::ErrorKind::QuotaExceeded
                || matches!(io.raw_os_error(), Some(28 | 122))
                || io.to_string().contains("No space left on device")
        }
        _ => false,
    }
}

/// Free-space figures that replace the file system's answer for one directory (tests on machines
/// where a small file system cannot be mounted).
fn overrides() -> MutexGuard<'static, HashMap<PathBuf, u64>> {
    static OVERRIDES: OnceLock<Mutex<HashMap<PathBuf, u64>>> = OnceLock::new();
    OVERRIDES.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner)
}

/// Pretends the file system holding `dir` (a config dir or database dir) has `bytes` free
/// (`None` restores the real figure). For tests only.
#[doc(hidden)]
pub fn override_free_space(dir: &Path, bytes: Option<u64>) {
    let mut map = overrides();
    match bytes {
        Some(b) => map.insert(dir.to_path_buf(), b),
        None => map.remove(dir),
    };
}

/// The free-space reserve of one database directory.
pub(crate) struct SpaceGuard {
    dir: Option<PathBuf>,
    reserve: u64,
    started: Instant,
    /// ms since `started` of the last check, +1 (0 = never checked)
    checked_at: AtomicU64,
    full: AtomicBool,
}

impl SpaceGuard {
    pub(crate) fn new(dir: Option<PathBuf>, reserve: u64) -> Self {
        Self { dir, reserve, started: Instant::now(), checked_at: AtomicU64::new(0), full: AtomicBool::new(false) }
    }

    fn available(dir: &Path) -> io::Result<u64> {
        {
            let map = overrides();
            if !map.is_empty() {
                if let Some(b) = dir.ancestors().find_map(|a| map.get(a)) {
                    return Ok(*b);
                }
            }
        }
        fs2::available_space(dir)
    }

    /// `Err(disk_full())` while free space is below the reserve.
    pub(crate) fn check(&self) -> Result<(), sled::Error> {
        let Some(dir) = self.dir.as_ref().filter(|_| self.reserve > 0) else { return Ok(()) };
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1;
        let last = self.checked_at.load(Ordering::Acquire);
        if last == 0 || now.saturating_sub(last) >= u64::try_from(SPACE_RECHECK.as_millis()).unwrap_or(100) {
            self.checked_at.store(now, Ordering::Release);
            let full = match Self::available(dir) {
                Ok(free) => free < self.reserve,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the free disk space");
                    false
                }
            };
            if self.full.swap(full, Ordering::AcqRel) != full {
                if full {
                    tracing::error!(reserve_bytes = self.reserve, dir = %dir.display(),
                        "free disk space is below the reserve: writes are refused until space returns");
                } else {
                    tracing::warn!("free disk space is back above the reserve: writes are accepted again");
                }
            }
        }
        if self.full.load(Ordering::Acquire) {
            Err(disk_full())
        } else {
            Ok(())
        }
    }
}

type Answer = Box<dyn FnOnce(Result<(), sled::Error>) + Send>;

/// The writer thread of one database and the gate it shares with transactions.
pub(crate) struct Writer {
    gate: Arc<Mutex<()>>,
    tx: Mutex<Option<Sender<Answer>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    pub(crate) space: SpaceGuard,
}

impl Writer {
    pub(crate) fn start(db: &Db, space: SpaceGuard) -> io::Result<Self> {
        let gate = Arc::new(Mutex::new(()));
        let (tx, rx) = mpsc::channel();
        let (thread_db, thread_gate) = (db.clone(), gate.clone());
        let thread = std::thread::Builder::new()
            .name("flowactor-db-writer".into())
            .spawn(move || run(&rx, &thread_gate, &thread_db))?;
        Ok(Self { gate, tx: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)), space })
    }

    /// Held by every transaction and batch, and by the writer thread while it flushes.
    pub(crate) fn gate(&self) -> MutexGuard<'_, ()> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn submit(&self, answer: Answer) -> Result<(), sled::Error> {
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        match tx.as_ref().map(|tx| tx.send(answer)) {
            Some(Ok(())) => Ok(()),
            _ => Err(stopped()),
        }
    }

    /// Waits for a flush that started after this call.
    pub(crate) async fn durable(&self) -> Result<(), sled::Error> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(Box::new(move |r| {
            let _ = tx.send(r);
        }))?;
        match tokio::time::timeout(FLUSH_TIMEOUT, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(stopped()),
            Err(_) => Err(timed_out()),
        }
    }

    /// Blocking [`Writer::durable`].
    pub(crate) fn flush(&self) -> Result<(), sled::Error> {
        let (tx, rx) = mpsc::channel();
        self.submit(Box::new(move |r| {
            let _ = tx.send(r);
        }))?;
        match rx.recv_timeout(FLUSH_TIMEOUT) {
            Ok(result) => result,
            Err(RecvTimeoutError::Disconnected) => Err(stopped()),
            Err(RecvTimeoutError::Timeout) => Err(timed_out()),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(t) = self.thread.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = t.join();
        }
    }
}

fn stopped() -> sled::Error {
    sled::Error::Io(io::Error::other("the database writer has stopped"))
}

fn timed_out() -> sled::Error {
    sled::Error::Io(io::Error::new(io::ErrorKind::TimedOut, "database flush timed out"))
}

/// Group commit: every caller that is waiting when a flush starts is answered by that flush.
fn run(rx: &Receiver<Answer>, gate: &Mutex<()>, db: &Db) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(next) = rx.try_recv() {
            batch.push(next);
        }
        let result = {
            let _gate = gate.lock().unwrap_or_else(PoisonError::into_inner);
            db.flush().map(|_| ())
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, "database flush failed");
        }
        for answer in batch {
            answer(result.clone());
        }
    }
}
