//! Language Model (`LanguageModelComponent`, Langflow 1.13's provider-agnostic LLM).
//!
//! Langflow stores the selection in the `model` field as a list of options,
//! `[{"name": "gpt-4o-mini", "provider": "OpenAI", "metadata": {…}}]` (empty until a provider
//! is configured); the advanced `model_name` and `provider` fields override it. OpenAI and
//! Ollama are called through the Chat Completions API, Anthropic through its Messages API.
//! The base URL comes from a `base_url`/`openai_api_base` field when the flow has one, from
//! `ollama_base_url` for Ollama, else from the provider's base-URL variable or its default.

use serde_json::Value as Json;

use super::model_call::{self, first_text, ModelChoice, Provider};
use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs};
use crate::graph::Params;

pub struct LanguageModel;

/// `(name, provider)` of the option selected in the `model` field.
fn selected(params: &Params) -> (Option<String>, Option<String>) {
    let text = |v: Option<&Json>| v.and_then(Json::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    match params.get("model") {
        Some(Json::Array(options)) => {
            options.first().map_or((None, None), |o| (text(o.get("name")), text(o.get("provider"))))
        }
        Some(o @ Json::Object(_)) => (text(o.get("name")), text(o.get("provider"))),
        Some(Json::String(s)) if !s.trim().is_empty() => (Some(s.trim().to_owned()), None),
        _ => (None, None),
    }
}

pub(crate) fn choice(params: &Params) -> Result<ModelChoice, String> {
    let (selected_name, selected_provider) = selected(params);
    let model = first_text(params, &["model_name"]).or(selected_name).ok_or_else(|| {
        "A model selection is required: choose a model in the Language Model field (or set its model_name and \
         provider fields)."
            .to_owned()
    })?;
    let provider_name = first_text(params, &["provider"]).or(selected_provider).unwrap_or_else(|| "OpenAI".into());
    let provider = Provider::parse(&provider_name).ok_or_else(|| {
        format!(
            "Provider '{provider_name}' is not supported by flowactor; supported providers: OpenAI, Anthropic, Ollama"
        )
    })?;
    let mut base_url = first_text(params, &["base_url", "openai_api_base", "api_base"]);
    if provider == Provider::Ollama {
        base_url = base_url.or_else(|| first_text(params, &["ollama_base_url"]));
    }
    Ok(ModelChoice { provider, model, base_url })
}

impl Component for LanguageModel {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(model_call::run(ctx, inputs))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn params(pairs: Json) -> Params {
        let mut p = Params::default();
        for (k, v) in pairs.as_object().unwrap() {
            p.set(Arc::from(k.as_str()), v.clone());
        }
        p
    }

    #[test]
    fn reads_the_model_option_and_its_overrides() {
        let p = params(json!({"model": [{"name": "claude-x", "provider": "Anthropic", "metadata": {}}]}));
        let c = choice(&p).unwrap();
        assert_eq!((c.provider, c.model.as_str(), c.base_url), (Provider::Anthropic, "claude-x", None));

        let p = params(json!({"model": "", "model_name": "llama3", "provider": "Ollama",
                              "ollama_base_url": "http://127.0.0.1:11434"}));
        let c = choice(&p).unwrap();
        assert_eq!((c.provider, c.base_url.as_deref()), (Provider::Ollama, Some("http://127.0.0.1:11434")));

        assert!(choice(&params(json!({"model": ""}))).unwrap_err().contains("A model selection is required"));
        let err = choice(&params(json!({"model_name": "g", "provider": "Google Generative AI"}))).unwrap_err();
        assert!(err.contains("'Google Generative AI' is not supported"));
    }
}
