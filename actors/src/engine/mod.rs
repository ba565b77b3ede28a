//! The execution engine: runs compiled graphs as actors.
//!
//! Every build (a `/run`, a `/build`, a streamed run) gets a [`BuildSupervisor`] actor, which
//! spawns one [`VertexActor`] per vertex over the [`ArbiterPool`] and wires them by edges. A
//! vertex fires as soon as all of its inputs have arrived — dataflow, with no layer barrier — and
//! sends its outputs straight to its successors. The supervisor turns vertex lifecycles into
//! Langflow's build events on a bounded channel, enforces the deadline and propagates
//! cancellation. Nothing here knows about HTTP: the caller frames the events and maps errors.
//!
//! [`BuildSupervisor`]: supervisor::BuildSupervisor
//! [`VertexActor`]: vertex::VertexActor

mod body;
mod events;
mod outcome;
mod pool;
mod supervisor;
mod vertex;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Actor, Addr};
use serde_json::Value as Json;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::graph::{CompiledGraph, GraphError, InputType, OverrideRequest, DEFAULT_MAX_VERTICES};
use crate::llm::LlmRuntime;
use crate::store::messages::MessageStore;

pub(crate) use crate::components::BuildShared;
pub use crate::components::{BuildEvent, CancelToken, Mode, OutputLimits};
pub use crate::llm::LlmSettings;
pub use outcome::{BuildRecorder, BuildTrace, RunOutcome, VertexOutcome, VertexState, VertexTrace};
pub use pool::ArbiterPool;
use supervisor::{BuildSupervisor, CancelBuild};

/// Engine limits.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Largest flow (in vertices) the engine accepts.
    pub max_vertices: usize,
    /// A build still running after this long is cancelled with an error.
    pub build_deadline: Duration,
    /// Capacity of each build's event channel; a full channel makes components wait.
    pub event_capacity: usize,
    /// Number of compiled flows kept in memory.
    pub cache_capacity: usize,
    /// Timeouts, retries, concurrency and address policy of LLM provider calls.
    pub llm: LlmSettings,
    /// Whether the `Delay` and `Burn` test components may run; when not, a flow using them is
    /// refused like one with an unknown component.
    pub test_components: bool,
    /// Size bounds on messages and component outputs.
    pub limits: OutputLimits,
    /// Endpoints and bounds of the tool components (URL, Web Search, SQL Database).
    pub tools: crate::components::ToolSettings,
    /// Uploaded files, for the components that read and write them (`File`, `SaveToFile`).
    pub files: Option<crate::store::files::Files>,
    /// Receives a [`BuildTrace`] of every build when it ends (build monitoring).
    pub recorder: Option<BuildRecorder>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_vertices: DEFAULT_MAX_VERTICES,
            build_deadline: Duration::from_secs(crate::runtime_default!(build_deadline_seconds)),
            event_capacity: 256,
            cache_capacity: 1024,
            llm: LlmSettings::default(),
            test_components: false,
            limits: OutputLimits::default(),
            tools: crate::components::ToolSettings::default(),
            files: None,
            recorder: None,
        }
    }
}

/// The run input (`input_value` + `input_type` of `/run`, `inputs` of `/build`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInput {
    pub input_value: String,
    pub input_type: InputType,
}

/// Everything one build needs besides the compiled graph.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    pub flow_id: Uuid,
    pub user_id: Option<Uuid>,
    /// Defaults to the flow id.
    pub session_id: Option<String>,
    pub input: Option<RunInput>,
    pub tweaks: Option<Json>,
    /// Resolved global variables (names from [`CompiledGraph::required_variables`], plus
    /// request-scoped ones).
    pub variables: HashMap<String, String>,
    /// Names among `variables` whose value came from the server's environment (the operator's
    /// credential, not the flow owner's): model components send such a key only to the
    /// provider's default endpoint or an allow-listed host.
    pub environment_variables: HashSet<String>,
    pub start_component_id: Option<String>,
    pub stop_component_id: Option<String>,
    pub mode: Mode,
    /// `/run?stream=`: injected as the `stream` field of every vertex that has one.
    pub stream: bool,
    /// The caller only wants the outcome (a non-streaming `/run`): no events are produced and
    /// [`BuildHandle::finish`] waits for the outcome alone.
    pub quiet: bool,
}

impl BuildRequest {
    /// A `/run` request with no input.
    #[must_use]
    pub fn run(flow_id: Uuid) -> Self {
        Self { flow_id, mode: Mode::Run, ..Self::default() }
    }

    /// A `/build` request with no input.
    #[must_use]
    pub fn build(flow_id: Uuid) -> Self {
        Self { flow_id, mode: Mode::Build, ..Self::default() }
    }

    /// Sets the input (`chat` type).
    #[must_use]
    pub fn with_input(mut self, text: impl Into<String>) -> Self {
        self.input = Some(RunInput { input_value: text.into(), input_type: InputType::Chat });
        self
    }

