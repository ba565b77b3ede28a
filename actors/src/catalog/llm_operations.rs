//! Components that put a model to one task (Langflow 1.13's `llm_operations`).

use super::{ComponentSpec, DefaultValue, Input, InputType, Output, Role};

/// Structured Output: the model fills the `output_schema` records from the input text, through
/// one forced function call (Langflow's trustcall extractor).
pub mod structured_output {
    use super::*;

    pub const MODEL: Input = Input::of_type("model", "Language Model", InputType::Model)
        .accepts(&["LanguageModel"])
        .required()
        .info("Select your model provider");
    pub const API_KEY: Input = Input::secret("api_key", "API Key")
        .advanced()
        .info("Overrides global provider settings. Leave blank to use your pre-configured API Key.");
    pub const INPUT_VALUE: Input = Input::message("input_value", "Input Message")
        .multiline()
        .required()
        .tool_mode()
        .info("The input message to the language model.");
    pub const SYSTEM_PROMPT: Input = Input::message("system_prompt", "Format Instructions")
        .multiline()
        .required()
        .advanced()
        .value(include_str!("agent_format_instructions.txt"))
        .info("The instructions to the language model for formatting the output.");
    pub const SCHEMA_NAME: Input =
        Input::message("schema_name", "Schema Name").advanced().info("Provide a name for the output data schema.");
    pub const OUTPUT_SCHEMA: Input = Input::of_type("output_schema", "Output Schema", InputType::Table)
        .default(DefaultValue::List)
        .required()
        .info("Define the structure and data types for the model's output.");

    pub const STRUCTURED_OUTPUT: Output =
        Output::new("structured_output", "Structured Output", &["Data", "JSON"], "build_structured_output");
    pub const DATAFRAME_OUTPUT: Output =
        Output::new("dataframe_output", "Structured Output", &["Table"], "build_structured_dataframe");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "StructuredOutput",
        aliases: &["StructuredOutputComponent"],
        class_name: "StructuredOutputComponent",
        category: "llm_operations",
        display_name: "Structured Output",
        description: "Uses an LLM to generate structured data. Ideal for extraction and consistency.",
        icon: "braces",
        role: Role::Other,
        test_only: false,
        inputs: &[MODEL, API_KEY, INPUT_VALUE, SYSTEM_PROMPT, SCHEMA_NAME, OUTPUT_SCHEMA],
        outputs: &[STRUCTURED_OUTPUT, DATAFRAME_OUTPUT],
    };
}
