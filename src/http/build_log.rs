//! Build monitoring: the trace of every recent build and run (per vertex: start, duration,
//! state, the engine thread it ran on), behind `/api/v1/monitor/builds`, `/transactions` and
//! `/builds/{job_id}/timeline`.
//!
//! Traces are kept in memory, newest last, up to `FLOWACTOR_MONITOR_MAX_VERTICES` vertex records
//! in all (whole builds are dropped oldest first; a build larger than the bound is kept alone
//! until the next one). They are not persisted: a restart empties them. Recording costs the
//! supervisor one allocation per build and no store write.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use flowactor_actors::engine::{BuildRecorder, BuildTrace};
use uuid::Uuid;

#[derive(Default)]
struct Kept {
    builds: VecDeque<Arc<BuildTrace>>,
    vertices: usize,
}

/// Recent build traces; cheap to clone.
#[derive(Clone)]
pub struct BuildLog {
    max_vertices: usize,
    kept: Arc<Mutex<Kept>>,
}

impl BuildLog {
    /// A log keeping up to `max_vertices` vertex records; `0` records nothing.
    #[must_use]
    pub fn new(max_vertices: usize) -> Self {
        Self { max_vertices, kept: Arc::default() }
    }

    /// The engine's hook, or `None` when monitoring is off.
    #[must_use]
    pub fn recorder(&self) -> Option<BuildRecorder> {
        (self.max_vertices > 0).then(|| {
            let log = self.clone();
            BuildRecorder(Arc::new(move |trace| log.push(trace)))
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, trace: BuildTrace) {
        let n = trace.vertices.len();
        let mut kept = self.lock();
        while kept.vertices + n > self.max_vertices {
            let Some(old) = kept.builds.pop_front() else { break };
            kept.vertices -= old.vertices.len();
        }
        kept.vertices += n;
        kept.builds.push_back(Arc::new(trace));
    }

    /// The kept builds of a flow, oldest first.
    #[must_use]
    pub fn of_flow(&self, flow_id: Uuid) -> Vec<Arc<BuildTrace>> {
        self.lock().builds.iter().filter(|b| b.flow_id == flow_id).cloned().collect()
    }

    /// A kept build by its run id (the job id of a `/build`).
    #[must_use]
    pub fn find(&self, run_id: Uuid) -> Option<Arc<BuildTrace>> {
        self.lock().builds.iter().rev().find(|b| b.run_id == run_id).cloned()
    }

    /// Drops the traces of a flow.
    pub fn forget_flow(&self, flow_id: Uuid) {
        let mut kept = self.lock();
        kept.builds.retain(|b| b.flow_id != flow_id);
        kept.vertices = kept.builds.iter().map(|b| b.vertices.len()).sum();
    }
}
