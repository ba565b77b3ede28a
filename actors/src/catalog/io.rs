//! Inputs and outputs (Langflow's `input_output` category), and the Webhook input.

use super::{ComponentSpec, Input, Output, Role};

const SENDERS: &[&str] = &["Machine", "User"];
const SESSION_INFO: &str = "The session ID of the chat. If empty, the current session ID parameter will be used.";
const CONTEXT_INFO: &str = "The context ID of the chat. Adds an extra layer to the local memory.";

/// Chat Input: the run's input text as the user's chat message.
pub mod chat_input {
    use super::*;

    pub const INPUT_VALUE: Input =
        Input::text("input_value", "Input Text").multiline().info("Message to be passed as input.");
    pub const SHOULD_STORE_MESSAGE: Input = Input::bool("should_store_message", "Store Messages", true)
        .advanced()
        .info("Store the message in the history.");
    pub const SENDER: Input =
        Input::dropdown("sender", "Sender Type", SENDERS).value("User").advanced().info("Type of sender.");
    pub const SENDER_NAME: Input =
        Input::message("sender_name", "Sender Name").value("User").advanced().info("Name of the sender.");
    pub const SESSION_ID: Input = Input::message("session_id", "Session ID").advanced().info(SESSION_INFO);
    pub const CONTEXT_ID: Input = Input::message("context_id", "Context ID").advanced().info(CONTEXT_INFO);
    pub const FILES: Input = Input::of_type("files", "Files", super::super::InputType::File)
        .list()
        .advanced()
        .info("Files to be sent with the message.");

    pub const MESSAGE: Output = Output::new("message", "Chat Message", &["Message"], "message_response");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "ChatInput",
        aliases: &[],
        class_name: "ChatInput",
        category: "input_output",
        display_name: "Chat Input",
        description: "Get chat inputs from the Playground.",
        icon: "MessagesSquare",
        role: Role::Input,
        test_only: false,
        inputs: &[INPUT_VALUE, SHOULD_STORE_MESSAGE, SENDER, SENDER_NAME, SESSION_ID, CONTEXT_ID, FILES],
        outputs: &[MESSAGE],
    };
}

/// Chat Output: whatever reaches it as the AI's chat message.
pub mod chat_output {
    use super::*;

    pub const INPUT_VALUE: Input = Input::message("input_value", "Inputs")
        .accepts(&["Data", "JSON", "DataFrame", "Table", "Message"])
        .message_input()
        .required()
        .info("Message to be passed as output.");
    pub const SHOULD_STORE_MESSAGE: Input = super::chat_input::SHOULD_STORE_MESSAGE;
    pub const SENDER: Input =
        Input::dropdown("sender", "Sender Type", SENDERS).value("Machine").advanced().info("Type of sender.");
    pub const SENDER_NAME: Input =
        Input::message("sender_name", "Sender Name").value("AI").advanced().info("Name of the sender.");
    pub const SESSION_ID: Input = super::chat_input::SESSION_ID;
    pub const CONTEXT_ID: Input = super::chat_input::CONTEXT_ID;
    pub const DATA_TEMPLATE: Input = Input::message("data_template", "Data Template")
        .value("{text}")
        .advanced()
        .info("Template to convert Data to Text. If left empty, it will be dynamically set to the Data's text key.");
    pub const CLEAN_DATA: Input = Input::bool("clean_data", "Basic Clean Data", true)
        .advanced()
        .info("Whether to clean data before converting to string.");

    pub const MESSAGE: Output = Output::new("message", "Output Message", &["Message"], "message_response");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "ChatOutput",
        aliases: &[],
        class_name: "ChatOutput",
        category: "input_output",
        display_name: "Chat Output",
        description: "Display a chat message in the Playground.",
        icon: "MessagesSquare",
        role: Role::Output,
        test_only: false,
        inputs: &[
            INPUT_VALUE,
            SHOULD_STORE_MESSAGE,
            SENDER,
            SENDER_NAME,
            SESSION_ID,
            CONTEXT_ID,
            DATA_TEMPLATE,
            CLEAN_DATA,
        ],
        outputs: &[MESSAGE],
    };
}

/// Text Input (legacy): text as a Message, outside the chat history.
pub mod text_input {
    use super::*;

    pub const INPUT_VALUE: Input =
        Input::message("input_value", "Text").multiline().info("Text to be passed as input.");
    pub const TEXT: Output = Output::new("text", "Output Text", &["Message"], "text_response");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "TextInput",
        aliases: &["TextInputComponent"],
        class_name: "TextInputComponent",
        category: "input_output",
        display_name: "Text Input",
        description: "Get user text inputs.",
        icon: "type",
        role: Role::Input,
        test_only: false,
        inputs: &[INPUT_VALUE],
        outputs: &[TEXT],
    };
}

/// Text Output (legacy): text as a Message, outside the chat history.
pub mod text_output {
    use super::*;

    pub const INPUT_VALUE: Input = Input::message("input_value", "Inputs").info("Text to be passed as output.");
    pub const TEXT: Output = Output::new("text", "Output Text", &["Message"], "text_response");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "TextOutput",
        aliases: &["TextOutputComponent"],
        class_name: "TextOutputComponent",
        category: "input_output",
        display_name: "Text Output",
        description: "Sends text output via API.",
        icon: "type",
        role: Role::Output,
        test_only: false,
        inputs: &[INPUT_VALUE],
        outputs: &[TEXT],
    };
}

/// Webhook: the input vertex of `POST /api/v1/webhook/{flow}`.
pub mod webhook {
    use super::*;

    /// The HTTP layer injects the raw request body here.
    pub const DATA: Input = Input::text("data", "Payload")
        .multiline()
        .advanced()
        .info("Receives a payload from external systems via HTTP POST.");
    pub const OUTPUT_DATA: Output = Output::new("output_data", "Data", &["Data"], "build_data");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "Webhook",
        aliases: &["WebhookComponent"],
        class_name: "WebhookComponent",
        category: "data_source",
        display_name: "Webhook",
        description: "Defines a webhook trigger for the flow.",
        icon: "webhook",
        role: Role::Input,
        test_only: false,
        inputs: &[DATA],
        outputs: &[OUTPUT_DATA],
    };
}
