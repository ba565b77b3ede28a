//! `/api/v1/run` over real HTTP: the reference flows give Langflow 1.13's exact texts, streamed
//! or not; API-key-only auth; per-owner scoping by id and endpoint name; tweaks; validation; and
//! webhooks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{assert_valid, events, fixture, schema, Auth, TestServer};
use flowactor_actors::graph::FlowBuilder;
use serde_json::{json, Value};

/// Uploads a flow for the holder of `auth`; answers its id.
fn upload(s: &TestServer, auth: Auth<'_>, flow: &Value, name: &str, endpoint: Option<&str>) -> String {
    let mut body = flow.clone();
    body["name"] = json!(name);
    body["endpoint_name"] = endpoint.map_or(Value::Null, |e| json!(e));
    let r = s.post("/api/v1/flows/", auth, &body);
    r.expect(201);
    r.json["id"].as_str().unwrap().to_owned()
}

fn first_text(r: &Value) -> &str {
    r["outputs"][0]["outputs"][0]["results"]["message"]["text"].as_str().unwrap_or_default()
}

fn wide_16_text() -> String {
    (0..16).map(|i| format!("branch {i}: hello acceptance")).collect::<Vec<_>>().join(" ")
}

#[test]
fn reference_flows_return_langflows_texts() {
    let s = TestServer::start();
    let (_, t) = s.user("runner");
    let (_, key) = s.api_key(&t, "k");
    let response_schema = schema("run_response.json");
    let event_schema = schema("build_event.json");
    let cases = [
        ("chat_echo__lf1.13.0.json", "echo", "hello acceptance".to_owned()),
        ("prompt__lf1.13.0.json", "prompt", "Answer briefly: hello acceptance".to_owned()),
        ("wide_16__lf1.13.0.json", "wide", wide_16_text()),
    ];
    for (file, endpoint, expected) in cases {
        let id = upload(&s, Auth::Key(&key), &fixture(file), endpoint, Some(endpoint));
        for target in [id.as_str(), endpoint] {
            let r =
                s.post(&format!("/api/v1/run/{target}"), Auth::Key(&key), &json!({"input_value": "hello acceptance"}));
            r.expect(200);
            assert_eq!(first_text(&r.json), expected, "{file} via {target}");
            assert_eq!(r.json["session_id"], id.as_str());
            assert_eq!(r.json["outputs"][0]["inputs"], json!({"input_value": "hello acceptance"}));
            assert_valid(&response_schema, &r.json);
        }
        let r = s.post(
            &format!("/api/v1/run/{id}?stream=true"),
            Auth::Key(&key),
            &json!({"input_value": "hello acceptance"}),
        );
        r.expect(200);
        assert!(r.header("content-type").unwrap().starts_with("text/event-stream"));
        let evs = events(&r.text);
        for e in &evs {
            assert_valid(&event_schema, e);
        }
        let last = evs.last().unwrap();
        assert_eq!(last["event"], "end", "{}", r.text);
        assert_eq!(first_text(&last["data"]["result"]), expected);
        assert!(evs.iter().any(|e| e["event"] == "add_message" && e["data"]["text"] == "hello acceptance"));
        assert!(evs.iter().any(|e| e["event"] == "add_message" && e["data"]["text"] == expected.as_str()));
    }
}

#[test]
fn run_takes_api_keys_only() {
    let s = TestServer::start();
    let (_, t) = s.user("keyed");
    let (_, key) = s.api_key(&t, "k");
    let id = upload(&s, Auth::Key(&key), &fixture("chat_echo__lf1.13.0.json"), "echo", None);
    let path = format!("/api/v1/run/{id}");
    let body = json!({"input_value": "x"});
    s.post(&path, Auth::None, &body).expect_detail(403, "An API key must be passed as query or header");
    s.post(&path, Auth::Bearer(&t), &body).expect_detail(403, "An API key must be passed as query or header");
    s.post(&path, Auth::Key("sk-bogus"), &body).expect_detail(403, "Invalid or missing API key");
    s.post(&path, Auth::KeyQuery(&key), &body).expect(200);
    // The key stops working the moment its owner is deactivated.
    let admin = s.admin_token();
    let me = s.get("/api/v1/users/whoami", Auth::Bearer(&t)).json["id"].as_str().unwrap().to_owned();
    s.patch(&format!("/api/v1/users/{me}"), Auth::Bearer(&admin), &json!({"is_active": false})).expect(200);
    s.post(&path, Auth::Key(&key), &body).expect_detail(403, "Invalid or missing API key");
}

