//! Model components over the real HTTP API, against a scripted OpenAI/Anthropic-compatible
//! server on 127.0.0.1: keys from Credential variables, multi-turn memory, token streaming on
//! `/run?stream=true` and `/build`, and provider failures that never leak a key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{events, fixture, Auth, TestServer};
use crate::mock_llm::{MockLlm, REPLY_PREFIX};
use serde_json::{json, Value};

const OPENAI_NODE: &str = "OpenAIModel-63o3Q";
const LM_NODE: &str = "LanguageModelComponent-FLeYF";
const KEY: &str = "sk-provider-canary-0000";

/// A user with an API key, the OPENAI_API_KEY Credential variable, and the given flow.
fn setup(s: &TestServer, flow: &str) -> (String, String) {
    let (_, t) = s.user("llm-user");
    let (_, key) = s.api_key(&t, "k");
    s.post(
        "/api/v1/variables/",
        Auth::Key(&key),
        &json!({"name": "OPENAI_API_KEY", "value": KEY, "type": "Credential"}),
    )
    .expect(201);
    let mut body = fixture(flow);
    body["name"] = json!(flow);
    let id = s.post("/api/v1/flows/", Auth::Key(&key), &body).json["id"].as_str().unwrap().to_owned();
    (key, id)
}

fn text(r: &Value) -> &str {
    r["outputs"][0]["outputs"][0]["results"]["message"]["text"].as_str().unwrap_or_default()
}

#[test]
fn memory_chatbot_keeps_a_conversation_with_the_owners_credential() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let (key, id) = setup(&s, "memory_chatbot__lf1.4.3.json");
    let tweaks = json!({OPENAI_NODE: {"openai_api_base": mock.openai_base(), "model_name": "gpt-mock"}});
    for turn in ["my name is Ada", "what is my name?"] {
        let r = s.post(
            &format!("/api/v1/run/{id}"),
            Auth::Key(&key),
            &json!({"input_value": turn, "session_id": "chat", "tweaks": tweaks}),
        );
        r.expect(200);
        assert_eq!(text(&r.json), format!("{REPLY_PREFIX}{turn}"));
        assert!(!r.text.contains(KEY));
    }
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].headers["authorization"], format!("Bearer {KEY}"));
    let system = sent[1].message("system").unwrap_or_default();
    assert!(system.contains("my name is Ada") && system.contains(&format!("{REPLY_PREFIX}my name is Ada")), "{system}");
    let history = s.get(&format!("/api/v1/monitor/messages?flow_id={id}&session_id=chat"), Auth::Key(&key));
    assert_eq!(history.json.as_array().unwrap().len(), 4);
    assert!(!history.text.contains(KEY));
}

#[test]
fn tokens_stream_through_run_and_build() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let (key, id) = setup(&s, "basic_prompting__lf1.13.0.json");
    let tweaks = json!({LM_NODE: {"provider": "Ollama", "model_name": "split", "ollama_base_url": mock.url()}});
    let r = s.post(
        &format!("/api/v1/run/{id}?stream=true"),
        Auth::Key(&key),
        &json!({"input_value": "héllo ✨", "tweaks": tweaks}),
    );
    r.expect(200);
    let evs = events(&r.text);
    let tokens: Vec<&Value> = evs.iter().filter(|e| e["event"] == "token").collect();
    assert!(!tokens.is_empty(), "{}", r.text);
    let streamed: String = tokens.iter().map(|t| t["data"]["chunk"].as_str().unwrap()).collect();
    let expected = format!("{REPLY_PREFIX}héllo ✨");
    assert_eq!(streamed, expected);
    let id_of_stream = tokens[0]["data"]["id"].clone();
    assert!(tokens.iter().all(|t| t["data"]["id"] == id_of_stream));
    let partial =
        evs.iter().position(|e| e["event"] == "add_message" && e["data"]["properties"]["state"] == "partial").unwrap();
    let first_token = evs.iter().position(|e| e["event"] == "token").unwrap();
    assert!(partial < first_token);
    assert_eq!(evs.last().unwrap()["event"], "end");
    assert_eq!(text(&evs.last().unwrap()["data"]["result"]), expected);
    assert!(!r.text.contains(KEY));

    // The same flow in the Playground build API: tokens reach the job's event stream too.
    let job = s.post(
        &format!("/api/v1/build/{id}/flow"),
        Auth::Key(&key),
        &json!({"inputs": {"input_value": "again"}, "data": null}),
    );
    job.expect(200);
    let stream = s.get(&format!("/api/v1/build/{}/events", job.json["job_id"].as_str().unwrap()), Auth::Key(&key));
    let evs = events(&stream.text);
    assert_eq!(evs.last().unwrap()["event"], "end");
    assert!(!stream.text.contains(KEY));
}

