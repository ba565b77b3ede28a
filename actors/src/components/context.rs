//! What a running component may see and do: its own parameters and vertex, the build's ids and
//! session, the message store, the event stream and the cancellation token. Components reach
//! the rest of the engine only through here.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value as Json;
use uuid::Uuid;

use crate::catalog::{Input, Output};
use crate::clock::{now_micros, Micros};
use crate::graph::{Params, Vertex};
use crate::store::messages::MessageStore;

use super::{BuildEvent, BuildShared, CancelToken, ComponentError, Inputs, Message, Mode, OutputLimits, Value};

/// The context of one vertex in one build. Cheap to clone.
#[derive(Clone)]
pub struct ComponentContext {
    pub(crate) shared: Arc<BuildShared>,
    pub(crate) vertex: usize,
    /// Set when the vertex runs as an agent's tool.
    pub(crate) tool: Option<Arc<ToolScope>>,
}

/// A vertex run as a tool: its parameters with the model's arguments on its tool-mode fields,
/// and the one output the tool returns.
pub(crate) struct ToolScope {
    pub(crate) params: Params,
    pub(crate) output: &'static str,
}

impl ComponentContext {
    pub(crate) fn new(shared: Arc<BuildShared>, vertex: usize) -> Self {
        Self { shared, vertex, tool: None }
    }

    /// The context of `vertex` of this build run as a tool.
    pub(crate) fn for_tool(&self, vertex: usize, scope: ToolScope) -> Self {
        Self { shared: self.shared.clone(), vertex, tool: Some(Arc::new(scope)) }
    }

    /// The template parameters of another vertex of this build.
    pub(crate) fn params_of(&self, vertex: usize) -> &Params {
        &self.shared.params[vertex]
    }

    #[must_use]
    pub fn vertex(&self) -> &Vertex {
        &self.shared.graph.vertices[self.vertex]
    }

    #[must_use]
    pub fn vertex_index(&self) -> usize {
        self.vertex
    }

    #[must_use]
    pub fn id(&self) -> &str {
        &self.vertex().id
    }

    #[must_use]
    pub fn display_name(&self) -> &str {
        &self.vertex().display_name
    }

    /// This vertex's parameters for this build (template values plus overrides).
    #[must_use]
    pub fn params(&self) -> &Params {
        match &self.tool {
            Some(t) => &t.params,
            None => &self.shared.params[self.vertex],
        }
    }

    /// Typed access to inputs with parameter fallback.
    #[must_use]
    pub fn args<'a>(&'a self, inputs: &'a Inputs) -> Args<'a> {
        Args { params: self.params(), inputs }
    }

    /// Whether an output is needed (it has a consumer, or the vertex has none).
    #[must_use]
    pub fn wants(&self, output: &Output) -> bool {
        if let Some(t) = &self.tool {
            return t.output == output.name;
        }
        let v = self.vertex();
        v.output_index(output.name).is_some_and(|i| v.computed.get(i).copied().unwrap_or(true))
    }

    #[must_use]
    pub fn flow_id(&self) -> Uuid {
        self.shared.flow_id
    }

    /// The user the build runs for, if known.
    #[must_use]
    pub fn user_id(&self) -> Option<Uuid> {
        self.shared.user_id
    }

    #[must_use]
    pub fn run_id(&self) -> Uuid {
        self.shared.run_id
    }

    #[must_use]
    pub fn mode(&self) -> Mode {
        self.shared.mode
    }

    /// The session this vertex writes to: `/run` forces the run session on every vertex;
    /// `/build` keeps a component's own non-empty `session_id` (Langflow's rule: a component's own session wins in the Playground).
    #[must_use]
    pub fn session_for<'a>(&'a self, own: &'a str) -> &'a str {
        match self.shared.mode {
            Mode::Build if !own.is_empty() => own,
            _ => &self.shared.session_id,
        }
    }

    /// The build's session.
    #[must_use]
    pub fn run_session(&self) -> &str {
        &self.shared.session_id
    }

    #[must_use]
    pub fn messages(&self) -> Option<&MessageStore> {
        self.shared.messages.as_ref()
    }

