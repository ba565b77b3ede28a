//! LLM components end to end: Langflow's starter flows run through the engine against a mock
//! provider on 127.0.0.1 (real HTTP, real SSE), covering streaming, history, retries, errors,
//! timeouts, cancellation, the address policy and key resolution.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/mock_llm.rs"]
mod mock_llm;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowactor_actors::engine::{
    ArbiterPool, BuildError, BuildEvent, BuildRequest, Engine, EngineSettings, LlmSettings, Mode, RunOutcome,
};
use flowactor_actors::graph::CompiledGraph;
use flowactor_actors::llm::address::OutboundPolicy;
use flowactor_actors::llm::{ApiKey, ChatMessage, ChatRequest, ConversationRequest, LlmRuntime, Protocol};
use flowactor_actors::store::messages::MessageStore;
use flowactor_actors::store::Store;
use mock_llm::{MockLlm, REPLY_PREFIX, SLOW_DELAY};
use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

const MEMORY_CHATBOT: &str = "memory_chatbot__lf1.4.3.json";
const BASIC_PROMPTING: &str = "basic_prompting__lf1.13.0.json";
const OPENAI_NODE: &str = "OpenAIModel-63o3Q";
const LM_NODE: &str = "LanguageModelComponent-FLeYF";
const BASIC_OUTPUT: &str = "ChatOutput-yK0AU";
const MEMORY_OUTPUT: &str = "ChatOutput-BIXzI";

fn fixture(name: &str) -> Json {
    let path = format!("{}/../tests/fixtures/flows/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Fast retries and a short timeout, so failure paths finish quickly; the mock provider's
/// loopback address allow-listed.
fn test_llm_settings() -> LlmSettings {
    LlmSettings {
        timeout: Duration::from_secs(5),
        max_retries: 2,
        retry_base_delay: Duration::from_millis(10),
        outbound: OutboundPolicy::new(true, &["127.0.0.1".to_owned()]).unwrap(),
        ..LlmSettings::default()
    }
}

fn engine_with(llm: LlmSettings) -> Engine {
    let store = Store::temporary().unwrap();
    Engine::new(
        ArbiterPool::new(2),
        MessageStore::open(&store).unwrap(),
        EngineSettings { llm, ..EngineSettings::default() },
    )
}

fn engine() -> Engine {
    engine_with(test_llm_settings())
}

fn compile(engine: &Engine, file: &str) -> (Uuid, Arc<CompiledGraph>) {
    let flow = fixture(file);
    let id = Uuid::new_v4();
    let hash = flowactor_actors::engine::content_hash(flow.to_string().as_bytes());
    (id, engine.compile(id, hash, &flow).unwrap())
}

async fn run(
    engine: &Engine,
    graph: &Arc<CompiledGraph>,
    req: BuildRequest,
) -> (Vec<BuildEvent>, Result<RunOutcome, BuildError>) {
    engine.start(graph.clone(), req).unwrap().collect().await
}

/// basic_prompting pointed at the mock as an "Ollama" (OpenAI-compatible) server.
fn ollama_tweaks(mock: &MockLlm, model: &str) -> Json {
    json!({LM_NODE: {"provider": "Ollama", "model_name": model, "ollama_base_url": mock.url()}})
}

/// memory_chatbot pointed at the mock through `openai_api_base`.
fn openai_tweaks(mock: &MockLlm, model: &str) -> Json {
    json!({OPENAI_NODE: {"openai_api_base": mock.openai_base(), "model_name": model}})
}

fn key_vars(key: &str) -> HashMap<String, String> {
    HashMap::from([("OPENAI_API_KEY".to_owned(), key.to_owned())])
}

fn failure(outcome: Result<RunOutcome, BuildError>) -> String {
    match outcome {
        Err(BuildError::Failed(text)) => text,
        other => panic!("expected a failed run, got {other:?}"),
    }
}

#[actix_rt::test]
async fn memory_chatbot_feeds_history_into_the_prompt_across_turns() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, MEMORY_CHATBOT);
    assert!(graph.required_variables().iter().any(|v| v == "OPENAI_API_KEY"));
    for turn in ["my name is Ada", "what is my name?"] {
        let req = BuildRequest {
            variables: key_vars("sk-from-variables"),
            ..BuildRequest::run(flow_id)
                .with_input(turn)
                .with_session("chat-1")
                .with_tweaks(openai_tweaks(&mock, "gpt-mock"))
        };
        let (_, outcome) = run(&engine, &graph, req).await;
        assert_eq!(outcome.unwrap().text_of(MEMORY_OUTPUT).unwrap(), format!("{REPLY_PREFIX}{turn}"));
    }
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    let second = &requests[1];
    assert_eq!(second.path, "/v1/chat/completions");
    // load_from_db `api_key` = "OPENAI_API_KEY", resolved from the request's variables.
    assert_eq!(second.headers["authorization"], "Bearer sk-from-variables");
    assert_eq!(second.body["model"], "gpt-mock");
    assert_eq!(second.body["stream"], false);
    assert_eq!(second.message("user").unwrap(), "what is my name?");
    let system = second.message("system").unwrap();
    assert!(system.contains("User: my name is Ada"), "{system}");
    assert!(system.contains(&format!("AI: {REPLY_PREFIX}my name is Ada")), "{system}");
    assert!(!requests[0].message("system").unwrap().contains("AI:"), "the first turn has no answer yet");
}

