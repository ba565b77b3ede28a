//! Components: the native implementations of Langflow's core components, looked up by the
//! node's `data.type` (never by its embedded Python code).
//!
//! A component is stateless and asynchronous: the engine hands it a [`ComponentContext`] (its
//! parameters, the build's ids, the message store, the event sink, the cancellation token) and
//! the values that arrived on its input edges, and it returns the values of its outputs. Being
//! async is what lets the LLM components await their provider and push `token` events through
//! the same context without the engine knowing about streaming.

mod anthropic_model;
mod burn;
mod chat_input;
mod chat_output;
mod combine_text;
mod conditional_router;
mod context;
mod delay;
mod language_model;
mod loop_component;
mod memory;
mod model_call;
mod openai_model;
mod parser;
mod pass;
mod prompt;
mod split_text;
mod text_io;
pub mod value;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use context::{Args, ComponentContext};
pub(crate) use model_call::implied_variables;
pub use value::{Data, Message, Properties, Source, Value};

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
    pub fn one(name: &'static str, value: Value) -> Self {
        Self { values: vec![(name, value)], stopped: Vec::new() }
    }

    pub fn set(&mut self, name: &'static str, value: Value) -> &mut Self {
        self.values.push((name, value));
        self
    }

    /// Marks an output as stopped: its successors are excluded from the build.
    pub fn stop(&mut self, name: &'static str) -> &mut Self {
        self.stopped.push(name);
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

/// The component types flowactor implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComponentKind {
    ChatInput,
    ChatOutput,
    TextInput,
    TextOutput,
    Prompt,
    CombineText,
    ConditionalRouter,
    Loop,
    Memory,
    Parser,
    SplitText,
    Pass,
    /// flowactor extension: waits, then passes its input through.
    Delay,
    /// flowactor extension: spins the CPU, then passes its input through.
    Burn,
    /// The input vertex of `/api/v1/webhook`.
    Webhook,
    /// OpenAI (≤1.x starters); any OpenAI-compatible server through `openai_api_base`.
    OpenAIModel,
    /// Language Model (1.13): OpenAI, Anthropic or Ollama, chosen by the `model` option.
    LanguageModel,
    /// Anthropic's Claude models.
    AnthropicModel,
}

impl ComponentKind {
    /// Resolves a Langflow type name (`data.type`, a class name or an id prefix).
    #[must_use]
    pub fn from_type_name(name: &str) -> Option<Self> {
        Some(match name {
            "ChatInput" => Self::ChatInput,
            "ChatOutput" => Self::ChatOutput,
            "TextInput" | "TextInputComponent" => Self::TextInput,
            "TextOutput" | "TextOutputComponent" => Self::TextOutput,
            "Prompt" | "Prompt Template" | "PromptComponent" | "PromptTemplate" => Self::Prompt,
            "CombineText" | "CombineTextComponent" => Self::CombineText,
            "ConditionalRouter" | "ConditionalRouterComponent" | "If-Else" => Self::ConditionalRouter,
            "LoopComponent" | "Loop" => Self::Loop,
            "Memory" | "MemoryComponent" => Self::Memory,
            "ParserComponent" | "parser" | "Parser" | "ParseData" | "ParseDataComponent" => Self::Parser,
            "SplitText" | "SplitTextComponent" => Self::SplitText,
            "Pass" | "PassMessageComponent" => Self::Pass,
            "Delay" => Self::Delay,
            "Burn" => Self::Burn,
            "Webhook" | "WebhookComponent" => Self::Webhook,
            "OpenAIModel" | "OpenAIModelComponent" => Self::OpenAIModel,
            "LanguageModelComponent" | "Language Model" => Self::LanguageModel,
            "AnthropicModel" | "AnthropicModelComponent" => Self::AnthropicModel,
            _ => return None,
        })
    }

    /// The flowactor test components (`Delay`, `Burn`), which run only when the engine allows
    /// them.
    #[must_use]
    pub fn is_test_component(self) -> bool {
        matches!(self, Self::Delay | Self::Burn)
    }

    /// Input vertices receive the run input (Langflow's `is_input`).
    #[must_use]
    pub fn is_input(self) -> bool {
        matches!(self, Self::ChatInput | Self::TextInput | Self::Webhook)
    }

    /// Output vertices are what `/run` reports (Langflow's `is_output`).
    #[must_use]
    pub fn is_output(self) -> bool {
        matches!(self, Self::ChatOutput | Self::TextOutput)
    }

    /// Interface vertices build a chat artifact (`artifacts`, `messages`) in their results.
    #[must_use]
    pub fn is_interface(self) -> bool {
        self.is_input() || self.is_output()
    }

    /// Output names used when a node carries no `outputs` list (hand-written flows).
    #[must_use]
    pub fn default_outputs(self) -> &'static [&'static str] {
        match self {
            Self::ChatInput | Self::ChatOutput => &["message"],
            Self::TextInput | Self::TextOutput => &["text"],
            Self::Prompt => &["prompt"],
            Self::CombineText => &["combined_text"],
            Self::ConditionalRouter => &["true_result", "false_result"],
            Self::Loop => &["item", "done"],
            Self::Memory => &["messages_text", "dataframe"],
            Self::Parser => &["parsed_text"],
            Self::SplitText => &["dataframe"],
            Self::Pass => &["output_message"],
            Self::Delay | Self::Burn => &["output"],
            Self::Webhook => &["output_data"],
            Self::OpenAIModel | Self::LanguageModel | Self::AnthropicModel => &["text_output", "model_output"],
        }
    }

    /// The implementation.
    #[must_use]
    pub fn component(self) -> &'static dyn Component {
        match self {
            Self::ChatInput => &chat_input::ChatInput,
            Self::ChatOutput => &chat_output::ChatOutput,
            Self::TextInput => &text_io::TextInput,
            Self::TextOutput => &text_io::TextOutput,
            Self::Prompt => &prompt::Prompt,
            Self::CombineText => &combine_text::CombineText,
            Self::ConditionalRouter => &conditional_router::ConditionalRouter,
            Self::Loop => &loop_component::LoopComponent,
            Self::Memory => &memory::Memory,
            Self::Parser => &parser::Parser,
            Self::SplitText => &split_text::SplitText,
            Self::Pass => &pass::Pass,
            Self::Delay => &delay::Delay,
            Self::Burn => &burn::Burn,
            Self::Webhook => &webhook::Webhook,
            Self::OpenAIModel => &openai_model::OpenAIModel,
            Self::LanguageModel => &language_model::LanguageModel,
            Self::AnthropicModel => &anthropic_model::AnthropicModel,
        }
    }
}

#[cfg(test)]
pub(crate) mod testing;
