//! What every LLM component does once it knows its provider and model (Langflow's
//! `LCModelComponent`): read the shared fields, resolve the API key, call the provider — streamed
//! token by token when the vertex feeds a Chat Output directly, whole otherwise — and produce
//! `text_output` and `model_output`.
//!
//! The declarations (`crate::catalog::models`) say how each LLM component's fields name the
//! provider, model and base URL. Nothing here knows HTTP: that is `crate::llm`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value as Json};

use super::{BoxFuture, Component, ComponentContext, ComponentError, Data, Inputs, Message, Outputs, Source, Value};
use crate::catalog::models::{
    choice_for, ModelChoice, Provider, API_KEY, INPUT_VALUE, JSON_MODE, MAX_RETRIES, MAX_TOKENS, MODEL_KWARGS,
    MODEL_OUTPUT, SEED, STREAM, SYSTEM_MESSAGE, TEMPERATURE, TEXT_OUTPUT, TIMEOUT,
};
use crate::graph::Params;
use crate::llm::{ApiKey, ChatRequest, LlmError, Protocol};

/// OpenAI, Language Model and Anthropic: one implementation, told apart by their declarations
/// (`crate::catalog::models`), which say how their fields name the provider, model and base URL.
pub struct LanguageModel;

impl Component for LanguageModel {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(run(ctx, inputs))
    }
}

/// Which wire format a provider speaks.
pub(crate) fn protocol(provider: Provider) -> Protocol {
    match provider {
        Provider::OpenAi | Provider::Ollama => Protocol::OpenAi,
        Provider::Anthropic => Protocol::Anthropic,
    }
}

/// The API key and whether it is the operator's (read from the server's environment) rather
/// than the flow owner's.
pub(crate) struct ResolvedKey {
    pub(crate) key: ApiKey,
    pub(crate) from_environment: bool,
}

impl ResolvedKey {
    fn owners(key: ApiKey) -> Self {
        Self { key, from_environment: false }
    }
}

/// The API key: the field's value, or — for a `load_from_db` field — the global variable it
/// names (already substituted when the caller resolved it), or the provider's key variable.
pub(crate) fn api_key(ctx: &ComponentContext, provider: Provider) -> Result<ResolvedKey, ComponentError> {
    let value = API_KEY.text_in(ctx.params()).trim().to_owned();
    let field = ctx.vertex().field(API_KEY.name);
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

pub(crate) fn positive(params: &Params, input: &crate::catalog::Input) -> Option<u64> {
    input.number_in(params).filter(|f| *f >= 1.0).map(|f| f as u64)
}

/// `model_kwargs`: a JSON object, given as a dict field or as JSON text.
fn model_kwargs(params: &Params) -> Map<String, Json> {
    match MODEL_KWARGS.param(params) {
        Some(Json::Object(m)) => m.clone(),
        Some(Json::String(s)) => {
            serde_json::from_str(s).ok().and_then(|j: Json| j.as_object().cloned()).unwrap_or_default()
        }
        _ => Map::new(),
    }
}

/// Runs a provider call, giving up as soon as the build is cancelled. Dropping the call's
/// future drops its connection, so the provider stops generating too.
pub(crate) async fn cancellable<T>(
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

/// The base URL of a choice and whether it is the operator's (the default, or a base-URL
/// variable from the server's environment) rather than the flow owner's.
pub(crate) fn base_url(ctx: &ComponentContext, choice: &ModelChoice) -> (String, bool) {
    let provider = choice.provider;
    match &choice.base_url {
        Some(b) => (provider.normalise_base(b), false),
        None => match ctx.variable(provider.base_variable()).filter(|b| !b.trim().is_empty()) {
            Some(b) => (provider.normalise_base(b), ctx.variable_from_environment(provider.base_variable())),
            None => (provider.default_base().to_owned(), true),
        },
    }
}

/// Where a choice's calls go and with which key: [`base_url`] then [`checked_key`].
pub(crate) fn endpoint(ctx: &ComponentContext, choice: &ModelChoice) -> Result<(String, ResolvedKey), ComponentError> {
    let (base, base_from_environment) = base_url(ctx, choice);
    let key = checked_key(ctx, choice.provider, &base, base_from_environment)?;
    Ok((base, key))
}

/// The API key, refused when it is the operator's and the owner chose where it goes.
pub(crate) fn checked_key(
    ctx: &ComponentContext,
    provider: Provider,
    base_url: &str,
    base_from_environment: bool,
) -> Result<ResolvedKey, ComponentError> {
    let key = api_key(ctx, provider)?;
    if key.from_environment && !key.key.is_empty() && !base_from_environment {
        crate::llm::address::check_credential_destination(
            base_url,
            provider.default_base(),
            &ctx.llm().settings().credential_allowed_hosts,
        )
        .map_err(ComponentError::Failed)?;
    }
    Ok(key)
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
    let (base_url, base_from_environment) = base_url(ctx, &choice);
    let temperature = TEMPERATURE.number_in(params);
    let max_tokens = positive(params, &MAX_TOKENS);
    let mut out = Outputs::new();
    if ctx.wants(&MODEL_OUTPUT) {
        out.set(&MODEL_OUTPUT, model_value(&choice, &base_url, temperature, max_tokens));
    }
    if !ctx.wants(&TEXT_OUTPUT) {
        return Ok(out);
    }

    let a = ctx.args(inputs);
    let user = a.text(&INPUT_VALUE).into_owned();
    let system = a.text(&SYSTEM_MESSAGE).into_owned();
    if user.trim().is_empty() && (system.trim().is_empty() || provider == Provider::Anthropic) {
        return Err(ComponentError::failed("The message you want to send to the model is empty."));
    }
    let key = checked_key(ctx, provider, &base_url, base_from_environment)?;
    let req = ChatRequest {
        provider: provider.name().to_owned(),
        protocol: protocol(provider),
        base_url,
        api_key: key.key,
        model: choice.model.clone(),
        system: Some(system).filter(|s| !s.trim().is_empty()),
        user,
        temperature,
        max_tokens,
        seed: SEED.number_in(params).map(|s| s as i64),
        json_mode: a.bool(&JSON_MODE),
        extra: model_kwargs(params),
        timeout: positive(params, &TIMEOUT).map(Duration::from_secs),
        max_retries: MAX_RETRIES.number_in(params).filter(|r| *r >= 0.0).map(|r| r as u32),
    };
    let msg = answer(ctx, &choice.model);
    // Langflow streams only into a directly connected Chat Output; elsewhere the whole answer
    // is what the next component needs anyway.
    let msg = if a.bool(&STREAM) && ctx.feeds_chat_output() {
        streamed(ctx, &req, msg).await?
    } else {
        let resp = cancellable(ctx, ctx.llm().complete(&req)).await?;
        let mut msg = msg;
        msg.text = resp.text;
        msg.properties.usage = resp.usage.to_json();
        msg
    };
    out.set(&TEXT_OUTPUT, Value::message(msg));
    Ok(out)
}