#[test]
fn auto_login_requires_a_key_unless_skip_is_set() {
    let s = TestServer::start_with(&[("LANGFLOW_AUTO_LOGIN", "true")]);
    let admin = s.admin_token();
    let id = upload(&s, Auth::Bearer(&admin), &fixture("chat_echo__lf1.13.0.json"), "echo", None);
    s.post(&format!("/api/v1/run/{id}"), Auth::None, &json!({}))
        .expect_detail(403, flowactor::http::auth::AUTO_LOGIN_ERROR);
    drop(s);
    let s = TestServer::start_with(&[("LANGFLOW_AUTO_LOGIN", "true"), ("LANGFLOW_SKIP_AUTH_AUTO_LOGIN", "true")]);
    let admin = s.admin_token();
    let id = upload(&s, Auth::Bearer(&admin), &fixture("chat_echo__lf1.13.0.json"), "echo", None);
    let r = s.post(&format!("/api/v1/run/{id}"), Auth::None, &json!({"input_value": "skip"}));
    r.expect(200);
    assert_eq!(first_text(&r.json), "skip");
}

#[test]
fn flows_are_scoped_to_the_key_owner_on_every_run_surface() {
    let s = TestServer::start();
    let (_, a) = s.user("owner");
    let (_, b) = s.user("intruder");
    let (_, a_key) = s.api_key(&a, "a");
    let (_, b_key) = s.api_key(&b, "b");
    let admin = s.admin_token();
    let (_, admin_key) = s.api_key(&admin, "admin");
    let id = upload(&s, Auth::Key(&a_key), &fixture("chat_echo__lf1.13.0.json"), "private", Some("private-ep"));
    for key in [&b_key, &admin_key] {
        for target in [id.as_str(), "private-ep"] {
            s.post(&format!("/api/v1/run/{target}"), Auth::Key(key), &json!({"input_value": "x"}))
                .expect_detail(404, &format!("Flow identifier {target} not found"));
            s.request(
                "POST",
                &format!("/api/v1/webhook/{target}"),
                Auth::Key(key),
                Some("application/json"),
                Some(b"{}"),
            )
            .expect(404);
        }
        s.post(&format!("/api/v1/build/{id}/flow"), Auth::Key(key), &json!({})).expect(404);
    }
    // B may reuse the endpoint name for their own flow; each resolves to its owner's.
    upload(&s, Auth::Key(&b_key), &fixture("prompt__lf1.13.0.json"), "mine", Some("private-ep"));
    let r = s.post("/api/v1/run/private-ep", Auth::Key(&b_key), &json!({"input_value": "q"}));
    assert_eq!(first_text(&r.json), "Answer briefly: q");
    let r = s.post("/api/v1/run/private-ep", Auth::Key(&a_key), &json!({"input_value": "q"}));
    assert_eq!(first_text(&r.json), "q");
    s.post(&format!("/api/v1/run/{}", uuid::Uuid::nil()), Auth::Key(&a_key), &json!({})).expect(404);
}