#[test]
fn a_streamed_answer_reaches_an_appending_client_once() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let (key, id) = setup(&s, "basic_prompting__lf1.13.0.json");
    let tweaks = json!({LM_NODE: {"provider": "Ollama", "model_name": "split", "ollama_base_url": mock.url()}});
    let r = s.post(
        &format!("/api/v1/run/{id}?stream=true"),
        Auth::Key(&key),
        &json!({"input_value": "once", "tweaks": tweaks}),
    );
    r.expect(200);
    // A client shows the partial message, then appends every token of its id (Langflow's UI).
    let mut shown = std::collections::HashMap::<String, String>::new();
    for e in events(&r.text) {
        let d = &e["data"];
        match e["event"].as_str().unwrap() {
            "add_message" if d["properties"]["state"] == "partial" => {
                assert_eq!(d["text"], "", "Langflow's partial message is empty");
                shown.insert(d["id"].as_str().unwrap().to_owned(), d["text"].as_str().unwrap().to_owned());
            }
            "token" => shown.get_mut(d["id"].as_str().unwrap()).unwrap().push_str(d["chunk"].as_str().unwrap()),
            _ => {}
        }
    }
    assert_eq!(shown.into_values().collect::<Vec<_>>(), [format!("{REPLY_PREFIX}once")]);
}

#[test]
fn provider_failures_are_clear_errors_without_the_key() {
    let mock = MockLlm::start();
    let s = TestServer::start_with(&[("FLOWACTOR_LLM_RETRY_BASE_DELAY_MS", "10")]);
    let (key, id) = setup(&s, "memory_chatbot__lf1.4.3.json");
    let run = |model: &str| {
        let tweaks = json!({OPENAI_NODE: {"openai_api_base": mock.openai_base(), "model_name": model}});
        s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x", "tweaks": tweaks}))
    };
    let r = run("unauthorized");
    r.expect(500);
    let detail: Value = serde_json::from_str(r.detail()).unwrap();
    let message = detail["message"].as_str().unwrap();
    assert!(message.contains("401") && message.contains("OpenAI"), "{message}");
    assert!(!r.text.contains(KEY), "{}", r.text);
    mock.set_rate_limits(1);
    let r = run("rate-limited");
    r.expect(200);
    assert_eq!(text(&r.json), format!("{REPLY_PREFIX}x"));
    let tweaks = json!({OPENAI_NODE: {"openai_api_base": mock.openai_base(), "model_name": "malformed"}});
    let r = s.post(
        &format!("/api/v1/run/{id}?stream=true"),
        Auth::Key(&key),
        &json!({"input_value": "x", "tweaks": tweaks}),
    );
    r.expect(200);
    let last = events(&r.text).pop().unwrap();
    assert_eq!(last["event"], "error", "{}", r.text);
    assert!(last["data"]["error"].as_str().unwrap().contains("OpenAI"), "{last}");
    // A metadata address is refused before any request leaves.
    let tweaks = json!({OPENAI_NODE: {"openai_api_base": "http://169.254.169.254/v1", "model_name": "m"}});
    let r = s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x", "tweaks": tweaks}));
    r.expect(500);
    assert!(r.detail().contains("169.254.169.254"), "{}", r.text);
}
