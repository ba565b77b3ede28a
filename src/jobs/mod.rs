//! Build jobs: the state behind `POST /api/v1/build/{flow}/flow` → `job_id` →
//! `GET /api/v1/build/{job_id}/events` / `POST .../cancel`.
//!
//! A job keeps the build's events in its [`EventLog`], so a reader that connects late still gets
//! every event (the build waits when nobody reads: backpressure, not memory growth), and a
//! resuming reader continues after the last event it saw. Job ids are random UUIDs and are only
//! visible to their owner. Finished jobs stay readable for a while, then are swept; a drained or
//! cancelled job answers at once.
//!
//! A plain streaming reader that disconnects cancels the build, as in Langflow. A resuming
//! reader that disconnects does not: the build goes on, and is cancelled only when no reader has
//! been attached for the resume grace period.

mod log;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowactor_actors::engine::{BuildCanceller, BuildEvent};
use tokio::sync::mpsc;
use uuid::Uuid;

pub use log::{EventLog, Gone, Read};

/// Most unfinished jobs one user may hold.
pub const MAX_LIVE_JOBS_PER_USER: usize = 64;

pub struct Job {
    pub id: Uuid,
    pub owner: Uuid,
    pub flow_id: Uuid,
    created: Instant,
    /// The build's events.
    pub log: Arc<EventLog>,
    cancel: BuildCanceller,
    /// Resuming readers attached now, and how many ever attached (a grace timer compares it).
    readers: AtomicUsize,
    attaches: AtomicU64,
    finished: AtomicBool,
    finished_at: Mutex<Option<Instant>>,
}

impl Job {
    /// Marks the job finished (its events were drained, or it was cancelled).
    pub fn finish(&self) {
        if !self.finished.swap(true, Ordering::SeqCst) {
            *self.finished_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
        }
    }

    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Stops the build; the job then reads as finished.
    pub fn cancel(&self) {
        self.cancel.cancel();
        self.finish();
    }

    /// A resuming reader attached.
    pub fn attach(&self) {
        self.readers.fetch_add(1, Ordering::SeqCst);
        self.attaches.fetch_add(1, Ordering::SeqCst);
    }

    /// A resuming reader went away before the end: when no reader attaches within `grace`, the
    /// build is cancelled (a vanished client does not keep its build running).
    pub fn detach(self: &Arc<Self>, grace: Duration) {
        if self.readers.fetch_sub(1, Ordering::SeqCst) > 1 || self.log.is_closed() {
            return;
        }
        let seen = self.attaches.load(Ordering::SeqCst);
        let job = self.clone();
        actix_web::rt::spawn(async move {
            tokio::time::sleep(grace).await;
            if job.readers.load(Ordering::SeqCst) == 0 && job.attaches.load(Ordering::SeqCst) == seen {
                job.cancel();
            }
        });
    }

    /// A resuming reader saw the end.
    pub fn reader_done(&self) {
        self.readers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Why a job could not be registered.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyJobs;

pub struct JobRegistry {
    jobs: Mutex<HashMap<Uuid, Arc<Job>>>,
    /// How long a finished job stays readable.
    expire: Duration,
    /// Bytes of events a job retains for resuming readers.
    retention_bytes: usize,
    /// Upper bound on a job's life (build deadline + expiry), for jobs nobody ever reads.
    max_age: Duration,
}

impl JobRegistry {
    #[must_use]
    pub fn new(expire: Duration, build_deadline: Duration, retention_bytes: usize) -> Self {
        Self { jobs: Mutex::new(HashMap::new()), expire, retention_bytes, max_age: build_deadline + expire }
    }

    fn sweep(&self, jobs: &mut HashMap<Uuid, Arc<Job>>) {
        let now = Instant::now();
        jobs.retain(|_, job| {
            let finished_at = *job.finished_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let expired = finished_at.is_some_and(|t| now.duration_since(t) > self.expire)
                || now.duration_since(job.created) > self.max_age;
            if expired {
                job.cancel.cancel();
            }
            !expired
        });
    }

    /// Registers a started build under `id` (the build's run id, so monitoring finds it by job id).
    ///
    /// # Errors
    /// [`TooManyJobs`] when the owner already has too many unfinished jobs.
    pub fn register(
        &self,
        id: Uuid,
        owner: Uuid,
        flow_id: Uuid,
        events: mpsc::Receiver<BuildEvent>,
        cancel: BuildCanceller,
    ) -> Result<Arc<Job>, TooManyJobs> {
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.sweep(&mut jobs);
        if jobs.values().filter(|j| j.owner == owner && !j.is_finished()).count() >= MAX_LIVE_JOBS_PER_USER {
            cancel.cancel();
            return Err(TooManyJobs);
        }
        let job = Arc::new(Job {
            id,
            owner,
            flow_id,
            created: Instant::now(),
            log: Arc::new(EventLog::new(self.retention_bytes)),
            cancel,
            readers: AtomicUsize::new(0),
            attaches: AtomicU64::new(0),
            finished: AtomicBool::new(false),
            finished_at: Mutex::new(None),
        });
        jobs.insert(job.id, job.clone());
        let log = job.log.clone();
        actix_web::rt::spawn(async move { log.pump(events).await });
        Ok(job)
    }

    /// The caller's job; another user's job is indistinguishable from a missing one.
    #[must_use]
    pub fn get(&self, owner: Uuid, id: Uuid) -> Option<Arc<Job>> {
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.sweep(&mut jobs);
        jobs.get(&id).filter(|j| j.owner == owner).cloned()
    }
}
