//! Flow control (Langflow's `flow_controls` category): If-Else, Loop and Pass.

use super::{ComponentSpec, Input, Output, Role};

/// If-Else: routes its input to `true_result` or `false_result`.
pub mod conditional_router {
    use super::*;

    pub const INPUT_TEXT: Input =
        Input::message("input_text", "Text Input").required().info("The primary text input for the operation.");
    pub const OPERATOR: Input = Input::dropdown(
        "operator",
        "Operator",
        &[
            "equals",
            "not equals",
            "contains",
            "starts with",
            "ends with",
            "regex",
            "less than",
            "less than or equal",
            "greater than",
            "greater than or equal",
        ],
    )
    .value("equals")
    .info("The operator to apply for comparing the texts.");
    pub const MATCH_TEXT: Input =
        Input::message("match_text", "Match Text").required().info("The text input to compare against.");
    pub const CASE_SENSITIVE: Input = Input::bool("case_sensitive", "Case Sensitive", false)
        .advanced()
        .info("If true, the comparison will be case sensitive.");
    pub const TRUE_CASE_MESSAGE: Input = Input::message("true_case_message", "Case True")
        .advanced()
        .info("The message to pass if the condition is True.");
    pub const FALSE_CASE_MESSAGE: Input = Input::message("false_case_message", "Case False")
        .advanced()
        .info("The message to pass if the condition is False.");

    pub const TRUE_RESULT: Output = Output::new("true_result", "True", &["Message"], "true_response").grouped();
    pub const FALSE_RESULT: Output = Output::new("false_result", "False", &["Message"], "false_response").grouped();

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "ConditionalRouter",
        aliases: &["ConditionalRouterComponent", "If-Else"],
        class_name: "ConditionalRouterComponent",
        category: "flow_controls",
        display_name: "If-Else",
        description: "Routes an input message to a corresponding output based on text comparison.",
        icon: "split",
        role: Role::Other,
        test_only: false,
        inputs: &[INPUT_TEXT, OPERATOR, MATCH_TEXT, CASE_SENSITIVE, TRUE_CASE_MESSAGE, FALSE_CASE_MESSAGE],
        outputs: &[TRUE_RESULT, FALSE_RESULT],
    };
}

/// Loop: runs its body once per item.
pub mod loop_component {
    use super::*;

    pub const DATA: Input = Input::handle("data", "Inputs", &["DataFrame", "Table", "Data", "Message"])
        .info("Data to iterate over. Accepts DataFrame, Table, Data, or Message.");
    pub const ITEM: Output = Output::new("item", "Item", &["Data", "JSON"], "item_output").allows_loop().grouped();
    pub const DONE: Output = Output::new("done", "Done", &["DataFrame", "Table"], "done_output").grouped();

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "LoopComponent",
        aliases: &["Loop"],
        class_name: "LoopComponent",
        category: "flow_controls",
        display_name: "Loop",
        description: "Iterates through Data or Message objects, processing items individually and aggregating \
                      results from loop inputs.",
        icon: "infinity",
        role: Role::Other,
        test_only: false,
        inputs: &[DATA],
        outputs: &[ITEM, DONE],
    };
}

/// Pass: forwards `input_message`.
pub mod pass {
    use super::*;

    pub const INPUT_MESSAGE: Input =
        Input::message("input_message", "Input Message").required().info("The message to be passed forward.");
    /// Only adds an ordering dependency.
    pub const IGNORED_MESSAGE: Input = Input::message("ignored_message", "Ignored Message")
        .advanced()
        .info("A second message to be ignored. Used as a workaround for continuity.");
    pub const OUTPUT_MESSAGE: Output = Output::new("output_message", "Output Message", &["Message"], "pass_message");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "Pass",
        aliases: &["PassMessageComponent"],
        class_name: "PassMessageComponent",
        category: "flow_controls",
        display_name: "Pass",
        description: "Forwards the input message, unchanged.",
        icon: "arrow-right",
        role: Role::Other,
        test_only: false,
        inputs: &[INPUT_MESSAGE, IGNORED_MESSAGE],
        outputs: &[OUTPUT_MESSAGE],
    };
}