#[actix_rt::test]
async fn streamed_tokens_arrive_in_order_under_one_message_id() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, BASIC_PROMPTING);
    let input = "héllo wörld ✨";
    let req = BuildRequest {
        stream: true,
        ..BuildRequest::run(flow_id).with_input(input).with_tweaks(ollama_tweaks(&mock, "split"))
    };
    let (events, outcome) = run(&engine, &graph, req).await;
    let outcome = outcome.unwrap();
    let expected = format!("{REPLY_PREFIX}{input}");

    let names: Vec<&str> = events.iter().map(|e| e.name).collect();
    let tokens: Vec<&BuildEvent> = events.iter().filter(|e| e.name == "token").collect();
    assert_eq!(tokens.len(), 5);
    let mut expect = vec!["add_message", "add_message"];
    expect.extend(std::iter::repeat_n("token", 5));
    expect.extend(["add_message", "add_message"]);
    assert_eq!(names, expect);

    let partial = &events[1].data;
    let id = partial["id"].as_str().unwrap().to_owned();
    assert_eq!(partial["properties"]["state"], "partial");
    assert_eq!(partial["text"], "", "the placeholder is empty, as in Langflow: every chunk arrives once as a token");
    assert!(tokens.iter().all(|t| t.data["id"] == id.as_str()));
    let streamed: String = tokens.iter().map(|t| t.data["chunk"].as_str().unwrap()).collect();
    assert_eq!(streamed, expected);
    let complete = &events[7].data;
    assert_eq!((complete["id"].as_str(), complete["text"].as_str()), (Some(id.as_str()), Some(expected.as_str())));
    assert_eq!(complete["properties"]["state"], "complete");
    assert_eq!(complete["properties"]["usage"], json!({"input_tokens": 11, "output_tokens": 5, "total_tokens": 16}));
    let chat_output = &events[8].data;
    assert_eq!(chat_output["id"], id.as_str(), "Chat Output re-stores the streamed message");
    assert_eq!(outcome.text_of(BASIC_OUTPUT).unwrap(), expected);

    // One stored AI row: the placeholder was finalised, not duplicated.
    let rows = engine.messages().last_n(flow_id, &flow_id.to_string(), 10).unwrap();
    let ai: Vec<_> = rows.iter().filter(|r| r.sender == "Machine").collect();
    assert_eq!(ai.len(), 1);
    assert_eq!((ai[0].id.to_string(), ai[0].text.as_str()), (id, expected.as_str()));
    assert!(ai[0].properties.contains("\"complete\""));
    assert_eq!(mock.requests()[0].body["stream"], true);
}

