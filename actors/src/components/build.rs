//! What one build shares, read-only, between the engine and every component it runs: the
//! graph, the per-vertex parameters, the ids, the event stream, the cancellation token and the
//! limits. The types live here, below the engine, so components never import the engine; the
//! one thing a component asks of the engine — running a Loop's body — goes through
//! [`BodyRunner`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value as Json;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::graph::{CompiledGraph, Params, Subset};
use crate::llm::LlmRuntime;
use crate::store::messages::MessageStore;

use super::{BoxFuture, CancelToken, ComponentContext, ComponentError, Inputs, Value};

/// Which of Langflow's two execution paths a build follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// `/api/v1/run`: session forced on every vertex, only message events, any failure fails
    /// the run.
    #[default]
    Run,
    /// `/api/v1/build` (the Playground): full vertex events, a failing branch does not stop the
    /// others.
    Build,
}

/// One event of a build, already in Langflow's payload shape.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildEvent {
    pub name: &'static str,
    pub data: Json,
}

impl BuildEvent {
    /// `{"event": name, "data": data}`.
    #[must_use]
    pub fn to_json(&self) -> Json {
        serde_json::json!({ "event": self.name, "data": self.data })
    }

    /// Langflow's wire framing: the JSON object followed by a blank line.
    #[must_use]
    pub fn to_frame(&self) -> String {
        let mut s = self.to_json().to_string();
        s.push_str("\n\n");
        s
    }
}

/// Size bounds that keep one run from growing messages and outputs without limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// Largest text of a chat message, in bytes; a larger message fails its component.
    pub max_message_bytes: usize,
    /// Largest value of one component output (its text, or its JSON), in bytes; a larger
    /// output fails its component.
    pub max_output_bytes: usize,
}

impl Default for OutputLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: crate::runtime_default!(max_message_bytes),
            max_output_bytes: crate::runtime_default!(max_output_bytes),
        }
    }
}

/// Runs a Loop's body for one item (the engine's job, asked for by the Loop component).
pub trait BodyRunner: Send + Sync {
    /// Runs the body of the Loop `ctx` belongs to with `item` on its looping outputs; returns
    /// the value that came back on the feedback edge.
    fn run_body<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
        item: Value,
    ) -> BoxFuture<'a, Result<Option<Value>, ComponentError>>;
}

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
    /// Endpoints and bounds of the tool components.
    pub tools: super::ToolSettings,
    /// Uploaded files (`None` in unit tests).
    pub files: Option<crate::store::files::Files>,
    /// Runs Loop bodies.
    pub bodies: &'static dyn BodyRunner,
}
