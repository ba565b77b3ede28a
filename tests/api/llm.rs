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

/// `/run?stream=true` of the Basic Prompting flow against the mock's chunked ("split") model.
fn stream_split_answer(s: &TestServer, mock: &MockLlm, key: &str, id: &str, input: &str) -> crate::common::Resp {
    let tweaks = json!({LM_NODE: {"provider": "Ollama", "model_name": "split", "ollama_base_url": mock.url()}});
    let r = s.post(
        &format!("/api/v1/run/{id}?stream=true"),
        Auth::Key(key),
        &json!({"input_value": input, "tweaks": tweaks}),
    );
    r.expect(200);
    r
}

#[test]
fn tokens_stream_through_run_and_build() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let (key, id) = setup(&s, "basic_prompting__lf1.13.0.json");
    let r = stream_split_answer(&s, &mock, &key, &id, "héllo ✨");
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
    let r = stream_split_answer(&s, &mock, &key, &id, "once");
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

fn run_error(r: &crate::common::Resp) -> String {
    r.expect(500);
    let detail: Value = serde_json::from_str(r.detail()).unwrap();
    detail["message"].as_str().unwrap().to_owned()
}

#[test]
fn internal_destinations_are_refused_before_any_connection() {
    let mock = MockLlm::start();
    // No allow-list: even the loopback mock is off limits.
    let s = TestServer::start_with(&[("LANGFLOW_SSRF_ALLOWED_HOSTS", "")]);
    let (key, id) = setup(&s, "memory_chatbot__lf1.4.3.json");
    let port = mock.url().rsplit(':').next().unwrap().to_owned();
    let run = |base: &str| {
        let tweaks = json!({OPENAI_NODE: {"openai_api_base": base, "model_name": "gpt-mock"}});
        s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x", "tweaks": tweaks}))
    };
    for base in [
        mock.openai_base(),
        // A name is checked where it is resolved (https, so the clear-text rule does not answer first).
        format!("https://localhost:{port}/v1"),
        format!("http://[::ffff:127.0.0.1]:{port}/v1"),
        format!("http://0x7f.1:{port}/v1"),
        "http://10.0.0.1/v1".to_owned(),
        "http://172.16.5.4/v1".to_owned(),
        "http://192.168.0.10/v1".to_owned(),
        "http://100.64.0.1/v1".to_owned(),
        "http://169.254.169.254/v1".to_owned(),
        "http://metadata.google.internal/v1".to_owned(),
        "http://[fd00:ec2::254]/v1".to_owned(),
        "http://[fc00::1]/v1".to_owned(),
        "http://[fe80::1]/v1".to_owned(),
        "http://[::ffff:10.0.0.1]/v1".to_owned(),
        "http://[::10.0.0.1]/v1".to_owned(),
        "http://[64:ff9b::a9fe:a9fe]/v1".to_owned(),
    ] {
        let message = run_error(&run(&base));
        assert!(message.contains("refusing to connect"), "{base}: {message}");
        assert!(message.contains("LANGFLOW_SSRF_ALLOWED_HOSTS"), "{base}: {message}");
    }
    assert_eq!(mock.connections(), 0, "a refused destination was contacted");
    drop(s);
    // With protection off (Langflow's switch) the same loopback server is reached.
    let s =
        TestServer::start_with(&[("LANGFLOW_SSRF_ALLOWED_HOSTS", ""), ("LANGFLOW_SSRF_PROTECTION_ENABLED", "false")]);
    let (key, id) = setup(&s, "memory_chatbot__lf1.4.3.json");
    let tweaks = json!({OPENAI_NODE: {"openai_api_base": mock.openai_base(), "model_name": "gpt-mock"}});
    let r = s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x", "tweaks": tweaks}));
    r.expect(200);
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn redirects_are_not_followed_and_upstream_bodies_are_not_reflected() {
    let mock = MockLlm::start();
    let s = TestServer::start_with(&[("FLOWACTOR_LLM_MAX_RETRIES", "0")]);
    let (key, id) = setup(&s, "memory_chatbot__lf1.4.3.json");
    let run = |model: &str| {
        let tweaks = json!({OPENAI_NODE: {"openai_api_base": mock.openai_base(), "model_name": model}});
        s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x", "tweaks": tweaks}))
    };
    let message = run_error(&run("redirect"));
    assert!(message.contains("307"), "{message}");
    assert_eq!(mock.requests().len(), 1, "the redirect was followed");
    let r = run("internal-page");
    let message = run_error(&r);
    assert!(message.contains("OpenAI API error: 400 Bad Request"), "{message}");
    assert!(!r.text.contains(crate::mock_llm::INTERNAL_CANARY) && !r.text.contains("admin console"), "{}", r.text);
    // Even a provider-shaped error keeps only its machine-readable type.
    let message = run_error(&run("unauthorized"));
    assert!(message.contains("401") && message.contains("(authentication_error)"), "{message}");
    assert!(!message.contains("Incorrect API key"), "{message}");
}

#[test]
fn operator_keys_reach_only_the_default_endpoint_or_listed_hosts() {
    const OPERATOR_KEY: &str = "sk-operator-canary-1111";
    let mock = MockLlm::start();
    let host = mock.url().trim_start_matches("http://").to_owned();
    let run = |s: &TestServer, key: &str, id: &str| {
        let tweaks = json!({OPENAI_NODE: {"openai_api_base": mock.openai_base(), "model_name": "gpt-mock"}});
        s.post(&format!("/api/v1/run/{id}"), Auth::Key(key), &json!({"input_value": "x", "tweaks": tweaks}))
    };
    // A tenant with no key of their own, whose flow falls back to the operator's OPENAI_API_KEY.
    let tenant = |s: &TestServer| {
        let (_, t) = s.user("tenant");
        let (_, key) = s.api_key(&t, "k");
        let mut body = fixture("memory_chatbot__lf1.4.3.json");
        body["name"] = json!("chat");
        let id = s.post("/api/v1/flows/", Auth::Key(&key), &body).json["id"].as_str().unwrap().to_owned();
        (key, id)
    };
    let s = TestServer::start_with(&[("OPENAI_API_KEY", OPERATOR_KEY)]);
    let (key, id) = tenant(&s);
    let r = run(&s, &key, &id);
    let message = run_error(&r);
    assert!(message.contains("Refusing to send a server-provisioned API credential"), "{message}");
    assert!(message.contains("LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS"), "{message}");
    assert!(!r.text.contains(OPERATOR_KEY));
    assert_eq!(mock.connections(), 0, "the operator's key was sent to the tenant's endpoint");
    // The tenant's own Credential variable may go to the endpoint they chose.
    s.post(
        "/api/v1/variables/",
        Auth::Key(&key),
        &json!({"name": "OPENAI_API_KEY", "value": KEY, "type": "Credential"}),
    )
    .expect(201);
    run(&s, &key, &id).expect(200);
    assert_eq!(mock.requests().last().unwrap().headers["authorization"], format!("Bearer {KEY}"));
    drop(s);
    // A listed host receives the operator's key; plain http needs the entry's explicit scheme.
    let s = TestServer::start_with(&[
        ("OPENAI_API_KEY", OPERATOR_KEY),
        ("LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS", &host),
    ]);
    let (key, id) = tenant(&s);
    assert!(run_error(&run(&s, &key, &id)).contains("plain http"));
    drop(s);
    let entry = format!("http://{host}");
    let s = TestServer::start_with(&[
        ("OPENAI_API_KEY", OPERATOR_KEY),
        ("LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS", &entry),
    ]);
    let (key, id) = tenant(&s);
    run(&s, &key, &id).expect(200);
    assert_eq!(mock.requests().last().unwrap().headers["authorization"], format!("Bearer {OPERATOR_KEY}"));
    assert_eq!(mock.requests().len(), 2);
}

#[test]
fn history_read_right_after_a_streamed_build_has_the_final_answer() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let (_, t) = s.user("history-user");
    let (_, key) = s.api_key(&t, "k");
    let flow = crate::common::basic_prompting_on_mock(&mock.url(), "split");
    let id = s.create_flow(Auth::Key(&key), &flow, "history");
    for round in 0..5 {
        let input = format!("round {round}");
        let job = s.post(
            &format!("/api/v1/build/{id}/flow"),
            Auth::Key(&key),
            &json!({"inputs": {"input_value": input, "session": "h"}}),
        );
        job.expect(200);
        let stream = s.get(&format!("/api/v1/build/{}/events", job.json["job_id"].as_str().unwrap()), Auth::Key(&key));
        let evs = events(&stream.text);
        assert_eq!(evs.last().unwrap()["event"], "end");
        assert!(
            evs.iter().any(|e| e["event"] == "token"),
            "the answer was not streamed: {:?}",
            evs.iter().map(|e| (e["event"].clone(), e["data"]["text"].clone())).collect::<Vec<_>>()
        );
        let history = s.get(&format!("/api/v1/monitor/messages?flow_id={id}&session_id=h"), Auth::Key(&key));
        let texts: Vec<&str> = history.json.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(texts.last().copied(), Some(format!("{REPLY_PREFIX}{input}").as_str()), "round {round}: {texts:?}");
    }
}