#[actix_rt::test]
async fn the_first_token_goes_out_before_the_stream_ends() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, BASIC_PROMPTING);
    let req = BuildRequest {
        stream: true,
        ..BuildRequest::run(flow_id).with_input("hi").with_tweaks(ollama_tweaks(&mock, "slow"))
    };
    let mut handle = engine.start(graph, req).unwrap();
    let start = Instant::now();
    let mut token_times = Vec::new();
    while let Some(e) = handle.events.recv().await {
        if e.name == "token" {
            token_times.push(start.elapsed());
        }
    }
    handle.outcome.await.unwrap().unwrap();
    assert_eq!(token_times.len(), 5);
    // Each event is sent SLOW_DELAY apart; a buffering client would deliver all tokens at once.
    let spread = token_times[4] - token_times[0];
    assert!(spread >= SLOW_DELAY * 3, "tokens were bunched: {token_times:?}");
}

#[actix_rt::test]
async fn without_a_chat_output_or_stream_flag_the_answer_comes_whole_with_usage() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, BASIC_PROMPTING);
    let req = BuildRequest::run(flow_id).with_input("ping").with_tweaks(ollama_tweaks(&mock, "plain"));
    let (events, outcome) = run(&engine, &graph, req).await;
    let outcome = outcome.unwrap();
    assert_eq!(events.iter().filter(|e| e.name == "token").count(), 0);
    let resp = outcome.run_response(Some("ping"), "chat", None);
    let out = &resp["outputs"][0]["outputs"][0];
    assert_eq!(out["results"]["message"]["text"], format!("{REPLY_PREFIX}ping"));
    let usage = json!({"input_tokens": 11, "output_tokens": 5, "total_tokens": 16});
    assert_eq!(out["results"]["message"]["properties"]["usage"], usage);
    assert_eq!(out["token_usage"], usage);
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions", "Ollama's native URL gets /v1");
    assert!(!sent.headers.contains_key("authorization"), "Ollama needs no key");
    assert_eq!(sent.message("system").unwrap(), fixture_prompt());
    assert_eq!(sent.body["temperature"], 0.1);

    // /build shows the LLM vertex's outputs (with model_output) and never a key.
    let req = BuildRequest {
        mode: Mode::Build,
        ..BuildRequest::run(flow_id).with_input("ping").with_tweaks(json!({LM_NODE: {
            "provider": "OpenAI", "model_name": "plain", "api_key": "sk-shown-nowhere-42"}}))
    };
    let req = BuildRequest { variables: HashMap::from([("OPENAI_BASE_URL".into(), mock.openai_base())]), ..req };
    let (events, outcome) = run(&engine, &graph, req).await;
    assert!(outcome.is_ok());
    let all = serde_json::to_string(&events.iter().map(BuildEvent::to_json).collect::<Vec<_>>()).unwrap();
    assert!(!all.contains("sk-shown-nowhere-42"));
    assert_eq!(mock.requests()[1].headers["authorization"], "Bearer sk-shown-nowhere-42");
}

fn fixture_prompt() -> String {
    "Answer the user as if you were a GenAI expert, enthusiastic about helping them get started building something fresh."
        .to_owned()
}

