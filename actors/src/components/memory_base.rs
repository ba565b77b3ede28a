//! Memory Base: Langflow's `MemoryBaseComponent` (node type `MemoryBase`, tool
//! `retrieve_memory`). Langflow searches a vector store of captured messages; flowactor has no
//! Memory Bases (`/api/v1/memories` and embeddings are not implemented), so no name is ever
//! attached to a flow. The checks run in Langflow's order and fail with its texts, which a
//! calling Agent reads as the tool's result:
//!
//! 1. `filter_by_session` on and no session → the session requirement;
//! 2. no Memory Base selected (the starter projects' state) → `No Memory Base is selected.`;
//! 3. a selected name → `Memory Base '<name>' is not attached to this flow.`

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs};
use crate::catalog::files::memory_base::{FILTER_BY_SESSION, MEMORY_BASE};

pub struct MemoryBase;

pub(crate) const SESSION_REQUIRED: &str = "A session_id is required on the flow request when 'Filter by Session' is \
                                           enabled — disable the toggle to allow cross-session retrieval.";

/// Why a retrieval cannot run, in the order Langflow checks.
fn refusal(session: &str, filter_by_session: bool, selected: &str) -> String {
    if filter_by_session && session.is_empty() {
        return SESSION_REQUIRED.to_owned();
    }
    if selected.is_empty() {
        return "No Memory Base is selected.".to_owned();
    }
    format!("Memory Base '{selected}' is not attached to this flow.")
}

impl Component for MemoryBase {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let a = ctx.args(inputs);
        let selected = a.param_text(&MEMORY_BASE);
        ready(Err(ComponentError::Failed(refusal(ctx.run_session(), a.bool(&FILTER_BY_SESSION), &selected))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checks_run_in_langflows_order() {
        assert_eq!(refusal("", true, ""), SESSION_REQUIRED);
        assert_eq!(refusal("", false, ""), "No Memory Base is selected.");
        assert_eq!(refusal("s", true, ""), "No Memory Base is selected.");
        assert_eq!(refusal("s", true, "notes"), "Memory Base 'notes' is not attached to this flow.");
    }
}
