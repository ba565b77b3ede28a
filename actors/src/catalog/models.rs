//! The LLM components (OpenAI, Language Model, Anthropic): their declarations, and how their
//! fields name the provider, model and base URL — which the graph needs too, to know which
//! provider key and base-URL variables a flow reads.

use serde_json::Value as Json;

use super::{ComponentSpec, DefaultValue, Input, InputType, Output, Params, Role};

/// The providers flowactor can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    OpenAi,
    Anthropic,
    Ollama,
}

impl Provider {
    pub const ALL: [Self; 3] = [Self::OpenAi, Self::Anthropic, Self::Ollama];

    /// Langflow's provider names, case-insensitively.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "openai" => Some(Self::OpenAi),
            "anthropic" => Some(Self::Anthropic),
            "ollama" => Some(Self::Ollama),
            _ => None,
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::OpenAi => "OpenAI",
            Self::Anthropic => "Anthropic",
            Self::Ollama => "Ollama",
        }
    }

    #[must_use]
    pub fn default_base(self) -> &'static str {
        match self {
            Self::OpenAi => "https://api.openai.com/v1",
            Self::Anthropic => "https://api.anthropic.com",
            Self::Ollama => "http://127.0.0.1:11434/v1",
        }
    }

    /// The global variable Langflow reads the key from when the field is empty.
    #[must_use]
    pub fn key_variable(self) -> Option<&'static str> {
        match self {
            Self::OpenAi => Some("OPENAI_API_KEY"),
            Self::Anthropic => Some("ANTHROPIC_API_KEY"),
            Self::Ollama => None,
        }
    }

    /// The global variable (or environment variable) naming a base URL when no field does.
    #[must_use]
    pub fn base_variable(self) -> &'static str {
        match self {
            Self::OpenAi => "OPENAI_BASE_URL",
            Self::Anthropic => "ANTHROPIC_BASE_URL",
            Self::Ollama => "OLLAMA_BASE_URL",
        }
    }

    /// Ollama's native URL (`http://host:11434`, what Langflow's field holds) serves the
    /// OpenAI-compatible API under `/v1`.
    #[must_use]
    pub fn normalise_base(self, base: &str) -> String {
        let base = base.trim().trim_end_matches('/');
        if self == Self::Ollama && !base.ends_with("/v1") {
            format!("{base}/v1")
        } else {
            base.to_owned()
        }
    }
}

/// Provider, model and (when a field sets it) base URL of one LLM vertex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChoice {
    pub provider: Provider,
    pub model: String,
    pub base_url: Option<String>,
}

/// The first non-empty text among `fields`.
#[must_use]
pub fn first_text(params: &Params, fields: &[&Input]) -> Option<String> {
    fields.iter().map(|f| f.text_in(params).trim().to_owned()).find(|t| !t.is_empty())
}

// Fields every LLM component reads.
pub const INPUT_VALUE: Input =
    Input::message("input_value", "Input").message_input().info("The input text to send to the model");
pub const SYSTEM_MESSAGE: Input = Input::message("system_message", "System Message")
    .multiline()
    .info("A system message that helps set the behavior of the assistant");
pub const STREAM: Input = Input::bool("stream", "Stream", false).advanced().info("Whether to stream the response");
pub const API_KEY: Input = Input::secret("api_key", "API Key")
    .advanced()
    .info("Overrides global provider settings. Leave blank to use your pre-configured API Key.");
pub const TEMPERATURE: Input =
    Input::of_type("temperature", "Temperature", InputType::Slider { min: 0.0, max: 1.0, step: 0.01 })
        .default(DefaultValue::Float(0.1))
        .advanced()
        .info("Controls randomness in responses");
pub const MAX_TOKENS: Input = Input::of_type("max_tokens", "Max Tokens", InputType::Int)
    .advanced()
    .info("The maximum number of tokens to generate. Set to 0 for unlimited tokens.");
pub const SEED: Input =
    Input::int("seed", "Seed", 1).advanced().info("The seed controls the reproducibility of the job.");
pub const JSON_MODE: Input = Input::bool("json_mode", "JSON Mode", false)
    .advanced()
    .info("If True, it will output JSON regardless of passing a schema.");
pub const MODEL_KWARGS: Input = Input::of_type("model_kwargs", "Model Kwargs", InputType::Dict)
    .default(DefaultValue::Object)
    .advanced()
    .info("Additional keyword arguments to pass to the model.");
pub const TIMEOUT: Input =
    Input::int("timeout", "Timeout", 700).advanced().info("The timeout for requests to OpenAI completion API.");
