//! Components that put a model to one task (Langflow 1.13's `llm_operations`).

use super::{ComponentSpec, DefaultValue, Input, InputType, Output, Role};

/// The provider key both components take (unlike the Agent's, not read from a variable name).
const API_KEY: Input = Input::secret("api_key", "API Key")
    .advanced()
    .info("Overrides global provider settings. Leave blank to use your pre-configured API Key.");

/// Structured Output: the model fills the `output_schema` records from the input text, through
/// one forced function call (Langflow's trustcall extractor).
pub mod structured_output {
    use super::*;

    /// The Agent's model input, unchanged.
    pub const MODEL: Input = super::super::agent::MODEL;
    pub const API_KEY: Input = super::API_KEY;
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

/// Batch Run: the model answers every row of a DataFrame, one conversation per row.
pub mod batch_run {
    use super::*;

    /// The Agent's model input, unchanged.
    pub const MODEL: Input = super::super::agent::MODEL;
    pub const API_KEY: Input = super::API_KEY;
    pub const SYSTEM_MESSAGE: Input = Input::message("system_message", "Instructions")
        .multiline()
        .info("Multi-line system instruction for all rows in the DataFrame.");
    pub const DF: Input = Input::handle("df", "Table", &["DataFrame", "Table"])
        .required()
        .info("The DataFrame whose column (specified by 'column_name') we'll treat as text messages.");
    pub const COLUMN_NAME: Input = Input::message("column_name", "Column Name").info(
        "The name of the DataFrame column to treat as text messages. If empty, all columns will be formatted in TOML.",
    );
    pub const OUTPUT_COLUMN_NAME: Input = Input::message("output_column_name", "Output Column Name")
        .value("model_response")
        .advanced()
        .info("Name of the column where the model's response will be stored.");
    pub const ENABLE_METADATA: Input = Input::bool("enable_metadata", "Enable Metadata", false)
        .advanced()
        .info("If True, add metadata to the output DataFrame.");

    pub const BATCH_RESULTS: Output = Output::new("batch_results", "LLM Results", &["DataFrame", "Table"], "run_batch")
        .info("A DataFrame with all original columns plus the model's response column.");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "BatchRunComponent",
        aliases: &[],
        class_name: "BatchRunComponent",
        category: "llm_operations",
        display_name: "Batch Run",
        description: "Runs an LLM on each row of a DataFrame column. If no column is specified, all columns are used.",
        icon: "List",
        role: Role::Other,
        test_only: false,
        inputs: &[MODEL, API_KEY, SYSTEM_MESSAGE, DF, COLUMN_NAME, OUTPUT_COLUMN_NAME, ENABLE_METADATA],
        outputs: &[BATCH_RESULTS],
    };
}
