//! Text and data processing (Langflow's `processing` and `models_and_agents` helpers).

use super::{ComponentSpec, Input, InputType, Output, Role};

/// Prompt Template: `{variable}` substitution. Its variables are extra template fields Langflow
/// adds per `{variable}`; they are read by name from the template, not declared here.
pub mod prompt {
    use super::*;

    pub const TEMPLATE: Input = Input::of_type("template", "Template", InputType::Prompt);
    pub const USE_DOUBLE_BRACKETS: Input = Input::bool("use_double_brackets", "Use Double Brackets", false)
        .advanced()
        .info("Use {{variable}} syntax instead of {variable}.");
    pub const TOOL_PLACEHOLDER: Input = Input::message("tool_placeholder", "Tool Placeholder")
        .advanced()
        .tool_mode()
        .info("A placeholder input for tool mode.");
    pub const PROMPT: Output = Output::new("prompt", "Prompt", &["Message"], "build_prompt");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "Prompt",
        aliases: &["Prompt Template", "PromptComponent", "PromptTemplate"],
        class_name: "PromptComponent",
        category: "models_and_agents",
        display_name: "Prompt Template",
        description: "Create a prompt template with dynamic variables.",
        icon: "prompts",
        role: Role::Other,
        test_only: false,
        inputs: &[TEMPLATE, USE_DOUBLE_BRACKETS, TOOL_PLACEHOLDER],
        outputs: &[PROMPT],
    };
}

/// Combine Text: `text1 + delimiter + text2`.
pub mod combine_text {
    use super::*;

    pub const TEXT1: Input = Input::message("text1", "First Text").info("The first text input to concatenate.");
    pub const TEXT2: Input = Input::message("text2", "Second Text").info("The second text input to concatenate.");
    pub const DELIMITER: Input = Input::message("delimiter", "Delimiter")
        .value(" ")
        .info("A string used to separate the two text inputs. Defaults to a whitespace.");
    pub const COMBINED_TEXT: Output = Output::new("combined_text", "Combined Text", &["Message"], "combine_texts");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "CombineText",
        aliases: &["CombineTextComponent"],
        class_name: "CombineTextComponent",
        category: "processing",
        display_name: "Combine Text",
        description: "Concatenate two text sources into a single text chunk using a specified delimiter.",
        icon: "merge",
        role: Role::Other,
        test_only: false,
        inputs: &[TEXT1, TEXT2, DELIMITER],
        outputs: &[COMBINED_TEXT],
    };
}

/// Message History: the last messages of the session.
pub mod memory {
    use super::*;

    pub const N_MESSAGES: Input =
        Input::int("n_messages", "Number of Messages", 100).advanced().info("Number of messages to retrieve.");
    pub const ORDER: Input = Input::dropdown("order", "Order", &["Ascending", "Descending"])
        .value("Ascending")
        .advanced()
        .tool_mode()
        .info("Order of the messages.");
    pub const SENDER: Input = Input::dropdown("sender", "Sender Type", &["Machine", "User", "Machine and User"])
        .value("Machine and User")
        .advanced()
        .info("Filter by sender type.");
    pub const SENDER_NAME: Input =
        Input::message("sender_name", "Sender Name").advanced().info("Filter by sender name.");
    pub const SESSION_ID: Input = super::super::io::chat_input::SESSION_ID;
    pub const CONTEXT_ID: Input = super::super::io::chat_input::CONTEXT_ID;
    pub const TEMPLATE: Input =
        Input::message("template", "Template").value("{sender_name}: {text}").multiline().advanced().info(
            "The template to use for formatting the data. It can contain the keys {text}, {sender} or any other key \
             in the message data.",
        );

    pub const MESSAGES_TEXT: Output =
        Output::new("messages_text", "Message", &["Message"], "retrieve_messages_as_text");
    pub const DATAFRAME: Output = Output::new("dataframe", "DataFrame", &["DataFrame"], "retrieve_messages_dataframe");
    pub const MESSAGES: Output = Output::new("messages", "Data", &["Data"], "retrieve_messages").legacy();

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "Memory",
        aliases: &["MemoryComponent"],
        class_name: "MemoryComponent",
        category: "models_and_agents",
        display_name: "Message History",
        description: "Stores or retrieves stored chat messages from Langflow tables or an external memory.",
        icon: "message-square-more",
        role: Role::Other,
        test_only: false,
        inputs: &[N_MESSAGES, ORDER, SENDER, SENDER_NAME, SESSION_ID, CONTEXT_ID, TEMPLATE],
        outputs: &[MESSAGES_TEXT, DATAFRAME, MESSAGES],
    };
}