    #[must_use]
    pub fn with_session(mut self, session: impl Into<String>) -> Self {
        self.session_id = Some(session.into());
        self
    }

    #[must_use]
    pub fn with_tweaks(mut self, tweaks: Json) -> Self {
        self.tweaks = Some(tweaks);
        self
    }
}

/// Why a build produced no outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// `/run` failed; the text is Langflow's (`Error running graph: Error building Component
    /// X: reason`).
    #[error("{0}")]
    Failed(String),
    #[error("the build was cancelled")]
    Cancelled,
    #[error("the build did not finish within {} s", .0.as_secs_f64())]
    DeadlineExceeded(Duration),
    #[error("the build stopped unexpectedly")]
    Vanished,
}

/// Stops one build: every vertex actor and the supervisor.
#[derive(Clone)]
pub struct BuildCanceller {
    token: CancelToken,
    supervisor: Addr<BuildSupervisor>,
}

impl BuildCanceller {
    /// Cancels the build; idempotent, and harmless once the build has finished.
    pub fn cancel(&self) {
        self.token.cancel();
        self.supervisor.do_send(CancelBuild);
    }
}

/// A running build.
pub struct BuildHandle {
    pub run_id: Uuid,
    pub session_id: String,
    /// The build's events. Bounded: not reading slows the build down. Dropping the receiver
    /// cancels the build (a disconnected client).
    pub events: mpsc::Receiver<BuildEvent>,
    pub cancel: BuildCanceller,
    /// Resolves when the build ends.
    pub outcome: oneshot::Receiver<Result<RunOutcome, BuildError>>,
    quiet: bool,
}

impl BuildHandle {
    /// Reads every event until the build ends; returns them with the outcome (tests, and
    /// non-streaming callers that want the events too).
    pub async fn collect(mut self) -> (Vec<BuildEvent>, Result<RunOutcome, BuildError>) {
        let mut events = Vec::new();
        while let Some(e) = self.events.recv().await {
            events.push(e);
        }
        let outcome = self.outcome.await.unwrap_or(Err(BuildError::Vanished));
        (events, outcome)
    }

    /// Waits for the outcome, discarding events (a non-streaming `/run`).
    ///
    /// # Errors
    /// The build's [`BuildError`].
    pub async fn finish(mut self) -> Result<RunOutcome, BuildError> {
        if self.quiet {
            let outcome = self.outcome.await.unwrap_or(Err(BuildError::Vanished));
            drop(self.events);
            return outcome;
        }
        while self.events.recv().await.is_some() {}
        self.outcome.await.unwrap_or(Err(BuildError::Vanished))
    }
}

/// flow id → (content hash, compiled graph) of the flow's latest version.
type GraphCache = HashMap<Uuid, ([u8; 32], Arc<CompiledGraph>)>;

struct EngineInner {
    pool: ArbiterPool,
    messages: MessageStore,
    settings: EngineSettings,
    cache: Mutex<GraphCache>,
    /// Shared by every build, so provider concurrency limits and pooled connections are
    /// per engine, not per build.
    llm: Arc<LlmRuntime>,
}

/// The engine: arbiter pool, compiled-graph cache, message store and limits. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

/// BLAKE3 of a flow's bytes, the cache key callers compute when a flow is written.
#[must_use]
pub fn content_hash(bytes: &[u8]) -> [u8; 32] {
    *blake3::hash(bytes).as_bytes()
}