#[actix_rt::test]
async fn anthropic_streams_and_answers_whole() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, BASIC_PROMPTING);
    for (stream, model) in [(true, "claude-mock"), (true, "split"), (false, "claude-mock")] {
        let req = BuildRequest {
            stream,
            variables: HashMap::from([
                ("ANTHROPIC_API_KEY".into(), "sk-ant-test".into()),
                ("ANTHROPIC_BASE_URL".into(), mock.url()),
            ]),
            ..BuildRequest::run(flow_id)
                .with_input("bonjour ✨")
                .with_tweaks(json!({LM_NODE: {"provider": "Anthropic", "model_name": model}}))
        };
        let (events, outcome) = run(&engine, &graph, req).await;
        let outcome = outcome.unwrap();
        assert_eq!(outcome.text_of(BASIC_OUTPUT).unwrap(), format!("{REPLY_PREFIX}bonjour ✨"), "{model}");
        let tokens = events.iter().filter(|e| e.name == "token").count();
        assert_eq!(tokens, if stream { 5 } else { 0 }, "{model}");
        let usage = &outcome.vertex(BASIC_OUTPUT).unwrap().token_usage();
        assert_eq!(*usage, json!({"input_tokens": 11, "output_tokens": 5, "total_tokens": 16}), "{model}");
    }
    for sent in mock.requests() {
        assert_eq!(sent.path, "/v1/messages");
        assert_eq!(sent.headers["x-api-key"], "sk-ant-test");
        assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
        assert_eq!(sent.message("system").unwrap(), fixture_prompt());
        assert_eq!(sent.body["max_tokens"], 4096);
    }
}

#[actix_rt::test]
async fn rate_limits_are_retried_then_succeed() {
    let mock = MockLlm::start();
    mock.set_rate_limits(2);
    let engine = engine();
    let (flow_id, graph) = compile(&engine, MEMORY_CHATBOT);
    let req = BuildRequest {
        variables: key_vars("sk-test"),
        ..BuildRequest::run(flow_id).with_input("again").with_tweaks(openai_tweaks(&mock, "rate-limited"))
    };
    let (_, outcome) = run(&engine, &graph, req).await;
    assert_eq!(outcome.unwrap().text_of(MEMORY_OUTPUT).unwrap(), format!("{REPLY_PREFIX}again"));
    assert_eq!(mock.requests().len(), 3);
}

#[actix_rt::test]
async fn server_errors_give_up_after_the_bounded_retries() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, MEMORY_CHATBOT);
    let req = BuildRequest {
        variables: key_vars("sk-test"),
        ..BuildRequest::run(flow_id).with_input("x").with_tweaks(openai_tweaks(&mock, "server-error"))
    };
    let text = failure(run(&engine, &graph, req).await.1);
    assert!(text.contains("OpenAI API error: 500 Internal Server Error"), "{text}");
    assert!(text.contains("after 3 attempts"), "{text}");
    assert_eq!(mock.requests().len(), 3, "max_retries = 2");
}

#[actix_rt::test]
async fn unauthorized_names_the_provider_and_status_and_never_the_key() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, MEMORY_CHATBOT);
    let key = "sk-very-secret-key-123";
    for mode in [Mode::Run, Mode::Build] {
        let req = BuildRequest {
            variables: key_vars(key),
            mode,
            ..BuildRequest::run(flow_id).with_input("x").with_tweaks(openai_tweaks(&mock, "unauthorized"))
        };
        let (events, outcome) = run(&engine, &graph, req).await;
        let all = serde_json::to_string(&events.iter().map(BuildEvent::to_json).collect::<Vec<_>>()).unwrap();
        assert!(!all.contains(key), "the key leaked into the events: {all}");
        assert!(all.contains("OpenAI API error: 401 Unauthorized"));
        if mode == Mode::Run {
            let text = failure(outcome);
            assert!(text.contains("OpenAI API error: 401 Unauthorized"), "{text}");
            // The upstream's body (here an echo of the key) is never reflected.
            assert!(!text.contains("Incorrect API key provided"), "{text}");
            assert!(text.contains("(authentication_error)"), "{text}");
            assert!(!text.contains(key));
        }
    }
    assert_eq!(mock.requests().len(), 2, "a 401 is not retried");
    let stored = engine.messages().last_n(flow_id, &flow_id.to_string(), 20).unwrap();
    assert!(stored.iter().all(|m| !m.text.contains(key)));
}