/// Parser (and the legacy `parser` / Parse Data components).
pub mod parser {
    use super::*;

    pub const INPUT_DATA: Input = Input::handle("input_data", "JSON or Table", &["DataFrame", "Table", "Data", "JSON"])
        .required()
        .info("Accepts a DataFrame, a Data object, or a list of Data objects.");
    /// Parse Data's input.
    pub const DATA: Input = Input::handle("data", "Data", &["Data"]).legacy();
    pub const MODE: Input = Input::tab("mode", "Mode", &["Parser", "Stringify"])
        .value("Parser")
        .info("Convert into raw string instead of using a template.");
    pub const PATTERN: Input = Input::message("pattern", "Template").value("Text: {text}").multiline().required().info(
        "Use variables within curly brackets to extract column values for DataFrames or key values for Data.For \
         example: `Name: {Name}, Age: {Age}, Country: {Country}`",
    );
    /// Parse Data's pattern.
    pub const TEMPLATE: Input = Input::message("template", "Template").legacy();
    pub const SEP: Input =
        Input::message("sep", "Separator").value("\n").advanced().info("String used to separate rows/items.");

    pub const PARSED_TEXT: Output = Output::new("parsed_text", "Parsed Text", &["Message"], "parse_combined_text");
    /// Parse Data's output.
    pub const TEXT: Output = Output::new("text", "Message", &["Message"], "parse_data").legacy();

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "ParserComponent",
        aliases: &["parser", "Parser", "ParseData", "ParseDataComponent"],
        class_name: "ParserComponent",
        category: "processing",
        display_name: "Parser",
        description: "Extracts text using a template.",
        icon: "braces",
        role: Role::Other,
        test_only: false,
        inputs: &[INPUT_DATA, MODE, PATTERN, SEP, DATA, TEMPLATE],
        outputs: &[PARSED_TEXT, TEXT],
    };
}

/// Split Text: LangChain's `CharacterTextSplitter`.
pub mod split_text {
    use super::*;

    pub const DATA_INPUTS: Input =
        Input::handle("data_inputs", "Input", &["Data", "JSON", "DataFrame", "Table", "Message"])
            .required()
            .info("The data with texts to split in chunks.");
    pub const CHUNK_OVERLAP: Input =
        Input::int("chunk_overlap", "Chunk Overlap", 200).info("Number of characters to overlap between chunks.");
    pub const CHUNK_SIZE: Input = Input::int("chunk_size", "Chunk Size", 1000).info(
        "The maximum length of each chunk. Text is first split by separator, then chunks are merged up to this \
         size. Individual splits larger than this won't be further divided.",
    );
    pub const SEPARATOR: Input = Input::message("separator", "Separator").value("\n").info(
        "The character to split on. Use \\n for newline. Examples: \\n\\n for paragraphs, \\n for lines, . for \
         sentences",
    );
    pub const TEXT_KEY: Input =
        Input::message("text_key", "Text Key").value("text").advanced().info("The key to use for the text column.");

    pub const DATAFRAME: Output = Output::new("dataframe", "Chunks", &["Table"], "split_text");
    /// Older versions' name of the same table.
    pub const CHUNKS: Output = Output::new("chunks", "Chunks", &["Data"], "split_text").legacy();

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "SplitText",
        aliases: &["SplitTextComponent"],
        class_name: "SplitTextComponent",
        category: "processing",
        display_name: "Split Text",
        description: "Split text into chunks based on specified criteria.",
        icon: "scissors-line-dashed",
        role: Role::Other,
        test_only: false,
        inputs: &[DATA_INPUTS, CHUNK_OVERLAP, CHUNK_SIZE, SEPARATOR, TEXT_KEY],
        outputs: &[DATAFRAME, CHUNKS],
    };
}
