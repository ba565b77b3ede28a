//! flowactor's own test components (`Delay`, `Burn`): they prove dataflow scheduling,
//! cancellation and multi-core execution, and run only when the engine allows test components.

use super::{ComponentSpec, Input, Output, Role};

/// The passed-through input of both test components.
pub const INPUT_VALUE: Input = Input::message("input_value", "Input").info("Passed through unchanged.");
pub const OUTPUT: Output = Output::new("output", "Output", &["Message"], "output");

/// Delay: waits without blocking its thread.
pub mod delay {
    use super::*;

    pub const MILLISECONDS: Input = Input::int("milliseconds", "Milliseconds", 0).info("How long to wait.");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "Delay",
        aliases: &[],
        class_name: "Delay",
        category: "flowactor",
        display_name: "Delay",
        description: "Waits, then passes its input through.",
        icon: "timer",
        role: Role::Other,
        test_only: true,
        inputs: &[MILLISECONDS, INPUT_VALUE],
        outputs: &[OUTPUT],
    };
}

/// Burn: keeps a core busy.
pub mod burn {
    use super::*;

    pub const MICROSECONDS: Input = Input::int("microseconds", "Microseconds", 0).info("How long to keep a core busy.");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "Burn",
        aliases: &[],
        class_name: "Burn",
        category: "flowactor",
        display_name: "Burn",
        description: "Keeps a core busy, then passes its input through.",
        icon: "flame",
        role: Role::Other,
        test_only: true,
        inputs: &[MICROSECONDS, INPUT_VALUE],
        outputs: &[OUTPUT],
    };
}
