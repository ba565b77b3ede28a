//! Anthropic (`AnthropicModel`): Claude through the Messages API; `base_url` ("Anthropic API
//! URL") replaces `https://api.anthropic.com`.

use super::model_call::{self, first_text, ModelChoice, Provider};
use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs};
use crate::graph::Params;

pub struct AnthropicModel;

/// Used when the flow names no model.
const DEFAULT_MODEL: &str = "claude-3-5-haiku-latest";

pub(crate) fn choice(params: &Params) -> ModelChoice {
    ModelChoice {
        provider: Provider::Anthropic,
        model: first_text(params, &["model_name", "model"]).unwrap_or_else(|| DEFAULT_MODEL.to_owned()),
        base_url: first_text(params, &["base_url", "anthropic_api_url"]),
    }
}

impl Component for AnthropicModel {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(model_call::run(ctx, inputs))
    }
}
