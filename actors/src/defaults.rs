//! Defaults shared by the runtime and the server's settings table.

/// The defaults of the engine's and the LLM client's limits, as literals: the server's settings
/// table turns them into its documented defaults (`concat!(runtime_default!(name))`), and
/// `OutputLimits`, `EngineSettings` and `LlmSettings` default to the same values, so each
/// default is written once.
#[macro_export]
macro_rules! runtime_default {
    (max_graph_vertices) => {
        10000
    };
    (build_deadline_seconds) => {
        300
    };
    (max_message_bytes) => {
        1048576
    };
    (max_output_bytes) => {
        4194304
    };
    (llm_timeout_seconds) => {
        120
    };
    (llm_max_retries) => {
        3
    };
    (llm_retry_base_delay_ms) => {
        500
    };
    (llm_concurrency_per_provider) => {
        16
    };
}