pub const MAX_RETRIES: Input = Input::int("max_retries", "Max Retries", 5)
    .advanced()
    .info("The maximum number of retries to make when generating.");
/// Accepted by every LLM component for a custom endpoint.
pub const BASE_URL: Input = Input::text("base_url", "Base URL").advanced().legacy();

// Outputs of every LLM component.
pub const TEXT_OUTPUT: Output = Output::new("text_output", "Model Response", &["Message"], "text_response");
pub const MODEL_OUTPUT: Output = Output::new("model_output", "Language Model", &["LanguageModel"], "build_model");
const OUTPUTS: &[Output] = &[TEXT_OUTPUT, MODEL_OUTPUT];

/// OpenAI (`OpenAIModel`, the LLM of Langflow's ≤1.x starter flows): the model is the
/// `model_name` dropdown and `openai_api_base` points the component at any OpenAI-compatible
/// server (Ollama's `/v1`, vLLM, llama.cpp, LM Studio).
pub mod openai {
    use super::*;

    /// Langflow's default model for this component is the dropdown's default.
    pub const MODEL_NAME: Input = Input::dropdown(
        "model_name",
        "Model Name",
        &[
            "gpt-4o-mini",
            "gpt-4o",
            "gpt-4.1",
            "gpt-4.1-mini",
            "gpt-4.1-nano",
            "gpt-4-turbo",
            "gpt-4",
            "gpt-3.5-turbo",
            "o1",
        ],
    )
    .value("gpt-4o-mini");
    pub const OPENAI_API_BASE: Input = Input::text("openai_api_base", "OpenAI API Base").advanced().info(
        "The base URL of the OpenAI API. Defaults to https://api.openai.com/v1. You can change this to use other APIs \
         like JinaChat, LocalAI and Prem.",
    );
    pub const API_KEY: Input = super::API_KEY.value("OPENAI_API_KEY").load_from_db();

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "OpenAIModel",
        aliases: &["OpenAIModelComponent"],
        class_name: "OpenAIModelComponent",
        category: "openai",
        display_name: "OpenAI",
        description: "Generates text using OpenAI LLMs.",
        icon: "OpenAI",
        role: Role::Other,
        test_only: false,
        inputs: &[
            INPUT_VALUE,
            SYSTEM_MESSAGE,
            STREAM,
            MAX_TOKENS,
            MODEL_KWARGS,
            JSON_MODE,
            MODEL_NAME,
            OPENAI_API_BASE,
            API_KEY,
            TEMPERATURE,
            SEED,
            MAX_RETRIES,
            TIMEOUT,
            BASE_URL,
        ],
        outputs: OUTPUTS,
    };

    #[must_use]
    pub fn choice(params: &Params) -> ModelChoice {
        ModelChoice {
            provider: Provider::OpenAi,
            model: first_text(params, &[&MODEL_NAME]).unwrap_or_else(|| MODEL_NAME.default_text().to_owned()),
            base_url: first_text(params, &[&OPENAI_API_BASE, &BASE_URL]),
        }
    }
}

/// Language Model (`LanguageModelComponent`, Langflow 1.13's provider-agnostic LLM).
///
/// Langflow stores the selection in the `model` field as a list of options,
/// `[{"name": "gpt-4o-mini", "provider": "OpenAI", "metadata": {…}}]` (empty until a provider
/// is configured); the advanced `model_name` and `provider` fields override it. OpenAI and
/// Ollama are called through the Chat Completions API, Anthropic through its Messages API.
/// The base URL comes from a `base_url`/`openai_api_base` field when the flow has one, from
/// `ollama_base_url` for Ollama, else from the provider's base-URL variable or its default.
pub mod language_model {
    use super::*;

