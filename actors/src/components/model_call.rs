//! What every LLM component does once it knows its provider and model (Langflow's
//! `LCModelComponent`): read the shared fields, resolve the API key, call the provider — streamed
//! token by token when the vertex feeds a Chat Output directly, whole otherwise — and produce
//! `text_output` and `model_output`.
//!
//! The component files (`openai_model`, `language_model`, `anthropic_model`) only say how their
//! fields name the provider, model and base URL. Nothing here knows HTTP: that is `crate::llm`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value as Json};

use super::{ComponentContext, ComponentError, ComponentKind, Data, Inputs, Message, Outputs, Source, Value};
use crate::graph::{Params, Vertex};
use crate::llm::{ApiKey, ChatRequest, LlmError, Protocol};

/// The providers flowactor can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    OpenAi,
    Anthropic,
    Ollama,
}

impl Provider {
    pub(crate) const ALL: [Self; 3] = [Self::OpenAi, Self::Anthropic, Self::Ollama];

    /// Langflow's provider names, case-insensitively.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "openai" => Some(Self::OpenAi),
            "anthropic" => Some(Self::Anthropic),
            "ollama" => Some(Self::Ollama),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::OpenAi => "OpenAI",
            Self::Anthropic => "Anthropic",
            Self::Ollama => "Ollama",
        }
    }

    fn protocol(self) -> Protocol {
        match self {
            Self::OpenAi | Self::Ollama => Protocol::OpenAi,
            Self::Anthropic => Protocol::Anthropic,
        }
    }

    fn default_base(self) -> &'static str {
        match self {
            Self::OpenAi => "https://api.openai.com/v1",
            Self::Anthropic => "https://api.anthropic.com",
            Self::Ollama => "http://127.0.0.1:11434/v1",
        }
    }

    /// The global variable Langflow reads the key from when the field is empty.
    fn key_variable(self) -> Option<&'static str> {
        match self {
            Self::OpenAi => Some("OPENAI_API_KEY"),
            Self::Anthropic => Some("ANTHROPIC_API_KEY"),
            Self::Ollama => None,
        }
    }

    /// The global variable (or environment variable) naming a base URL when no field does.
    fn base_variable(self) -> &'static str {
        match self {
            Self::OpenAi => "OPENAI_BASE_URL",
            Self::Anthropic => "ANTHROPIC_BASE_URL",
            Self::Ollama => "OLLAMA_BASE_URL",
        }
    }

    /// Ollama's native URL (`http://host:11434`, what Langflow's field holds) serves the
    /// OpenAI-compatible API under `/v1`.
    fn normalise_base(self, base: &str) -> String {
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
pub(crate) struct ModelChoice {
    pub provider: Provider,
    pub model: String,
    pub base_url: Option<String>,
}

/// The first non-empty text among `fields`.
pub(crate) fn first_text(params: &Params, fields: &[&str]) -> Option<String> {
    fields.iter().map(|f| params.text(f).trim().to_owned()).find(|t| !t.is_empty())
}

/// How a vertex of an LLM kind names its model; `None` for other kinds.
fn choice_for(kind: ComponentKind, params: &Params) -> Option<Result<ModelChoice, String>> {
    Some(match kind {
        ComponentKind::OpenAIModel => Ok(super::openai_model::choice(params)),
        ComponentKind::LanguageModel => super::language_model::choice(params),
        ComponentKind::AnthropicModel => Ok(super::anthropic_model::choice(params)),
        _ => return None,
    })
}

/// Global variables an LLM vertex may read besides its `load_from_db` fields: the provider's
/// key variable when the `api_key` field is empty, and its base-URL variable when no field sets
/// one. The caller resolves them (the owner's variables, then the environment) like the others.
///
/// A Language Model with no model selected yet will get one from tweaks at run time, so it
/// names the variables of every supported provider.
pub(crate) fn implied_variables(v: &Vertex) -> Vec<&'static str> {
    let choices: Vec<(Provider, bool)> = match choice_for(v.kind, &v.params) {
        None => return Vec::new(),
        Some(Ok(choice)) => vec![(choice.provider, choice.base_url.is_some())],
        Some(Err(_)) => Provider::ALL.iter().map(|&p| (p, false)).collect(),
    };
    let key_in_field = v.field("api_key").is_some_and(|f| f.load_from_db) || !v.params.text("api_key").is_empty();
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

/// The API key and whether it is the operator's (read from the server's environment) rather
/// than the flow owner's.
struct ResolvedKey {
    key: ApiKey,
    from_environment: bool,
}

impl ResolvedKey {
    fn owners(key: ApiKey) -> Self {
        Self { key, from_environment: false }
    }
}

/// The API key: the field's value, or — for a `load_from_db` field — the global variable it
/// names (already substituted when the caller resolved it), or the provider's key variable.
fn api_key(ctx: &ComponentContext, provider: Provider) -> Result<ResolvedKey, ComponentError> {
    let value = ctx.params().text("api_key").trim().to_owned();
    let field = ctx.vertex().field("api_key");
    let missing = |detail: String| {
        let name = provider.name();
        ComponentError::Failed(format!("{name} API key is required when using {name} provider. {detail}"))
    };
    if let Some(f) = field.filter(|f| f.load_from_db) {
        let var = f.value.as_str().unwrap_or_default().trim();
        // An unchanged value is the variable's name: the variable was not resolved.
        if !value.is_empty() && value != var {
            let from_environment = ctx.variable_from_environment(var) && ctx.variable(var) == Some(value.as_str());
            return Ok(ResolvedKey { key: ApiKey::new(value), from_environment });
        }
        return match ctx.variable(var).filter(|v| !v.is_empty()) {
            Some(key) => {
                Ok(ResolvedKey { key: ApiKey::new(key), from_environment: ctx.variable_from_environment(var) })
            }
            None if provider.key_variable().is_none() => Ok(ResolvedKey::owners(ApiKey::default())),
            None => Err(missing(format!(
                "The variable '{var}' referenced by the component's `api_key` field could not be resolved from \
                 Global Variables or the environment."
            ))),
        };
    }
    if !value.is_empty() {
        return Ok(ResolvedKey::owners(ApiKey::new(value)));
    }
    match provider.key_variable() {
        None => Ok(ResolvedKey::owners(ApiKey::default())),
        Some(var) => ctx
            .variable(var)
            .filter(|v| !v.is_empty())
            .map(|key| ResolvedKey { key: ApiKey::new(key), from_environment: ctx.variable_from_environment(var) })
            .ok_or_else(|| missing(format!("Please provide it in the component or configure it globally as {var}."))),
    }
}

fn number(params: &Params, name: &str) -> Option<f64> {
    match params.get(name)? {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

fn positive(params: &Params, name: &str) -> Option<u64> {
    number(params, name).filter(|f| *f >= 1.0).map(|f| f as u64)
}

/// `model_kwargs`: a JSON object, given as a dict field or as JSON text.
fn model_kwargs(params: &Params) -> Map<String, Json> {
    match params.get("model_kwargs") {
        Some(Json::Object(m)) => m.clone(),
        Some(Json::String(s)) => {
            serde_json::from_str(s).ok().and_then(|j: Json| j.as_object().cloned()).unwrap_or_default()
        }
        _ => Map::new(),
    }
}

/// Runs a provider call, giving up as soon as the build is cancelled. Dropping the call's
/// future drops its connection, so the provider stops generating too.
async fn cancellable<T>(
    ctx: &ComponentContext,
    call: impl Future<Output = Result<T, LlmError>>,
) -> Result<T, ComponentError> {
    tokio::select! {
        biased;
        () = ctx.cancel_token().cancelled() => Err(ComponentError::Cancelled),
        result = call => result.map_err(|e| ComponentError::Failed(e.0)),
    }
}

/// The AI message this vertex answers with (text filled in later).
fn answer(ctx: &ComponentContext, model: &str) -> Message {
    let v = ctx.vertex();
    let mut m = ctx.new_message(String::new());
    m.sender = Some("Machine".into());
    m.sender_name = Some("AI".into());
    m.session_id = Some(ctx.run_session().to_owned());
    m.properties.source =
        Source { id: Some(v.id.to_string()), display_name: Some(v.display_name.clone()), source: Some(model.into()) };
    m.properties.icon.clone_from(&v.icon);
    m
}

/// `model_output`: what the vertex would call, without the key.
fn model_value(choice: &ModelChoice, base_url: &str, req_temperature: Option<f64>, max_tokens: Option<u64>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!("LanguageModel"));
    m.insert("provider".into(), json!(choice.provider.name()));
    m.insert("model_name".into(), json!(choice.model));
    m.insert("base_url".into(), json!(base_url));
    m.insert("temperature".into(), json!(req_temperature));
    m.insert("max_tokens".into(), json!(max_tokens));
    m.insert("text".into(), json!(format!("{} {}", choice.provider.name(), choice.model)));
    Value::Data(Arc::new(Data::new(m)))
}

/// Streams the answer: `add_message` (partial, empty) on the first chunk, `token` for every chunk,
/// then the complete message stored and announced under the same id.
async fn streamed(ctx: &ComponentContext, req: &ChatRequest, mut msg: Message) -> Result<Message, ComponentError> {
    let mut stream = cancellable(ctx, ctx.llm().stream(req)).await?;
    let mut full = String::new();
    while let Some(chunk) = cancellable(ctx, stream.next_chunk()).await? {
        full.push_str(&chunk);
        ctx.check_message_size(full.len())?;
        if msg.id.is_none() {
            // As in Langflow, the partial message is announced empty: every chunk, the first
            // included, then arrives exactly once as a `token` event.
            msg = ctx.begin_stream(msg).await?;
        }
        if let Some(id) = msg.id {
            ctx.send_token(id, &chunk).await?;
        }
    }
    let usage = stream.usage();
    drop(stream);
    msg.text = full;
    msg.properties.state = "complete";
    msg.properties.usage = usage.to_json();
    if msg.id.is_some() {
        msg = ctx.send_message(msg, true).await?;
    }
    Ok(msg)
}

/// The shared body of every LLM component.
pub(crate) async fn run(ctx: &ComponentContext, inputs: &Inputs) -> Result<Outputs, ComponentError> {
    let params = ctx.params();
    let choice = match choice_for(ctx.vertex().kind, params) {
        Some(Ok(c)) => c,
        Some(Err(e)) => return Err(ComponentError::Failed(e)),
        None => return Err(ComponentError::failed("not a language model component")),
    };
    let provider = choice.provider;
    // A base URL from the server's environment is the operator's choice, like the default.
    let (base_url, base_from_environment) = match &choice.base_url {
        Some(b) => (provider.normalise_base(b), false),
        None => match ctx.variable(provider.base_variable()).filter(|b| !b.trim().is_empty()) {
            Some(b) => (provider.normalise_base(b), ctx.variable_from_environment(provider.base_variable())),
            None => (provider.default_base().to_owned(), true),
        },
    };
    let temperature = number(params, "temperature");
    let max_tokens = positive(params, "max_tokens");
    let mut out = Outputs::new();
    if ctx.wants("model_output") {
        out.set("model_output", model_value(&choice, &base_url, temperature, max_tokens));
    }
    if !ctx.wants("text_output") {
        return Ok(out);
    }

    let a = ctx.args(inputs);
    let user = a.text("input_value").into_owned();
    let system = a.text("system_message").into_owned();
    if user.trim().is_empty() && (system.trim().is_empty() || provider == Provider::Anthropic) {
        return Err(ComponentError::failed("The message you want to send to the model is empty."));
    }
    let key = api_key(ctx, provider)?;
    if key.from_environment && !key.key.is_empty() && !base_from_environment {
        crate::llm::address::check_credential_destination(
            &base_url,
            provider.default_base(),
            &ctx.llm().settings().credential_allowed_hosts,
        )
        .map_err(ComponentError::Failed)?;
    }
    let req = ChatRequest {
        provider: provider.name().to_owned(),
        protocol: provider.protocol(),
        base_url,
        api_key: key.key,
        model: choice.model.clone(),
        system: Some(system).filter(|s| !s.trim().is_empty()),
        user,
        temperature,
        max_tokens,
        seed: number(params, "seed").map(|s| s as i64),
        json_mode: a.bool("json_mode", false),
        extra: model_kwargs(params),
        timeout: positive(params, "timeout").map(Duration::from_secs),
        max_retries: number(params, "max_retries").filter(|r| *r >= 0.0).map(|r| r as u32),
    };
    let msg = answer(ctx, &choice.model);
    // Langflow streams only into a directly connected Chat Output; elsewhere the whole answer
    // is what the next component needs anyway.
    let msg = if a.bool("stream", false) && ctx.feeds_chat_output() {
        streamed(ctx, &req, msg).await?
    } else {
        let resp = cancellable(ctx, ctx.llm().complete(&req)).await?;
        let mut msg = msg;
        msg.text = resp.text;
        msg.properties.usage = resp.usage.to_json();
        msg
    };
    out.set("text_output", Value::message(msg));
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::graph::FlowBuilder;
    use serde_json::json;

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
    fn implied_variables_follow_empty_fields() {
        let mut b = FlowBuilder::new();
        b.node(
            "LanguageModelComponent-a",
            "LanguageModelComponent",
            json!({"api_key": "", "provider": "Anthropic", "model_name": "c"}),
        )
        .node("OpenAIModel-b", "OpenAIModel", json!({"api_key": "sk-x", "openai_api_base": "http://h/v1"}));
        let g = crate::graph::CompiledGraph::parse(&b.build()).unwrap();
        assert_eq!(implied_variables(&g.vertices[0]), ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]);
        assert!(implied_variables(&g.vertices[1]).is_empty());
        assert_eq!(g.required_variables(), ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]);
    }
}