#[actix_rt::test]
async fn a_missing_key_names_the_provider_and_the_variable() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, MEMORY_CHATBOT);
    let req = BuildRequest::run(flow_id).with_input("x").with_tweaks(openai_tweaks(&mock, "gpt-mock"));
    let text = failure(run(&engine, &graph, req).await.1);
    assert!(text.contains("OpenAI API key is required when using OpenAI provider"), "{text}");
    assert!(text.contains("'OPENAI_API_KEY'"), "{text}");
    assert!(mock.requests().is_empty());

    let (flow_id, graph) = compile(&engine, BASIC_PROMPTING);
    let req = BuildRequest::run(flow_id)
        .with_input("x")
        .with_tweaks(json!({LM_NODE: {"provider": "Anthropic", "model_name": "claude-mock"}}));
    let text = failure(run(&engine, &graph, req).await.1);
    assert!(text.contains("Anthropic API key is required"), "{text}");
    assert!(text.contains("ANTHROPIC_API_KEY"), "{text}");
}

#[actix_rt::test]
async fn a_tweaked_key_replaces_the_variable_reference() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, MEMORY_CHATBOT);
    let mut tweaks = openai_tweaks(&mock, "gpt-mock");
    tweaks[OPENAI_NODE]["api_key"] = json!("sk-literal");
    let (_, outcome) = run(&engine, &graph, BuildRequest::run(flow_id).with_input("x").with_tweaks(tweaks)).await;
    assert!(outcome.is_ok());
    assert_eq!(mock.requests()[0].headers["authorization"], "Bearer sk-literal");
}

#[actix_rt::test]
async fn a_hanging_provider_times_out() {
    let mock = MockLlm::start();
    let engine = engine_with(LlmSettings { timeout: Duration::from_millis(300), ..test_llm_settings() });
    let (flow_id, graph) = compile(&engine, MEMORY_CHATBOT);
    let started = Instant::now();
    let req = BuildRequest {
        variables: key_vars("sk-test"),
        ..BuildRequest::run(flow_id).with_input("x").with_tweaks(openai_tweaks(&mock, "hang"))
    };
    let text = failure(run(&engine, &graph, req).await.1);
    assert!(text.contains("OpenAI API error: request timed out after 0.3 s"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(mock.wait_aborted(1, Duration::from_secs(5)).await, "the timed-out connection is closed");
}

#[actix_rt::test]
async fn a_malformed_stream_is_a_clear_error() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, BASIC_PROMPTING);
    let req = BuildRequest {
        stream: true,
        ..BuildRequest::run(flow_id).with_input("x").with_tweaks(ollama_tweaks(&mock, "malformed"))
    };
    let text = failure(run(&engine, &graph, req).await.1);
    assert!(text.contains("Ollama API error: malformed stream event (not JSON)"), "{text}");
}

#[actix_rt::test]
async fn cancelling_aborts_the_upstream_request() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, BASIC_PROMPTING);
    // A stream in progress: cancel after the first token.
    let req = BuildRequest {
        stream: true,
        ..BuildRequest::run(flow_id).with_input("x").with_tweaks(ollama_tweaks(&mock, "slow"))
    };
    let mut handle = engine.start(graph.clone(), req).unwrap();
    while let Some(e) = handle.events.recv().await {
        if e.name == "token" {
            break;
        }
    }
    let cancelled_at = Instant::now();
    handle.cancel.cancel();
    assert!(mock.wait_aborted(1, Duration::from_secs(5)).await, "the mock never saw the stream close");
    assert!(cancelled_at.elapsed() < SLOW_DELAY * 4);
    assert_eq!(handle.finish().await.unwrap_err(), BuildError::Cancelled);

    // A request still waiting for its answer.
    let req = BuildRequest::run(flow_id).with_input("x").with_tweaks(ollama_tweaks(&mock, "hang"));
    let handle = engine.start(graph, req).unwrap();
    let waited = Instant::now();
    while mock.requests().len() < 2 {
        assert!(waited.elapsed() < Duration::from_secs(5), "the request never reached the mock");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    handle.cancel.cancel();
    assert!(mock.wait_aborted(2, Duration::from_secs(5)).await, "the mock never saw the request close");
}