#[test]
fn tweaks_apply_by_id_display_name_and_globally() {
    let s = TestServer::start();
    let (_, t) = s.user("tweaker");
    let (_, key) = s.api_key(&t, "k");
    let flow = fixture("prompt__lf1.13.0.json");
    let prompt_id = flow["data"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["data"]["type"].as_str().unwrap().starts_with("Prompt"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = upload(&s, Auth::Key(&key), &flow, "p", None);
    let run = |tweaks: Value| {
        s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "q", "tweaks": tweaks}))
    };
    assert_eq!(first_text(&run(json!({prompt_id.clone(): {"template": "By id: {question}"}})).json), "By id: q");
    assert_eq!(first_text(&run(json!({"Prompt Template": {"template": "By name: {question}"}})).json), "By name: q");
    assert_eq!(first_text(&run(json!({"template": "Global: {question}"})).json), "Global: q");
    assert_eq!(first_text(&run(json!({"NoSuchNode": {"x": 1}, "unknown_field": 3})).json), "Answer briefly: q");
    let refused = run(json!({prompt_id: {"code": "import os"}}));
    refused.expect(422);
    assert_eq!(
        refused.json["detail"],
        json!({"error": "Refused tweaks", "code": "TWEAKS_REFUSED", "message": "The field is protected and keeps the value set by the flow author.", "fields": ["code"]})
    );
    let chat_input =
        flow["data"]["nodes"].as_array().unwrap().iter().find(|n| n["data"]["type"] == "ChatInput").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
    run(json!({chat_input: {"input_value": "other"}})).expect_detail(
        400,
        "If you pass an input_value to the chat input, you cannot pass a tweak with the same name.",
    );
}

#[test]
fn request_shapes_sessions_and_output_selection() {
    let s = TestServer::start();
    let (_, t) = s.user("shapes");
    let (_, key) = s.api_key(&t, "k");
    let id = upload(&s, Auth::Key(&key), &fixture("prompt__lf1.13.0.json"), "p", None);
    let path = format!("/api/v1/run/{id}");
    let r = s.request("POST", &path, Auth::Key(&key), None, None);
    r.expect(200);
    assert_eq!(r.json["outputs"][0]["inputs"], json!({}));
    let r = s.post(&path, Auth::Key(&key), &json!({"input_request": {"input_value": "embedded", "session_id": "s-1"}}));
    assert_eq!(first_text(&r.json), "Answer briefly: embedded");
    assert_eq!(r.json["session_id"], "s-1");
    assert_eq!(r.json["outputs"][0]["outputs"][0]["results"]["message"]["session_id"], "s-1");
    s.post(&path, Auth::Key(&key), &json!({"input_value": {"nested": 1}})).expect(422);
    s.request("POST", &path, Auth::Key(&key), Some("application/json"), Some(b"{oops")).expect(422);
    let any = s.post(&path, Auth::Key(&key), &json!({"input_value": "q", "output_type": "any"}));
    assert_eq!(any.json["outputs"][0]["outputs"].as_array().unwrap().len(), 1);
    let debug = s.post(&path, Auth::Key(&key), &json!({"input_value": "q", "output_type": "debug"}));
    assert_eq!(debug.json["outputs"][0]["outputs"].as_array().unwrap().len(), 3);
    let text = s.post(&path, Auth::Key(&key), &json!({"input_value": "q", "output_type": "text"}));
    assert_eq!(text.json["outputs"][0]["outputs"].as_array().unwrap().len(), 0);
}

#[test]
fn unsupported_components_fail_with_a_clear_error() {
    let s = TestServer::start();
    let (_, t) = s.user("u");
    let (_, key) = s.api_key(&t, "k");
    let mut b = FlowBuilder::new();
    b.node("ChatInput-a", "ChatInput", json!({"input_value": ""}));
    b.node("MysteryComponent-b", "MysteryComponent", json!({"x": ""}));
    b.edge("ChatInput-a", "message", "MysteryComponent-b", "x");
    let id = upload(&s, Auth::Key(&key), &b.build(), "mystery", None);
    let r = s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x"}));
    r.expect(400);
    assert!(r.detail().contains("MysteryComponent") && r.detail().contains("MysteryComponent-b"), "{}", r.text);
}

fn webhook_flow() -> Value {
    let mut b = FlowBuilder::new();
    b.node("Webhook-w", "Webhook", json!({"data": ""}));
    b.node("ChatOutput-o", "ChatOutput", json!({"input_value": ""}));
    b.edge("Webhook-w", "output_data", "ChatOutput-o", "input_value");
    b.build()
}

