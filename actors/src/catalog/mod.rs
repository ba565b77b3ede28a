//! The component catalogue: which component types exist, their names, and the declaration of
//! every input and output they have. A leaf module — it depends on nothing else in the crate —
//! so the layers stay strictly `catalog ← graph ← components ← engine`.
//!
//! Each component is declared once, as `const` data ([`ComponentSpec`], [`Input`],
//! [`Output`]), in the file of its catalogue category. The graph reads the names and outputs
//! from here, the components read their parameters through the same constants, and the same
//! declarations produce Langflow's `/api/v1/all` catalogue ([`langflow_all`]) and the JSON
//! schema of a component used as an agent's tool ([`tool_schema`]).
//!
//! Adding a component: declare its [`ComponentSpec`] in a category file, add one line to the
//! `kinds!` table below, and write its logic in `components/` (one file plus its line in
//! `components::implementation`).

pub mod agent;
mod decl;
pub mod files;
pub mod flow_controls;
pub mod flowactor;
pub mod io;
mod langflow;
pub mod llm_operations;
pub mod models;
mod params;
pub mod processing;
pub mod tools;

pub use decl::{ComponentSpec, DefaultValue, Input, InputType, Output, Role};
pub use langflow::{langflow_all, node_template, tool_schema, tool_schema_for, ToolSchema};
pub use params::{json_text, Params};

/// Declares the component kinds: the enum, the list of all kinds and each kind's spec.
macro_rules! kinds {
    ($($(#[doc = $doc:literal])* $variant:ident => $spec:path,)*) => {
        /// The component types flowactor implements.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ComponentKind {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ComponentKind {
            /// Every kind, in catalogue order.
            pub const ALL: &'static [ComponentKind] = &[$(Self::$variant,)*];

            /// The kind's declaration.
            #[must_use]
            pub fn spec(self) -> &'static ComponentSpec {
                match self {
                    $(Self::$variant => &$spec,)*
                }
            }
        }
    };
}

kinds! {
    ChatInput => io::chat_input::SPEC,
    ChatOutput => io::chat_output::SPEC,
    TextInput => io::text_input::SPEC,
    TextOutput => io::text_output::SPEC,
    Prompt => processing::prompt::SPEC,
    CombineText => processing::combine_text::SPEC,
    ConditionalRouter => flow_controls::conditional_router::SPEC,
    Loop => flow_controls::loop_component::SPEC,
    Memory => processing::memory::SPEC,
    Parser => processing::parser::SPEC,
    /// Read File: the text of uploaded files.
    File => files::file::SPEC,
    /// Save File: writes its input into the user's files.
    SaveToFile => files::save_to_file::SPEC,
    SplitText => processing::split_text::SPEC,
    Pass => flow_controls::pass::SPEC,
    /// flowactor extension: waits, then passes its input through.
    Delay => flowactor::delay::SPEC,
    /// flowactor extension: spins the CPU, then passes its input through.
    Burn => flowactor::burn::SPEC,
    /// The input vertex of `/api/v1/webhook`.
    Webhook => io::webhook::SPEC,
    /// OpenAI (≤1.x starters); any OpenAI-compatible server through `openai_api_base`.
    OpenAIModel => models::openai::SPEC,
    /// Language Model (1.13): OpenAI, Anthropic or Ollama, chosen by the `model` option.
    LanguageModel => models::language_model::SPEC,
    /// Anthropic's Claude models.
    AnthropicModel => models::anthropic::SPEC,
    /// Agent (1.13): a model with instructions, chat history and tools, as one tool loop.
    Agent => agent::SPEC,
    /// URL: fetches web pages (tool `fetch_content`).
    Url => tools::url::SPEC,
    /// Calculator (tool `evaluate_expression`).
    Calculator => tools::calculator::SPEC,
    /// Web Search: web, news or an RSS feed (tool `perform_search`).
    WebSearch => tools::web_search::SPEC,
    /// arXiv: paper search over arXiv's Atom API (tool `search_papers_dataframe`).
    ArXiv => tools::arxiv::SPEC,
    /// SQL Database: SQLite or PostgreSQL (tool `run_sql_query`).
    SqlDatabase => tools::sql::SPEC,
    /// Memory Base: vector-store memory retrieval (tool `retrieve_memory`).
    MemoryBase => files::memory_base::SPEC,
    /// Structured Output: a model fills an output schema (forced function calling).
    StructuredOutput => llm_operations::structured_output::SPEC,
    /// Batch Run: a model answers every row of a DataFrame.
    BatchRun => llm_operations::batch_run::SPEC,
}

impl ComponentKind {
    /// Resolves a Langflow type name (`data.type`, a class name or an id prefix).
    #[must_use]
    pub fn from_type_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.spec().answers_to(name))
    }

    /// The flowactor test components (`Delay`, `Burn`), which run only when the engine allows
    /// them.
    #[must_use]
    pub fn is_test_component(self) -> bool {
        self.spec().test_only
    }

    /// Input vertices receive the run input (Langflow's `is_input`).
    #[must_use]
    pub fn is_input(self) -> bool {
        self.spec().role == Role::Input
    }

    /// Output vertices are what `/run` reports (Langflow's `is_output`).
    #[must_use]
    pub fn is_output(self) -> bool {
        self.spec().role == Role::Output
    }

    /// Interface vertices build a chat artifact (`artifacts`, `messages`) in their results.
    #[must_use]
    pub fn is_interface(self) -> bool {
        self.is_input() || self.is_output()
    }

    /// Output names used when a node carries no `outputs` list (hand-written flows): the
    /// current template's outputs, without the legacy ones.
    pub fn default_outputs(self) -> impl Iterator<Item = &'static str> {
        self.spec().outputs.iter().filter(|o| !o.legacy).map(|o| o.name)
    }
}

#[cfg(test)]
mod tests;
