//! Components: the native implementations of Langflow's core components, looked up by the
//! node's `data.type` (never by its embedded Python code).
//!
//! A component is stateless and asynchronous: the engine hands it a [`ComponentContext`] (its
//! parameters, the build's ids, the message store, the event sink, the cancellation token) and
//! the values that arrived on its input edges, and it returns the values of its outputs. Being
//! async is what lets the LLM components await their provider and push `token` events through
//! the same context without the engine knowing about streaming.
//!
//! Components read their parameters and name their outputs through their declarations in
//! [`crate::catalog`]; they never import the engine: what one build shares lives here
//! ([`BuildEvent`], [`Mode`], [`CancelToken`], [`OutputLimits`]), and the one thing a component
//! asks of the engine, running a Loop's body, goes through [`BodyRunner`].

mod agent;
mod arxiv;
mod batch_run;
mod build;
mod burn;
mod calculator;
mod cancel;
mod chat_input;
mod chat_output;
mod combine_text;
mod conditional_router;
mod context;
mod delay;
mod file;
mod loop_component;
mod memory;
mod memory_base;
mod model_call;
mod parser;
mod pass;
mod prompt;
mod save_to_file;
mod split_text;
mod sql;
mod structured_output;
mod text_io;
mod tool_mode;
mod url;
pub mod value;
mod web;
mod web_search;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::catalog::Output;

pub use crate::catalog::ComponentKind;
pub(crate) use build::BuildShared;
pub use build::{BodyRunner, BuildEvent, Mode, OutputLimits};
pub use cancel::CancelToken;
pub(crate) use chat_output::with_output_leaf;
pub use context::{Args, ComponentContext};
pub(crate) use tool_mode::tool_outputs;
pub use value::{Data, Message, Properties, Source, ToolSet, Value};
pub use web::ToolSettings;

/// A boxed component future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a component did not produce its outputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentError {
    /// The component failed; the text is Langflow's reason (what follows "Error building
    /// Component X: ").
    #[error("{0}")]
    Failed(String),
    /// The build was cancelled (or its event stream was closed) while the component ran.
    #[error("cancelled")]
    Cancelled,
}

impl ComponentError {
    pub fn failed(reason: impl Into<String>) -> Self {
        Self::Failed(reason.into())
    }
}

/// A native component.
pub trait Component: Send + Sync + 'static {
    /// Computes the vertex's outputs (only those `ctx.wants(..)`, where that saves work).
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>>;
}

/// Wraps a synchronous result as a component future.
pub fn ready<'a>(result: Result<Outputs, ComponentError>) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
    Box::pin(std::future::ready(result))
}

/// One value that arrived (or did not, because its source was excluded) on an input edge.
#[derive(Debug, Clone)]
pub struct InputSlot {
    pub edge: usize,
    /// The vertex the edge enters (a Loop also collects edges entering its body).
    pub target: usize,
    pub field: Arc<str>,
    pub value: Option<Value>,
}

/// The values that arrived on a vertex's input edges, in edge order.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub(crate) vertex: usize,
    pub(crate) slots: Vec<InputSlot>,
}

impl Inputs {
    #[must_use]
    pub fn new(vertex: usize, slots: Vec<InputSlot>) -> Self {
        Self { vertex, slots }
    }

    /// The first value on `field` of this vertex.
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.slots.iter().filter(|s| s.target == self.vertex && &*s.field == field).find_map(|s| s.value.as_ref())
    }

    /// Every value on `field` of this vertex (list inputs).
    pub fn all<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.slots
            .iter()
            .filter(move |s| s.target == self.vertex && &*s.field == field)
            .filter_map(|s| s.value.as_ref())
    }

    /// True when some edge enters `field` (even if its source was excluded).
    #[must_use]
    pub fn connected(&self, field: &str) -> bool {
        self.slots.iter().any(|s| s.target == self.vertex && &*s.field == field)
    }

    #[must_use]
    pub fn slots(&self) -> &[InputSlot] {
        &self.slots
    }
}

/// What a component produced.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub(crate) values: Vec<(&'static str, Value)>,
    /// Outputs whose branch must not run (If-Else's losing side).
    pub(crate) stopped: Vec<&'static str>,
}

impl Outputs {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// One output with one value.
    #[must_use]
    pub fn one(output: &Output, value: Value) -> Self {
        Self { values: vec![(output.name, value)], stopped: Vec::new() }
    }

    pub fn set(&mut self, output: &Output, value: Value) -> &mut Self {
        self.values.push((output.name, value));
        self
    }

    /// Marks an output as stopped: its successors are excluded from the build.
    pub fn stop(&mut self, output: &Output) -> &mut Self {
        self.stopped.push(output.name);
        self
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Refuses an output larger than `limit` bytes (`FLOWACTOR_MAX_OUTPUT_BYTES`).
    ///
    /// # Errors
    /// [`ComponentError::Failed`] naming the output, its size and the limit.
    pub fn check_size(&self, limit: usize) -> Result<(), ComponentError> {
        for (name, value) in &self.values {
            if value.content_bytes() > limit {
                return Err(output_too_large(name, limit));
            }
        }
        Ok(())
    }
}

/// The failure of a component whose output would exceed the output bound.
#[must_use]
pub fn output_too_large(output: &str, limit: usize) -> ComponentError {
    ComponentError::Failed(format!(
        "The output '{output}' is larger than the limit of {limit} bytes (FLOWACTOR_MAX_OUTPUT_BYTES)"
    ))
}

/// The implementation of a component kind (the logic half of its registration; the
/// declaration half is the kind's [`crate::catalog::ComponentSpec`]).
#[must_use]
pub fn implementation(kind: ComponentKind) -> &'static dyn Component {
    match kind {
        ComponentKind::ChatInput => &chat_input::ChatInput,
        ComponentKind::ChatOutput => &chat_output::ChatOutput,
        ComponentKind::TextInput => &text_io::TextInput,
        ComponentKind::TextOutput => &text_io::TextOutput,
        ComponentKind::Prompt => &prompt::Prompt,
        ComponentKind::CombineText => &combine_text::CombineText,
        ComponentKind::ConditionalRouter => &conditional_router::ConditionalRouter,
        ComponentKind::Loop => &loop_component::LoopComponent,
        ComponentKind::Memory => &memory::Memory,
        ComponentKind::Parser => &parser::Parser,
        ComponentKind::File => &file::File,
        ComponentKind::SaveToFile => &save_to_file::SaveToFile,
        ComponentKind::SplitText => &split_text::SplitText,
        ComponentKind::Pass => &pass::Pass,
        ComponentKind::Delay => &delay::Delay,
        ComponentKind::Burn => &burn::Burn,
        ComponentKind::Webhook => &webhook::Webhook,
        ComponentKind::OpenAIModel | ComponentKind::LanguageModel | ComponentKind::AnthropicModel => {
            &model_call::LanguageModel
        }
        ComponentKind::Agent => &agent::Agent,
        ComponentKind::Url => &url::Url,
        ComponentKind::Calculator => &calculator::Calculator,
        ComponentKind::WebSearch => &web_search::WebSearch,
        ComponentKind::ArXiv => &arxiv::ArXiv,
        ComponentKind::SqlDatabase => &sql::SqlDatabase,
        ComponentKind::MemoryBase => &memory_base::MemoryBase,
        ComponentKind::StructuredOutput => &structured_output::StructuredOutput,
        ComponentKind::BatchRun => &batch_run::BatchRun,
    }
}

#[cfg(test)]
pub(crate) mod testing;