#[test]
fn webhooks_answer_202_and_follow_the_auth_setting() {
    let s = TestServer::start();
    let (_, t) = s.user("hooks");
    let (_, key) = s.api_key(&t, "k");
    let id = upload(&s, Auth::Key(&key), &webhook_flow(), "hook", Some("hook-ep"));
    let url = format!("/api/v1/webhook/{id}");
    let body = Some(&br#"{"event": "push"}"#[..]);
    s.request("POST", &url, Auth::None, Some("application/json"), body)
        .expect_detail(403, "API key required when webhook authentication is enabled");
    s.request("POST", &url, Auth::Key("sk-bogus"), Some("application/json"), body)
        .expect_detail(403, "Invalid API key");
    let r = s.request("POST", "/api/v1/webhook/hook-ep", Auth::Key(&key), Some("application/json"), body);
    r.expect(202);
    assert_eq!(r.json, json!({"message": "Task started in the background", "status": "in progress"}));
    s.request("POST", &url, Auth::Key(&key), Some("application/json"), Some(b""))
        .expect_detail(400, "Request body is empty. You should provide a JSON payload containing the flow ID.");
    drop(s);
    let s = TestServer::start_with(&[("LANGFLOW_WEBHOOK_AUTH_ENABLE", "false")]);
    let (_, t) = s.user("open");
    let (_, key) = s.api_key(&t, "k");
    let id = upload(&s, Auth::Key(&key), &webhook_flow(), "hook", Some("open-hook"));
    s.request("POST", &format!("/api/v1/webhook/{id}"), Auth::None, Some("text/plain"), Some(b"raw text")).expect(202);
    s.request("POST", "/api/v1/webhook/open-hook", Auth::None, Some("application/json"), body).expect(202);
    s.request("POST", "/api/v1/webhook/missing", Auth::None, Some("application/json"), body).expect(404);
}

/// ChatInput → `<middle>` → ChatOutput, where `<middle>` passes its input through.
fn pass_through_flow(kind: &str, fields: Value, input: &str, output: &str) -> Value {
    let id = format!("{kind}-m");
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""})).node(&id, kind, fields).node(
        "ChatOutput-out",
        "ChatOutput",
        json!({}),
    );
    b.edge("ChatInput-in", "message", &id, input).edge(&id, output, "ChatOutput-out", "input_value");
    b.build()
}

fn messages(s: &TestServer, auth: Auth<'_>, flow_id: &str) -> Vec<Value> {
    let r = s.get(&format!("/api/v1/monitor/messages?flow_id={flow_id}"), auth);
    r.expect(200);
    r.json.as_array().unwrap().clone()
}

#[test]
fn test_components_are_refused_unless_enabled() {
    let s = TestServer::start_with(&[("FLOWACTOR_ENABLE_TEST_COMPONENTS", "")]);
    let (_, t) = s.user("u");
    let (_, key) = s.api_key(&t, "k");
    for kind in ["Delay", "Burn"] {
        let flow = pass_through_flow(kind, json!({"milliseconds": 1, "microseconds": 1}), "input_value", "output");
        let id = upload(&s, Auth::Key(&key), &flow, kind, None);
        let expected = format!("Component type '{kind}' (node {kind}-m) is not supported by flowactor");
        s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x"}))
            .expect_detail(400, &expected);
        s.post(&format!("/api/v1/build/{id}/flow"), Auth::Bearer(&t), &json!({"inputs": {"input_value": "x"}}))
            .expect_detail(400, &expected);
        assert!(messages(&s, Auth::Bearer(&t), &id).is_empty(), "nothing ran");
    }
}