    pub const MODEL: Input = Input::of_type("model", "Language Model", InputType::Model)
        .accepts(&["LanguageModel"])
        .required()
        .info("Select your model provider");
    pub const MODEL_NAME: Input = Input::text("model_name", "Model Name Override").advanced().info(
        "Optional model name to use instead of the selected model. Can be set from a global variable for runtime \
         model selection.",
    );
    pub const PROVIDER: Input = Input::text("provider", "Provider Override")
        .advanced()
        .info("Optional provider to use with Model Name Override. Leave blank to use the selected model's provider.");
    pub const OLLAMA_BASE_URL: Input =
        Input::text("ollama_base_url", "Ollama API URL").hidden().info("Endpoint of the Ollama API (Ollama only)");
    pub const OPENAI_API_BASE: Input = Input::text("openai_api_base", "OpenAI API Base").legacy();
    pub const API_BASE: Input = Input::text("api_base", "API Base").legacy();
    pub const API_KEY: Input = super::API_KEY.hidden();

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "LanguageModelComponent",
        aliases: &["Language Model"],
        class_name: "LanguageModelComponent",
        category: "models_and_agents",
        display_name: "Language Model",
        description: "Runs a language model given a specified provider.",
        icon: "brain-circuit",
        role: Role::Other,
        test_only: false,
        inputs: &[
            MODEL,
            MODEL_NAME,
            PROVIDER,
            API_KEY,
            OLLAMA_BASE_URL,
            INPUT_VALUE,
            SYSTEM_MESSAGE,
            STREAM,
            TEMPERATURE,
            MAX_TOKENS,
            BASE_URL,
            OPENAI_API_BASE,
            API_BASE,
            SEED.legacy(),
            JSON_MODE.legacy(),
            MODEL_KWARGS.legacy(),
            TIMEOUT.legacy(),
            MAX_RETRIES.legacy(),
        ],
        outputs: OUTPUTS,
    };

    /// `(name, provider)` of the option selected in the `model` field.
    fn selected(params: &Params) -> (Option<String>, Option<String>) {
        let text =
            |v: Option<&Json>| v.and_then(Json::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        match MODEL.param(params) {
            Some(Json::Array(options)) => {
                options.first().map_or((None, None), |o| (text(o.get("name")), text(o.get("provider"))))
            }
            Some(o @ Json::Object(_)) => (text(o.get("name")), text(o.get("provider"))),
            Some(Json::String(s)) if !s.trim().is_empty() => (Some(s.trim().to_owned()), None),
            _ => (None, None),
        }
    }

    /// # Errors
    /// No model selected, or a provider flowactor cannot call.
    pub fn choice(params: &Params) -> Result<ModelChoice, String> {
        let (selected_name, selected_provider) = selected(params);
        let model = first_text(params, &[&MODEL_NAME]).or(selected_name).ok_or_else(|| {
            "A model selection is required: choose a model in the Language Model field (or set its model_name and \
             provider fields)."
                .to_owned()
        })?;
        let provider_name =
            first_text(params, &[&PROVIDER]).or(selected_provider).unwrap_or_else(|| Provider::OpenAi.name().into());
        let provider = Provider::parse(&provider_name).ok_or_else(|| {
            format!(
                "Provider '{provider_name}' is not supported by flowactor; supported providers: OpenAI, Anthropic, \
                 Ollama"
            )
        })?;
        let mut base_url = first_text(params, &[&BASE_URL, &OPENAI_API_BASE, &API_BASE]);
        if provider == Provider::Ollama {
            base_url = base_url.or_else(|| first_text(params, &[&OLLAMA_BASE_URL]));
        }
        Ok(ModelChoice { provider, model, base_url })
    }
}

/// Anthropic (`AnthropicModel`): Claude through the Messages API; `base_url` ("Anthropic API
/// URL") replaces `https://api.anthropic.com`.
pub mod anthropic {
    use super::*;

    /// Used when the flow names no model.
    pub const MODEL_NAME: Input = Input::dropdown(
        "model_name",
        "Model Name",
        &[
            "claude-3-5-haiku-latest",
            "claude-3-5-sonnet-latest",
            "claude-3-7-sonnet-latest",
            "claude-sonnet-4-0",
            "claude-opus-4-0",
        ],
    )
    .value("claude-3-5-haiku-latest");
    pub const MODEL: Input = Input::text("model", "Model").legacy();
    pub const BASE_URL: Input = Input::text("base_url", "Anthropic API URL")
        .value("https://api.anthropic.com")
        .advanced()
        .info("Endpoint of the Anthropic API. Defaults to 'https://api.anthropic.com' if not specified.");
    pub const ANTHROPIC_API_URL: Input = Input::text("anthropic_api_url", "Anthropic API URL").legacy();
    pub const API_KEY: Input = Input::secret("api_key", "Anthropic API Key").required().info("Your Anthropic API key.");
    pub const MAX_TOKENS: Input = Input::int("max_tokens", "Max Tokens", 4096)
        .advanced()
        .info("The maximum number of tokens to generate. Set to 0 for unlimited tokens.");