/// Parses a 64-digit hex content hash.
#[must_use]
pub fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Engine {
    #[must_use]
    pub fn new(pool: ArbiterPool, messages: MessageStore, settings: EngineSettings) -> Self {
        let llm = Arc::new(LlmRuntime::new(settings.llm.clone()));
        Self { inner: Arc::new(EngineInner { pool, messages, settings, cache: Mutex::new(HashMap::new()), llm }) }
    }

    #[must_use]
    pub fn settings(&self) -> &EngineSettings {
        &self.inner.settings
    }

    #[must_use]
    pub fn messages(&self) -> &MessageStore {
        &self.inner.messages
    }

    /// The compiled graph of a flow version, parsed only when `(flow_id, hash)` is not cached.
    /// Only the latest version of each flow is kept.
    ///
    /// # Errors
    /// The flow's [`GraphError`].
    pub fn compile(&self, flow_id: Uuid, hash: [u8; 32], data: &Json) -> Result<Arc<CompiledGraph>, GraphError> {
        if let Some(g) = self.cached(flow_id, hash) {
            return Ok(g);
        }
        let graph = Arc::new(CompiledGraph::parse_with_limit(data, self.inner.settings.max_vertices)?);
        let mut cache = self.inner.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= self.inner.settings.cache_capacity && !cache.contains_key(&flow_id) {
            if let Some(victim) = cache.keys().next().copied() {
                cache.remove(&victim);
            }
        }
        cache.insert(flow_id, (hash, graph.clone()));
        Ok(graph)
    }

    /// The cached graph of that flow version, if any.
    #[must_use]
    pub fn cached(&self, flow_id: Uuid, hash: [u8; 32]) -> Option<Arc<CompiledGraph>> {
        let cache = self.inner.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.get(&flow_id).filter(|(h, _)| *h == hash).map(|(_, g)| g.clone())
    }

    /// Drops a flow's compiled graph (the flow was deleted).
    pub fn forget(&self, flow_id: Uuid) {
        self.inner.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&flow_id);
    }

    /// Starts a build. Request-level problems (refused tweaks, an unknown start/stop
    /// component) are reported here, before anything runs.
    ///
    /// # Errors
    /// [`GraphError`] for the request problems above.
    pub fn start(&self, graph: Arc<CompiledGraph>, req: BuildRequest) -> Result<BuildHandle, GraphError> {
        if !self.inner.settings.test_components {
            let refused: Vec<(String, String)> = graph
                .vertices
                .iter()
                .filter(|v| v.kind.is_test_component())
                .map(|v| (v.id.to_string(), v.type_name.clone()))
                .collect();
            if !refused.is_empty() {
                return Err(GraphError::unsupported(refused));
            }
        }
        let subset = graph.subset(req.start_component_id.as_deref(), req.stop_component_id.as_deref())?;
        let overrides = graph.overrides(OverrideRequest {
            tweaks: req.tweaks.as_ref(),
            variables: Some(&req.variables),
            input: req.input.as_ref().map(|i| (i.input_value.as_str(), i.input_type)),
            stream: (req.mode == Mode::Run).then_some(req.stream),
        })?;
        let quiet = req.quiet;
        let session_id = req.session_id.filter(|s| !s.is_empty()).unwrap_or_else(|| req.flow_id.to_string());
        let (tx, rx) = mpsc::channel(self.inner.settings.event_capacity.max(1));
        let cancel = CancelToken::new();
        let run_id = Uuid::new_v4();
        let shared = Arc::new(BuildShared {
            graph,
            params: overrides.params,
            subset,
            mode: req.mode,
            flow_id: req.flow_id,
            user_id: req.user_id,
            session_id: session_id.clone(),
            run_id,
            variables: req.variables,
            environment_variables: req.environment_variables,
            messages: Some(self.inner.messages.clone()),
            events: tx,
            quiet,
            cancel: cancel.clone(),
            llm: self.inner.llm.clone(),
            limits: self.inner.settings.limits,
            tools: self.inner.settings.tools.clone(),
            files: self.inner.settings.files.clone(),
            bodies: &body::LoopBodies,
        });
        let (otx, orx) = oneshot::channel();
        let pool = self.inner.pool.clone();
        let deadline = self.inner.settings.build_deadline;
        let recorder = self.inner.settings.recorder.clone();
        let home = pool.next_index();
        let arbiter = pool.handle(home).clone();
        let supervisor = BuildSupervisor::start_in_arbiter(&arbiter, move |_| {
            BuildSupervisor::new(shared, pool, home, deadline, otx, recorder)
        });
        Ok(BuildHandle {
            run_id,
            session_id,
            events: rx,
            cancel: BuildCanceller { token: cancel, supervisor },
            outcome: orx,
            quiet,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<Engine>();
        send_sync::<BuildCanceller>();
        send::<BuildHandle>();
        send::<RunOutcome>();
    }

    /// The engine and the LLM client default to the values the server's settings table
    /// documents (both read `runtime_default!`).
    #[test]
    fn defaults_are_the_shared_ones() {
        let e = EngineSettings::default();
        assert_eq!(e.max_vertices, crate::runtime_default!(max_graph_vertices));
        assert_eq!(e.build_deadline, Duration::from_secs(crate::runtime_default!(build_deadline_seconds)));
        assert_eq!(e.limits.max_message_bytes, crate::runtime_default!(max_message_bytes));
        assert_eq!(e.limits.max_output_bytes, crate::runtime_default!(max_output_bytes));
        let l = LlmSettings::default();
        assert_eq!(l.timeout, Duration::from_secs(crate::runtime_default!(llm_timeout_seconds)));
        assert_eq!(l.max_retries, crate::runtime_default!(llm_max_retries));
        assert_eq!(l.retry_base_delay, Duration::from_millis(crate::runtime_default!(llm_retry_base_delay_ms)));
        assert_eq!(l.concurrency_per_provider, crate::runtime_default!(llm_concurrency_per_provider));
    }

    #[test]
    fn hashes_parse_from_hex() {
        let h = content_hash(b"flow");
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(parse_hash(&hex), Some(h));
        assert_eq!(parse_hash("zz"), None);
    }

    #[test]
    fn event_frames_end_with_a_blank_line() {
        let e = BuildEvent { name: "end", data: serde_json::json!({}) };
        assert_eq!(e.to_frame(), "{\"event\":\"end\",\"data\":{}}\n\n");
    }
}