#[test]
fn a_passed_through_user_message_is_answered_by_a_new_message() {
    let s = TestServer::start();
    let (_, t) = s.user("u");
    let (_, key) = s.api_key(&t, "k");
    let flows = [
        pass_through_flow(
            "Pass",
            json!({"input_message": "", "ignored_message": ""}),
            "input_message",
            "output_message",
        ),
        pass_through_flow("Delay", json!({"milliseconds": 1}), "input_value", "output"),
        pass_through_flow(
            "ConditionalRouter",
            json!({"operator": "equals", "match_text": "hello", "case_sensitive": true, "true_case_message": "",
                   "false_case_message": "", "max_iterations": 10, "default_route": "false_result"}),
            "input_text",
            "true_result",
        ),
    ];
    for (i, flow) in flows.iter().enumerate() {
        let id = upload(&s, Auth::Key(&key), flow, &format!("through-{i}"), None);
        let r = s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "hello"}));
        r.expect(200);
        assert_eq!(first_text(&r.json), "hello", "flow {i}");
        let stored = messages(&s, Auth::Bearer(&t), &id);
        let senders: Vec<&str> = stored.iter().map(|m| m["sender"].as_str().unwrap()).collect();
        assert_eq!(senders, ["User", "Machine"], "flow {i}: {stored:?}");
        assert_ne!(stored[0]["id"], stored[1]["id"]);
        assert_eq!(stored[0]["text"], "hello");
        assert_eq!(stored[0]["sender_name"], "User");
    }
}

#[test]
fn a_run_whose_client_disconnects_is_cancelled() {
    let s = TestServer::start();
    let (_, t) = s.user("leaver");
    let (_, key) = s.api_key(&t, "k");
    let flow = pass_through_flow("Delay", json!({"milliseconds": 2_000}), "input_value", "output");
    let id = upload(&s, Auth::Key(&key), &flow, "slow", None);
    {
        let stream = std::net::TcpStream::connect(s.url.trim_start_matches("http://")).unwrap();
        let body = r#"{"input_value": "bye"}"#;
        let req = format!(
            "POST /api/v1/run/{id} HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        std::io::Write::write_all(&mut &stream, req.as_bytes()).unwrap();
        // The user message is stored as soon as the run starts; then the client goes away.
        let mut started = false;
        for _ in 0..100 {
            if messages(&s, Auth::Bearer(&t), &id).len() == 1 {
                started = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(started, "the run did not start");
    }
    // Had the run gone on, its Chat Output would have stored the answer after 2 s.
    std::thread::sleep(std::time::Duration::from_millis(3_000));
    let stored = messages(&s, Auth::Bearer(&t), &id);
    let senders: Vec<&str> = stored.iter().map(|m| m["sender"].as_str().unwrap()).collect();
    assert_eq!(senders, ["User"], "the abandoned run was not cancelled");
}

#[test]
fn process_answers_langflows_deprecation() {
    let s = TestServer::start();
    let (_, t) = s.user("u");
    let (_, key) = s.api_key(&t, "k");
    let id = upload(&s, Auth::Key(&key), &fixture("chat_echo__lf1.13.0.json"), "echo", None);
    s.post(&format!("/api/v1/process/{id}"), Auth::Key(&key), &json!({"inputs": {"text": "x"}})).expect_detail(
        400,
        "The /process endpoint is deprecated and will be removed in a future version. Please use /run instead.",
    );
}

/// ChatInput, then Message History with every message of the session rendered by a template
/// that repeats `{text}` → ChatOutput: without bounds each run stores a message `K` times the
/// size of the whole history so far.
fn history_amplifier(k: usize) -> Value {
    let template = vec!["{text}"; k].join(" ");
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}))
        .node(
            "Memory-h",
            "Memory",
            json!({"n_messages": -1, "order": "Ascending", "sender": "Machine and User", "sender_name": "",
                   "session_id": "", "template": template}),
        )
        .node("ChatOutput-out", "ChatOutput", json!({}));
    b.edge("Memory-h", "messages_text", "ChatOutput-out", "input_value");
    b.build()
}