#[actix_rt::test]
async fn metadata_addresses_are_refused() {
    let engine = engine();
    let (flow_id, graph) = compile(&engine, MEMORY_CHATBOT);
    for base in ["http://169.254.169.254/v1", "http://[fd00:ec2::254]/v1", "http://[fe80::1]:8080/v1"] {
        let req = BuildRequest {
            variables: key_vars("sk-test"),
            ..BuildRequest::run(flow_id)
                .with_input("x")
                .with_tweaks(json!({OPENAI_NODE: {"openai_api_base": base, "model_name": "m"}}))
        };
        let text = failure(run(&engine, &graph, req).await.1);
        assert!(text.contains("OpenAI API error: refusing to connect to"), "{base}: {text}");
    }
}

fn direct_request(mock: &MockLlm, model: &str) -> ChatRequest {
    ChatRequest {
        provider: "OpenAI".into(),
        protocol: Protocol::OpenAi,
        base_url: mock.openai_base(),
        api_key: ApiKey::new("sk-test"),
        model: model.into(),
        system: None,
        user: "hi".into(),
        temperature: None,
        max_tokens: None,
        seed: None,
        json_mode: false,
        extra: Map::new(),
        timeout: None,
        max_retries: None,
    }
}

#[actix_rt::test]
async fn calls_beyond_the_provider_limit_wait_for_a_slot() {
    let mock = MockLlm::start();
    let rt = LlmRuntime::new(LlmSettings { concurrency_per_provider: 1, ..test_llm_settings() });
    let mut first = rt.stream(&direct_request(&mock, "slow")).await.unwrap();
    let plain = direct_request(&mock, "plain");
    let second = rt.complete(&plain);
    tokio::pin!(second);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut second).await.is_err(),
        "the second call ran while the first held the only slot"
    );
    assert_eq!(mock.requests().len(), 1);
    assert_eq!(first.next_chunk().await.unwrap().as_deref(), Some("You"));
    drop(first);
    assert_eq!(second.await.unwrap().text, format!("{REPLY_PREFIX}hi"));
    assert_eq!(mock.requests().len(), 2);
}

#[actix_rt::test]
async fn chained_models_answer_whole_and_only_the_last_one_streams() {
    let mock = MockLlm::start();
    let engine = engine();
    let (flow_id, graph) = compile(&engine, "basic_prompt_chaining__lf1.4.3.json");
    // Global tweaks reach every node with the field: all three OpenAI components.
    let req = BuildRequest {
        stream: true,
        variables: key_vars("sk-test"),
        ..BuildRequest::run(flow_id)
            .with_input("idea")
            .with_tweaks(json!({"openai_api_base": mock.openai_base(), "model_name": "chain"}))
    };
    let (events, outcome) = run(&engine, &graph, req).await;
    let outcome = outcome.unwrap();
    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests.iter().map(|r| r.body["stream"] == true).collect::<Vec<_>>(), [false, false, true]);
    let final_text = format!("{REPLY_PREFIX}{REPLY_PREFIX}{REPLY_PREFIX}idea");
    let tokens: String =
        events.iter().filter(|e| e.name == "token").map(|e| e.data["chunk"].as_str().unwrap()).collect();
    assert_eq!(tokens, final_text);
    let output = graph.vertices.iter().find(|v| v.is_output()).unwrap();
    assert_eq!(outcome.text_of(&output.id).unwrap(), final_text);
}

