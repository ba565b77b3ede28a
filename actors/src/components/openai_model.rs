//! OpenAI (`OpenAIModel`, the LLM of Langflow's ≤1.x starter flows): the model is the
//! `model_name` dropdown and `openai_api_base` points the component at any OpenAI-compatible
//! server (Ollama's `/v1`, vLLM, llama.cpp, LM Studio).

use super::model_call::{self, first_text, ModelChoice, Provider};
use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs};
use crate::graph::Params;

pub struct OpenAIModel;

/// Langflow's default model for this component.
const DEFAULT_MODEL: &str = "gpt-4o-mini";

pub(crate) fn choice(params: &Params) -> ModelChoice {
    ModelChoice {
        provider: Provider::OpenAi,
        model: first_text(params, &["model_name"]).unwrap_or_else(|| DEFAULT_MODEL.to_owned()),
        base_url: first_text(params, &["openai_api_base", "base_url"]),
    }
}

impl Component for OpenAIModel {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(model_call::run(ctx, inputs))
    }
}