#[test]
fn message_and_output_sizes_are_bounded() {
    let s = TestServer::start_with(&[("FLOWACTOR_MAX_MESSAGE_BYTES", "4000"), ("FLOWACTOR_MAX_OUTPUT_BYTES", "8000")]);
    let (_, t) = s.user("u");
    let (_, key) = s.api_key(&t, "k");
    let id = upload(&s, Auth::Key(&key), &history_amplifier(16), "amplifier", None);
    let mut failures = Vec::new();
    for _ in 0..6 {
        let r = s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "grow"}));
        match r.status {
            200 => assert!(first_text(&r.json).len() <= 4000),
            500 => failures.push(r.detail().to_owned()),
            other => panic!("unexpected status {other}: {}", r.text),
        }
    }
    assert!(failures.len() >= 3, "the history never hit a bound: {failures:?}");
    let last = failures.last().unwrap();
    assert!(last.contains("FLOWACTOR_MAX_OUTPUT_BYTES") || last.contains("FLOWACTOR_MAX_MESSAGE_BYTES"), "{last}");
    for m in messages(&s, Auth::Bearer(&t), &id) {
        assert!(m["text"].as_str().unwrap().len() <= 4000);
    }
    // An input message over the bound is refused too, and not stored.
    let big = "x".repeat(4001);
    let r = s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": big}));
    r.expect(500);
    assert!(r.detail().contains("FLOWACTOR_MAX_MESSAGE_BYTES"), "{}", r.text);
    assert!(messages(&s, Auth::Bearer(&t), &id).iter().all(|m| m["text"] != big.as_str()));
}

/// TextInput (its `input_value` a `load_from_db` field naming `variable`) → ChatOutput.
fn variable_flow(variable: &str) -> Value {
    let mut b = FlowBuilder::new();
    b.node("TextInput-t", "TextInput", json!({"input_value": variable}));
    b.node("ChatOutput-o", "ChatOutput", json!({"input_value": ""}));
    b.edge("TextInput-t", "text", "ChatOutput-o", "input_value");
    let mut flow = b.build();
    flow["data"]["nodes"][0]["data"]["node"]["template"]["input_value"]["load_from_db"] = json!(true);
    flow
}