#[actix_rt::test]
async fn host_names_resolve_through_the_address_policy() {
    let mock = MockLlm::start();
    let mut req = direct_request(&mock, "plain");
    req.base_url = mock.openai_base().replace("127.0.0.1", "localhost");
    // Allowing the address 127.0.0.1 does not allow the name: it also resolves to ::1 here, or is
    // refused for clear text.
    let err = LlmRuntime::new(test_llm_settings()).complete(&req).await.unwrap_err().0;
    assert!(err.contains("LANGFLOW_SSRF_ALLOWED_HOSTS"), "{err}");
    assert_eq!(mock.connections(), 0);
    let listed =
        LlmSettings { outbound: OutboundPolicy::new(true, &["localhost".to_owned()]).unwrap(), ..test_llm_settings() };
    let rt = LlmRuntime::new(listed);
    assert_eq!(rt.complete(&req).await.unwrap().text, format!("{REPLY_PREFIX}hi"), "a listed name is allowed");
    req.base_url = "https://no-such-host.invalid/v1".into();
    let err = rt.complete(&req).await.unwrap_err().0;
    assert!(err.starts_with("OpenAI API error: request to https://no-such-host.invalid/v1 failed"), "{err}");
}

#[actix_rt::test]
async fn names_resolving_to_refused_addresses_are_never_contacted() {
    let mock = MockLlm::start();
    let rt = LlmRuntime::new(LlmSettings { outbound: OutboundPolicy::default(), ..test_llm_settings() });
    let mut req = direct_request(&mock, "plain");
    // https, so the refusal comes from the resolver (the name is checked where it is resolved).
    req.base_url = mock.openai_base().replace("http://127.0.0.1", "https://localhost");
    let err = rt.complete(&req).await.unwrap_err().0;
    assert!(err.contains("refusing to connect to localhost") && err.contains("a loopback address"), "{err}");
    req.base_url = mock.openai_base();
    let err = rt.complete(&req).await.unwrap_err().0;
    assert!(err.contains("refusing to connect to 127.0.0.1"), "{err}");
    assert_eq!(mock.connections(), 0);
}

#[actix_rt::test]
async fn conversations_stream_and_answer_whole_under_the_same_policy() {
    let mock = MockLlm::start();
    let rt = LlmRuntime::new(test_llm_settings());
    for stream in [true, false] {
        let mut req =
            ConversationRequest::new("OpenAI", Protocol::OpenAi, &mock.openai_base(), ApiKey::new("sk-test"), "m");
        req.stream = stream;
        req.messages = vec![ChatMessage::System("sys".into()), ChatMessage::User("héllo".into())];
        let mut streamed = String::new();
        let turn = rt.converse(&req, &mut |t: &str| streamed.push_str(t)).await.unwrap();
        assert_eq!(turn.text, format!("{REPLY_PREFIX}héllo"));
        assert_eq!(streamed, turn.text);
        assert!(turn.tool_calls.is_empty());
        assert_eq!(turn.usage.total_tokens, Some(16));
    }
    let sent = mock.requests();
    assert_eq!(sent[0].body["stream_options"], json!({"include_usage": true}));
    assert_eq!(sent[1].body["stream"], false);
    assert_eq!(sent[1].headers["authorization"], "Bearer sk-test");

    // A key over plain http to a host the policy does not list is refused before any connect,
    // and the upstream's error text never reaches the caller.
    let before = mock.connections();
    let base = mock.openai_base().replace("127.0.0.1", "localhost");
    let mut req = ConversationRequest::new("OpenAI", Protocol::OpenAi, &base, ApiKey::new("sk-test"), "m");
    req.messages = vec![ChatMessage::User("x".into())];
    let err = rt.converse(&req, &mut |_: &str| {}).await.unwrap_err();
    assert!(err.0.starts_with("OpenAI API error: refusing"), "{err}");
    assert_eq!(mock.connections(), before);
    let mut req = ConversationRequest::new(
        "OpenAI",
        Protocol::OpenAi,
        &mock.openai_base(),
        ApiKey::new("sk-test"),
        "unauthorized",
    );
    req.messages = vec![ChatMessage::User("x".into())];
    let err = rt.converse(&req, &mut |_: &str| {}).await.unwrap_err();
    assert_eq!(err.0, "OpenAI API error: 401 Unauthorized (authentication_error)");
}
