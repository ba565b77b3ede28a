//! Build jobs: the state behind `POST /api/v1/build/{flow}/flow` → `job_id` →
//! `GET /api/v1/build/{job_id}/events` / `POST .../cancel`.
//!
//! A job owns the build's bounded event receiver until a reader takes it, so a reader that
//! connects late still gets every event (the build waits when nobody reads: backpressure, not
//! memory growth). Job ids are random UUIDs and are only visible to their owner. Finished jobs
//! stay readable for a while, then are swept; a drained or cancelled job answers at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowactor_actors::engine::{BuildCanceller, BuildEvent};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Most unfinished jobs one user may hold.
pub const MAX_LIVE_JOBS_PER_USER: usize = 64;

pub struct Job {
    pub id: Uuid,
    pub owner: Uuid,
    pub flow_id: Uuid,
    created: Instant,
    /// The event receiver, until a reader has drained it.
    events: tokio::sync::Mutex<Option<mpsc::Receiver<BuildEvent>>>,
    cancel: BuildCanceller,
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

    /// Exclusive access to the event receiver (`None` once drained); polling readers queue here.
    pub async fn lock_events(&self) -> tokio::sync::MutexGuard<'_, Option<mpsc::Receiver<BuildEvent>>> {
        self.events.lock().await
    }

    /// Takes the receiver out of the job (a streaming reader owns it from then on).
    pub async fn take_events(&self) -> Option<mpsc::Receiver<BuildEvent>> {
        self.events.lock().await.take()
    }
}

/// Why a job could not be registered.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyJobs;

pub struct JobRegistry {
    jobs: Mutex<HashMap<Uuid, Arc<Job>>>,
    /// How long a finished job stays readable.
    expire: Duration,
    /// Upper bound on a job's life (build deadline + expiry), for jobs nobody ever reads.
    max_age: Duration,
}

impl JobRegistry {
    #[must_use]
    pub fn new(expire: Duration, build_deadline: Duration) -> Self {
        Self { jobs: Mutex::new(HashMap::new()), expire, max_age: build_deadline + expire }
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

    /// Registers a started build.
    ///
    /// # Errors
    /// [`TooManyJobs`] when the owner already has too many unfinished jobs.
    pub fn register(
        &self,
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
            id: Uuid::new_v4(),
            owner,
            flow_id,
            created: Instant::now(),
            events: tokio::sync::Mutex::new(Some(events)),
            cancel,
            finished: AtomicBool::new(false),
            finished_at: Mutex::new(None),
        });
        jobs.insert(job.id, job.clone());
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