/// The texts a flow's runs stored, waiting until `n` are there (webhooks run in the background).
fn stored_texts(s: &TestServer, key: &str, flow_id: &str, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = s.get(&format!("/api/v1/monitor/messages?flow_id={flow_id}"), Auth::Key(key));
        r.expect(200);
        let texts: Vec<String> =
            r.json.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap_or_default().to_owned()).collect();
        if texts.len() >= n || std::time::Instant::now() > deadline {
            return texts;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A user whose `HOOK_TARGET` variable feeds the webhook flow `vars-hook`; answers (key, flow id).
fn owner_with_hook_variable(s: &TestServer) -> (String, String) {
    let (_, t) = s.user("owner");
    let (_, key) = s.api_key(&t, "k");
    s.post(
        "/api/v1/variables/",
        Auth::Key(&key),
        &json!({"name": "HOOK_TARGET", "value": "owner-value", "type": "Generic"}),
    )
    .expect(201);
    let id = upload(s, Auth::Key(&key), &variable_flow("HOOK_TARGET"), "vars", Some("vars-hook"));
    (key, id)
}

#[test]
fn anonymous_webhooks_cannot_override_the_owners_variables_with_headers() {
    let s = TestServer::start_with(&[("LANGFLOW_WEBHOOK_AUTH_ENABLE", "false")]);
    let (key, id) = owner_with_hook_variable(&s);
    let body = Some(&br#"{"event": "push"}"#[..]);
    let header = [("X-LANGFLOW-GLOBAL-VAR-HOOK_TARGET", "attacker-value")];
    s.request_with("POST", &format!("/api/v1/webhook/{id}"), Auth::None, &header, Some("application/json"), body)
        .expect(202);
    let texts = stored_texts(&s, &key, &id, 1);
    assert_eq!(texts, ["owner-value"], "an anonymous header replaced the owner's variable");
    drop(s);
    // With webhook authentication on, the caller is the owner: request-scoped variables apply.
    let s = TestServer::start();
    let (key, id) = owner_with_hook_variable(&s);
    let header = [("X-LANGFLOW-GLOBAL-VAR-HOOK_TARGET", "request-value")];
    s.request_with("POST", "/api/v1/webhook/vars-hook", Auth::Key(&key), &header, Some("application/json"), body)
        .expect(202);
    assert_eq!(stored_texts(&s, &key, &id, 1), ["request-value"]);
}

#[test]
fn anonymous_webhooks_refuse_an_endpoint_name_several_users_own() {
    let s = TestServer::start_with(&[("LANGFLOW_WEBHOOK_AUTH_ENABLE", "false")]);
    let (_, t1) = s.user("first");
    let (_, k1) = s.api_key(&t1, "k");
    let (_, t2) = s.user("second");
    let (_, k2) = s.api_key(&t2, "k");
    let id1 = upload(&s, Auth::Key(&k1), &webhook_flow(), "hook", Some("shared-ep"));
    let id2 = upload(&s, Auth::Key(&k2), &webhook_flow(), "hook", Some("shared-ep"));
    upload(&s, Auth::Key(&k2), &webhook_flow(), "other", Some("only-mine"));
    let body = Some(&br#"{"event": "push"}"#[..]);
    let r = s.request("POST", "/api/v1/webhook/shared-ep", Auth::None, Some("application/json"), body);
    r.expect(409);
    assert!(r.detail().contains("endpoint name"), "{}", r.text);
    // Nothing ran for either owner.
    std::thread::sleep(std::time::Duration::from_millis(200));
    for (key, id) in [(&k1, &id1), (&k2, &id2)] {
        assert!(stored_texts(&s, key, id, 0).is_empty());
    }
    // By id, or by a name only one user has, it resolves.
    s.request("POST", &format!("/api/v1/webhook/{id1}"), Auth::None, Some("application/json"), body).expect(202);
    s.request("POST", "/api/v1/webhook/only-mine", Auth::None, Some("application/json"), body).expect(202);
    assert_eq!(stored_texts(&s, &k1, &id1, 1).len(), 1);
    assert!(stored_texts(&s, &k2, &id2, 0).is_empty());
}

#[test]
fn the_environment_fallback_reads_only_listed_unreserved_names_captured_at_start() {
    let path = std::env::var("PATH").unwrap();
    let listed = "TOOL_API_KEY,PATH,HOME,LANGFLOW_SUPERUSER_PASSWORD,LANGFLOW_SECRET_KEY,AWS_SECRET_ACCESS_KEY";
    let env = [
        ("LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT", listed),
        ("LANGFLOW_STORE_ENVIRONMENT_VARIABLES", "false"),
        ("TOOL_API_KEY", "tool-value"),
        ("UNLISTED_KEY", "unlisted-value"),
        ("AWS_SECRET_ACCESS_KEY", "aws-canary"),
        ("PATH", path.as_str()),
    ];
    let s = TestServer::start_with(&env);
    let (_, t) = s.user("tenant");
    let (_, key) = s.api_key(&t, "k");
    let run = |variable: &str| {
        let id = upload(&s, Auth::Key(&key), &variable_flow(variable), &format!("read {variable}"), None);
        let r = s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x"}));
        r.expect(200);
        first_text(&r.json).to_owned()
    };
    assert_eq!(run("TOOL_API_KEY"), "tool-value");
    let home = std::env::var("HOME").unwrap_or_default();
    for (name, secret) in [
        ("PATH", path.as_str()),
        ("HOME", home.as_str()),
        ("LANGFLOW_SUPERUSER_PASSWORD", crate::common::ADMIN_PASSWORD),
        ("AWS_SECRET_ACCESS_KEY", "aws-canary"),
        ("UNLISTED_KEY", "unlisted-value"),
        ("CARGO_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR")),
    ] {
        let text = run(name);
        assert!(secret.is_empty() || !text.contains(secret), "{name} leaked: {text}");
    }
    drop(s);
    let mut off = env.to_vec();
    off.push(("LANGFLOW_FALLBACK_TO_ENV_VAR", "false"));
    let s = TestServer::start_with(&off);
    let (_, t) = s.user("tenant");
    let (_, key) = s.api_key(&t, "k");
    let id = upload(&s, Auth::Key(&key), &variable_flow("TOOL_API_KEY"), "off", None);
    let r = s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x"}));
    r.expect(200);
    assert_ne!(first_text(&r.json), "tool-value");
}