    /// The uploaded-file store, when the engine has one.
    #[must_use]
    pub fn files(&self) -> Option<&crate::store::files::Files> {
        self.shared.files.as_ref()
    }

    /// The engine's LLM provider client (HTTP client, limits, settings).
    #[must_use]
    pub fn llm(&self) -> &crate::llm::LlmRuntime {
        &self.shared.llm
    }

    /// The tool components' endpoints, bounds and HTTP client.
    #[must_use]
    pub fn tools(&self) -> &super::ToolSettings {
        &self.shared.tools
    }

    #[must_use]
    pub fn cancel_token(&self) -> &CancelToken {
        &self.shared.cancel
    }

    /// A resolved global variable.
    #[must_use]
    pub fn variable(&self, name: &str) -> Option<&str> {
        self.shared.variables.get(name).map(String::as_str)
    }

    /// Whether that variable's value came from the server's environment rather than from the
    /// flow owner (their variables or their request).
    #[must_use]
    pub fn variable_from_environment(&self, name: &str) -> bool {
        self.shared.environment_variables.contains(name)
    }

    #[must_use]
    pub fn now(&self) -> Micros {
        now_micros()
    }

    /// The vertex feeding `field` of this vertex, if an edge does.
    #[must_use]
    pub fn source_of(&self, field: &Input) -> Option<&Vertex> {
        let g = &self.shared.graph;
        self.vertex()
            .in_edges
            .iter()
            .map(|&e| &g.edges[e])
            .find(|e| &*e.field == field.name && !e.feedback)
            .map(|e| &g.vertices[e.source])
    }

    /// Sends one event to the build's stream, waiting while the stream is full (a slow reader
    /// slows the build down instead of growing a queue).
    ///
    /// # Errors
    /// [`ComponentError::Cancelled`] once nobody reads the stream any more.
    pub async fn emit(&self, name: &'static str, data: Json) -> Result<(), ComponentError> {
        if self.shared.quiet {
            return Ok(());
        }
        self.shared.events.send(BuildEvent { name, data }).await.map_err(|_| ComponentError::Cancelled)
    }

    /// Langflow's `send_message`: gives the message an id, stores it (upsert by id) when
    /// `store` is set and the message has a session, and emits `add_message`.
    ///
    /// # Errors
    /// Storage failures, or [`ComponentError::Cancelled`].
    pub async fn send_message(&self, mut msg: Message, store: bool) -> Result<Message, ComponentError> {
        self.check_message_size(msg.text.len())?;
        if msg.id.is_none() {
            // Time-ordered ids: the id index then grows at its end instead of at random places.
            msg.id = Some(Uuid::now_v7());
        }
        if msg.flow_id.is_none() {
            msg.flow_id = Some(self.shared.flow_id);
        }
        if store && msg.session_id.as_deref().is_some_and(|s| !s.is_empty()) {
            if let (Some(ms), Some(rec)) = (self.messages(), msg.to_record()) {
                ms.upsert(&rec).map_err(|e| ComponentError::failed(format!("could not store the message: {e}")))?;
            }
        }
        self.emit("add_message", msg.event_json()).await?;
        Ok(msg)
    }

    /// The size bounds of this build.
    #[must_use]
    pub fn limits(&self) -> OutputLimits {
        self.shared.limits
    }

    /// Refuses a message text of `len` bytes when it exceeds `FLOWACTOR_MAX_MESSAGE_BYTES`.
    ///
    /// # Errors
    /// [`ComponentError::Failed`] naming the size and the limit.
    pub fn check_message_size(&self, len: usize) -> Result<(), ComponentError> {
        let limit = self.shared.limits.max_message_bytes;
        if len > limit {
            return Err(ComponentError::failed(format!(
                "The message is {len} bytes, more than the limit of {limit} bytes (FLOWACTOR_MAX_MESSAGE_BYTES)"
            )));
        }
        Ok(())
    }

    /// Starts streaming a message (Langflow's LLM path): the message, in state "partial", is
    /// stored as a placeholder and announced with `add_message`. Chunks then go out with
    /// [`ComponentContext::send_token`], and [`ComponentContext::send_message`] with the same
    /// message (state "complete", full text) finalises the stored row.
    ///
    /// # Errors
    /// Storage failures, or [`ComponentError::Cancelled`].
    pub async fn begin_stream(&self, mut msg: Message) -> Result<Message, ComponentError> {
        msg.properties.state = "partial";
        self.send_message(msg, true).await
    }

