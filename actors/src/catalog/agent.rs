//! The Agent (Langflow 1.13's `AgentComponent`): a model, instructions, chat history and
//! tools, run as one tool-calling loop (`crate::agent`). Its fields are those of the 1.13
//! starter templates; `tools` receives the `component_as_tool` outputs of other components.

use serde_json::Value as Json;

use super::models::{ModelChoice, Provider};
use super::{ComponentSpec, DefaultValue, Input, InputType, Output, Params, Role};

pub const MODEL: Input = Input::of_type("model", "Language Model", InputType::Model)
    .accepts(&["LanguageModel"])
    .required()
    .info("Select your model provider");
pub const API_KEY: Input = Input::secret("api_key", "API Key")
    .advanced()
    .load_from_db()
    .info("Overrides global provider settings. Leave blank to use your pre-configured API Key.");
pub const SYSTEM_PROMPT: Input = Input::message("system_prompt", "Agent Instructions")
    .multiline()
    .value(include_str!("agent_system_prompt.txt"))
    .info(
        "System Prompt: Initial instructions and context provided to guide the agent's behavior. Supports dynamic \
         placeholders: {current_date}, {model_name}, {optional_user_context}.",
    );
pub const CONTEXT_ID: Input = Input::message("context_id", "Context ID")
    .advanced()
    .info("The context ID of the chat. Adds an extra layer to the local memory.");
pub const N_MESSAGES: Input = Input::int("n_messages", "Number of Chat History Messages", 100)
    .advanced()
    .info("Number of chat history messages to retrieve.");
pub const MAX_TOKENS: Input = Input::int("max_tokens", "Max Tokens", 0)
    .advanced()
    .info("Maximum number of tokens to generate. Set to 0 for no explicit limit. Field name varies by provider.");
pub const FORMAT_INSTRUCTIONS: Input = Input::message("format_instructions", "Output Format Instructions")
    .multiline()
    .advanced()
    .value(include_str!("agent_format_instructions.txt"))
    .info("Generic Template for structured output formatting. Valid only with Structured response.");
pub const OUTPUT_SCHEMA: Input =
    Input::of_type("output_schema", "Output Schema", InputType::Table).default(DefaultValue::List).advanced().info(
        "Schema Validation: Define the structure and data types for structured output. No validation if no output \
         schema.",
    );
pub const TOOLS: Input = Input::handle("tools", "Tools", &["Tool"])
    .list()
    .info("These are the tools that the agent can use to help with tasks.");
pub const INPUT_VALUE: Input = Input::message("input_value", "Input")
    .message_input()
    .tool_mode()
    .info("The input provided by the user for the agent to process.");
pub const HANDLE_PARSING_ERRORS: Input =
    Input::bool("handle_parsing_errors", "Handle Parse Errors", true).advanced().info(
        "Adds tool-execution retry as a safety net (Langflow's ToolRetryMiddleware); component tools already report \
         their failures to the model.",
    );
pub const MAX_ITERATIONS: Input = Input::int("max_iterations", "Max Iterations", 15)
    .advanced()
    .info("Maximum number of model calls the agent can make before stopping. Must be at least 1.");
pub const STREAM: Input = Input::bool("stream", "Stream", false)
    .advanced()
    .info("Stream the response from the model. Streaming works only in Chat.");
pub const ADD_CURRENT_DATE_TOOL: Input = Input::bool("add_current_date_tool", "Current Date", true)
    .advanced()
    .info("If true, will add a tool to the agent that returns the current date.");
pub const ADD_CALCULATOR_TOOL: Input = Input::bool("add_calculator_tool", "Calculator", true)
    .advanced()
    .info("If true, adds a zero-config arithmetic calculator tool to the agent.");
/// The node's "Actions" table (tool-mode overrides of the tools it offers).
pub const TOOLS_METADATA: Input = Input::of_type("tools_metadata", "Actions", InputType::Table).hidden();

pub const RESPONSE: Output = Output::new("response", "Response", &["Message"], "message_response");
pub const STRUCTURED_RESPONSE: Output =
    Output::new("structured_response", "Structured Response", &["Data", "JSON"], "json_response");

pub const SPEC: ComponentSpec = ComponentSpec {
    type_name: "Agent",
    aliases: &["AgentComponent"],
    class_name: "AgentComponent",
    category: "models_and_agents",
    display_name: "Agent",
    description: "Define the agent's instructions, then enter a task to complete using tools.",
    icon: "bot",
    role: Role::Other,
    test_only: false,
    inputs: &[
        MODEL,
        API_KEY,
        SYSTEM_PROMPT,
        CONTEXT_ID,
        N_MESSAGES,
        MAX_TOKENS,
        FORMAT_INSTRUCTIONS,
        OUTPUT_SCHEMA,
        TOOLS,
        INPUT_VALUE,
        HANDLE_PARSING_ERRORS,
        MAX_ITERATIONS,
        STREAM,
        ADD_CURRENT_DATE_TOOL,
        ADD_CALCULATOR_TOOL,
    ],
    outputs: &[RESPONSE, STRUCTURED_RESPONSE],
};

/// The selected model: `model[0]`'s name and provider (a bare name means OpenAI).
///
/// # Errors
/// Langflow's texts for no selection, and flowactor's for a provider it cannot call.
pub fn choice(params: &Params) -> Result<ModelChoice, String> {
    let text = |v: Option<&Json>| v.and_then(Json::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let (name, provider) = match MODEL.param(params) {
        Some(Json::Array(options)) => {
            options.first().map_or((None, None), |o| (text(o.get("name")), text(o.get("provider"))))
        }
        Some(o @ Json::Object(_)) => (text(o.get("name")), text(o.get("provider"))),
        Some(Json::String(s)) if !s.trim().is_empty() => (Some(s.trim().to_owned()), None),
        _ => (None, None),
    };
    let model =
        name.ok_or_else(|| "No model selected. Please select a language model from the available options.".to_owned())?;
    let provider_name = provider.unwrap_or_else(|| Provider::OpenAi.name().into());
    let provider = Provider::parse(&provider_name).ok_or_else(|| {
        format!(
            "Provider '{provider_name}' is not supported by flowactor; supported providers: OpenAI, Anthropic, Ollama"
        )
    })?;
    Ok(ModelChoice { provider, model, base_url: None })
}
