//! State shared, read-only, by the supervisor and every vertex of one build.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::mpsc;
use uuid::Uuid;

use crate::graph::{CompiledGraph, Params, Subset};
use crate::llm::LlmRuntime;
use crate::store::messages::MessageStore;

use super::{BuildEvent, CancelToken, Mode, OutputLimits};

pub(crate) struct BuildShared {
    pub graph: Arc<CompiledGraph>,
    /// Per vertex: parameters after tweaks, variables and the run input.
    pub params: Vec<Arc<Params>>,
    pub subset: Subset,
    pub mode: Mode,
    pub flow_id: Uuid,
    pub user_id: Option<Uuid>,
    pub session_id: String,
    pub run_id: Uuid,
    pub variables: HashMap<String, String>,
    /// Names among `variables` read from the server's environment.
    pub environment_variables: HashSet<String>,
    pub messages: Option<MessageStore>,
    pub events: mpsc::Sender<BuildEvent>,
    /// Nobody reads the events (a non-streaming `/run`): they are not sent at all, which saves
    /// a cross-thread wake-up per message.
    pub quiet: bool,
    pub cancel: CancelToken,
    pub llm: Arc<LlmRuntime>,
    pub limits: OutputLimits,
}