    /// Whether this vertex feeds a Chat Output directly — Langflow streams tokens only then.
    #[must_use]
    pub fn feeds_chat_output(&self) -> bool {
        let g = &self.shared.graph;
        self.vertex().out_edges.iter().any(|&e| g.vertices[g.edges[e].target].kind == super::ComponentKind::ChatOutput)
    }

    /// Emits one streamed chunk of the message `id` (the message itself was announced with
    /// `add_message` in state "partial").
    ///
    /// # Errors
    /// [`ComponentError::Cancelled`].
    pub async fn send_token(&self, id: Uuid, chunk: &str) -> Result<(), ComponentError> {
        self.emit("token", serde_json::json!({ "chunk": chunk, "id": id.to_string() })).await
    }

    /// Runs this Loop's body once for `item` and returns what came back on the feedback edge.
    ///
    /// # Errors
    /// The first failing body component's error.
    pub async fn run_loop_body(&self, inputs: &Inputs, item: Value) -> Result<Option<Value>, ComponentError> {
        self.shared.bodies.run_body(self, inputs, item).await
    }

    /// Fills in the fields every message this vertex sends carries.
    #[must_use]
    pub fn new_message(&self, text: String) -> Message {
        let mut m = Message::text(text, now_micros());
        m.flow_id = Some(self.shared.flow_id);
        m.run_id = Some(self.shared.run_id);
        m
    }
}

/// Reads a component's arguments through their declarations: the value on the input edge if
/// one arrived, else the parameter, else the declared default.
pub struct Args<'a> {
    params: &'a Params,
    inputs: &'a Inputs,
}

impl<'a> Args<'a> {
    /// Text of an argument (`""` when neither an edge nor the flow sets it).
    #[must_use]
    pub fn text(&self, input: &Input) -> Cow<'a, str> {
        self.field_text(input.name)
    }

    /// [`Args::text`], with the declared default in place of an empty text.
    #[must_use]
    pub fn text_or_default(&self, input: &Input) -> Cow<'a, str> {
        match self.text(input) {
            t if t.is_empty() => Cow::Borrowed(input.default_text()),
            t => t,
        }
    }

    /// Text of a field that is not declared: the variables Prompt Template's `template`
    /// creates.
    #[must_use]
    pub fn field_text(&self, name: &str) -> Cow<'a, str> {
        match self.inputs.get(name) {
            Some(v) => v.text(),
            None => self.params.text(name),
        }
    }

    /// The value that arrived on the input's edge.
    #[must_use]
    pub fn value(&self, input: &Input) -> Option<&'a Value> {
        self.inputs.get(input.name)
    }

    /// Every value on the input's edges (list inputs).
    pub fn values(&self, input: &'a Input) -> impl Iterator<Item = &'a Value> + 'a {
        self.inputs.all(input.name)
    }

    #[must_use]
    pub fn param(&self, input: &Input) -> Option<&'a Json> {
        input.param(self.params)
    }

    /// A bool parameter, else the declared default.
    #[must_use]
    pub fn bool(&self, input: &Input) -> bool {
        input.bool_in(self.params)
    }

    /// An integer argument (edge text or parameter), else the declared default.
    #[must_use]
    pub fn int(&self, input: &Input) -> i64 {
        match self.inputs.get(input.name) {
            Some(v) => input.int_from_text(&v.text()),
            None => input.int_in(self.params),
        }
    }

    /// Text of a parameter only, ignoring edges.
    #[must_use]
    pub fn param_text(&self, input: &Input) -> Cow<'a, str> {
        input.text_in(self.params)
    }

    /// [`Args::param_text`], or the declared default when the flow does not have the field.
    #[must_use]
    pub fn param_or_default(&self, input: &Input) -> Cow<'a, str> {
        match self.params.get(input.name) {
            None => Cow::Borrowed(input.default_text()),
            Some(_) => self.param_text(input),
        }
    }
}