    pub const SPEC: ComponentSpec = ComponentSpec {
        type_name: "AnthropicModel",
        aliases: &["AnthropicModelComponent"],
        class_name: "AnthropicModelComponent",
        category: "anthropic",
        display_name: "Anthropic",
        description: "Generate text using Anthropic's Messages API and models.",
        icon: "Anthropic",
        role: Role::Other,
        test_only: false,
        inputs: &[
            INPUT_VALUE,
            SYSTEM_MESSAGE,
            STREAM,
            MAX_TOKENS,
            MODEL_NAME,
            API_KEY,
            TEMPERATURE,
            BASE_URL,
            MODEL,
            ANTHROPIC_API_URL,
            SEED.legacy(),
            JSON_MODE.legacy(),
            MODEL_KWARGS.legacy(),
            TIMEOUT.legacy(),
            MAX_RETRIES.legacy(),
        ],
        outputs: OUTPUTS,
    };

    #[must_use]
    pub fn choice(params: &Params) -> ModelChoice {
        ModelChoice {
            provider: Provider::Anthropic,
            model: first_text(params, &[&MODEL_NAME, &MODEL]).unwrap_or_else(|| MODEL_NAME.default_text().to_owned()),
            base_url: first_text(params, &[&BASE_URL, &ANTHROPIC_API_URL]),
        }
    }
}

/// How a vertex of an LLM kind names its model; `None` for other kinds.
#[must_use]
pub fn choice_for(kind: super::ComponentKind, params: &Params) -> Option<Result<ModelChoice, String>> {
    use super::ComponentKind;
    Some(match kind {
        ComponentKind::OpenAIModel => Ok(openai::choice(params)),
        ComponentKind::LanguageModel => language_model::choice(params),
        ComponentKind::AnthropicModel => Ok(anthropic::choice(params)),
        ComponentKind::Agent | ComponentKind::StructuredOutput | ComponentKind::BatchRun => {
            super::agent::choice(params)
        }
        _ => return None,
    })
}

/// Global variables an LLM vertex may read besides its `load_from_db` fields: the provider's
/// key variable when the `api_key` field is empty (and not a `load_from_db` field), and its
/// base-URL variable when no field sets one. The caller resolves them (the owner's variables,
/// then the environment) like the others.
///
/// A Language Model with no model selected yet will get one from tweaks at run time, so it
/// names the variables of every supported provider.
#[must_use]
pub fn implied_variables(kind: super::ComponentKind, params: &Params, key_from_db: bool) -> Vec<&'static str> {
    let choices: Vec<(Provider, bool)> = match choice_for(kind, params) {
        None => return Vec::new(),
        Some(Ok(choice)) => vec![(choice.provider, choice.base_url.is_some())],
        Some(Err(_)) => Provider::ALL.iter().map(|&p| (p, false)).collect(),
    };
    let key_in_field = key_from_db || !API_KEY.text_in(params).is_empty();
    let mut names = Vec::new();
    for (provider, base_in_field) in choices {
        if let (false, Some(var)) = (key_in_field, provider.key_variable()) {
            names.push(var);
        }
        if !base_in_field {
            names.push(provider.base_variable());
        }
    }
    names
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
    fn providers_parse_case_insensitively_and_normalise_ollama() {
        assert_eq!(Provider::parse(" openai "), Some(Provider::OpenAi));
        assert_eq!(Provider::parse("Anthropic"), Some(Provider::Anthropic));
        assert_eq!(Provider::parse("Google Generative AI"), None);
        assert_eq!(Provider::Ollama.normalise_base("http://127.0.0.1:11434/"), "http://127.0.0.1:11434/v1");
        assert_eq!(Provider::Ollama.normalise_base("http://h/v1"), "http://h/v1");
        assert_eq!(Provider::OpenAi.normalise_base("http://h/api/"), "http://h/api");
    }

    #[test]
    fn reads_the_model_option_and_its_overrides() {
        let p = params(json!({"model": [{"name": "claude-x", "provider": "Anthropic", "metadata": {}}]}));
        let c = language_model::choice(&p).unwrap();
        assert_eq!((c.provider, c.model.as_str(), c.base_url), (Provider::Anthropic, "claude-x", None));

        let p = params(json!({"model": "", "model_name": "llama3", "provider": "Ollama",
                              "ollama_base_url": "http://127.0.0.1:11434"}));
        let c = language_model::choice(&p).unwrap();
        assert_eq!((c.provider, c.base_url.as_deref()), (Provider::Ollama, Some("http://127.0.0.1:11434")));

        assert!(language_model::choice(&params(json!({"model": ""})))
            .unwrap_err()
            .contains("A model selection is required"));
        let err = language_model::choice(&params(json!({"model_name": "g", "provider": "Google Generative AI"})))
            .unwrap_err();
        assert!(err.contains("'Google Generative AI' is not supported"));
    }
}
