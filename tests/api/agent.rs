//! The Agent over the real HTTP API against the scripted mock model on 127.0.0.1 (driven by
//! the same scripts as the recorded traces in `actors/tests/fixtures/agent`): starter projects
//! without tools, the built-in tools, history, streaming, errors and the model-call cap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::agent_helpers::{agent_tweak, assert_same_text, keys, message, recorded_bodies, run, setup, trace, tweaks};
use crate::common::{events, fixture, Auth, TestServer};
use crate::mock_llm::{MockLlm, FINAL_PREFIX, MOCK_REPLY_PREFIX};
use serde_json::{json, Value};

#[test]
fn twitter_thread_generator_answers_with_the_recorded_request() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "text"}));
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &fixture("twitter_thread_generator__lf1.13.0.json"));
    let r = run(&s, &key, &id, "Langflow 1.13 release", "tw", &tweaks(&["Agent-wh9WY"], &json!({})));
    r.expect(200);
    let m = message(&r.json);
    assert_eq!(m["text"], format!("{MOCK_REPLY_PREFIX}Langflow 1.13 release"));
    assert_eq!(m["content_blocks"], json!([]));
    assert_eq!(m["properties"]["usage"], json!({"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}));
    assert_eq!(
        m["properties"]["source"],
        json!({"id": "Agent-wh9WY", "display_name": "Agent", "source": "gpt-4o-mini"})
    );
    assert_eq!(m["properties"]["icon"], "Bot");
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    let recorded = recorded_bodies(&trace("01-twitter-thread-run-nonstream.json"));
    // The recorded session had earlier turns: compare everything but that history.
    assert_eq!(keys(&sent[0].body), keys(&recorded[0]));
    assert_eq!(keys(&sent[0].body), ["messages", "model", "stream", "stream_options"]);
    let (got, want) = (sent[0].body["messages"].as_array().unwrap(), recorded[0]["messages"].as_array().unwrap());
    assert_same_text(&got[0]["content"], &want[0]["content"]);
    assert_eq!(keys(&got[0]), ["content", "role"]);
    assert_eq!(got[1..], want[want.len() - 1..], "the current input");
    for k in ["model", "stream", "stream_options"] {
        assert_eq!(sent[0].body[k], recorded[0][k]);
    }
}

#[test]
fn twitter_thread_generator_streams_tokens_under_the_agent_message() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "text"}));
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &fixture("twitter_thread_generator__lf1.13.0.json"));
    let r = s.post(
        &format!("/api/v1/run/{id}?stream=true"),
        Auth::Key(&key),
        &json!({"input_value": "Langflow 1.13 release", "session_id": "tw", "tweaks": tweaks(&["Agent-wh9WY"], &json!({}))}),
    );
    r.expect(200);
    let evs = events(&r.text);
    let names: Vec<&str> = evs.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names[0], "add_message", "{names:?}");
    assert_eq!(evs[0]["data"]["sender"], "User");
    assert_eq!(evs[1]["event"], "add_message");
    let placeholder = &evs[1]["data"];
    assert_eq!(placeholder["properties"]["state"], "partial");
    assert_eq!(placeholder["text"], "");
    let id_ = placeholder["id"].as_str().unwrap();
    let tokens: Vec<&Value> = evs.iter().filter(|e| e["event"] == "token").collect();
    assert!(tokens.len() > 2);
    assert!(tokens.iter().all(|t| t["data"]["id"] == id_));
    let streamed: String = tokens.iter().map(|t| t["data"]["chunk"].as_str().unwrap()).collect();
    assert_eq!(streamed, format!("{MOCK_REPLY_PREFIX}Langflow 1.13 release"));
    let first_token = names.iter().position(|n| *n == "token").unwrap();
    let after: Vec<&&str> = names[first_token..].iter().filter(|n| **n != "token").collect();
    // The steps update with the whole text, the stored answer, the Chat Output's version.
    assert_eq!(after, [&"add_message", &"add_message", &"add_message", &"end"], "{names:?}");
    let whole = &evs[first_token + tokens.len()]["data"];
    assert_eq!((whole["id"].as_str(), whole["properties"]["state"].as_str()), (Some(id_), Some("partial")));
    let last_msg = &evs[evs.len() - 2]["data"];
    assert_eq!(last_msg["id"], id_, "the Chat Output finalises the agent's message");
    assert_eq!(last_msg["properties"]["state"], "complete");
    assert_eq!(
        evs.last().unwrap()["data"]["result"]["outputs"][0]["outputs"][0]["results"]["message"]["text"],
        streamed
    );
}

#[test]
fn multi_agent_flow_chains_three_agents_with_shared_history() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "text"}));
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &fixture("multi_agent_flow__lf1.13.0.json"));
    let agents = ["Agent-maf-1", "Agent-maf-2", "Agent-maf-3"];
    let r = run(&s, &key, &id, "Plan a picnic", "maf", &tweaks(&agents, &json!({})));
    r.expect(200);
    let m = message(&r.json);
    let p = MOCK_REPLY_PREFIX;
    assert_eq!(m["text"], format!("{p}{p}{p}Plan a picnic"));
    assert_eq!(m["properties"]["usage"], json!({"input_tokens": 33, "output_tokens": 21, "total_tokens": 54}));
    let sent = mock.requests();
    assert_eq!(sent.len(), 3);
    let recorded = recorded_bodies(&trace("01-multi-agent-run-nonstream.json"));
    for (k, (got, want)) in sent.iter().zip(&recorded).enumerate() {
        assert_eq!(keys(&got.body), keys(want), "agent {k}");
        assert_same_text(&got.body["messages"][0]["content"], &want["messages"][0]["content"]);
        let msgs = got.body["messages"].as_array().unwrap();
        // A fresh session: agents 2 and 3 see the user's stored message, then the previous
        // agent's answer as a user turn (the trace's last two turns).
        let want_msgs = want["messages"].as_array().unwrap();
        let tail = if k == 0 { 1 } else { 2 };
        assert_eq!(msgs.len(), 1 + tail, "agent {k}: {msgs:?}");
        assert_eq!(msgs[1..], want_msgs[want_msgs.len() - tail..], "agent {k}");
    }
    // Only the last agent's answer and the user's message are stored.
    let history = s.get(&format!("/api/v1/monitor/messages?flow_id={id}&session_id=maf"), Auth::Key(&key));
    assert_eq!(history.json.as_array().unwrap().len(), 2, "{}", history.text);
}

#[test]
fn seo_keyword_generator_offers_the_built_in_tools() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "text"}));
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &fixture("seo_keyword_generator__lf1.13.0.json"));
    let r = run(&s, &key, &id, "running shoes", "seo", &tweaks(&["Agent-seovA"], &json!({})));
    r.expect(200);
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    let want = &recorded_bodies(&trace("01-seo-keywords-run-nonstream.json"))[0];
    assert_eq!(keys(&sent[0].body), ["messages", "model", "stream", "stream_options", "tools"]);
    assert_eq!(sent[0].body["tools"], want["tools"]);
    assert_same_text(&sent[0].body["messages"][0]["content"], &want["messages"][0]["content"]);
    let want_msgs = want["messages"].as_array().unwrap();
    let (got_user, want_user) = (&sent[0].body["messages"][1], &want_msgs[want_msgs.len() - 1]);
    assert_eq!(got_user["role"], "user", "the prompt as the user turn");
    assert_same_text(&got_user["content"], &want_user["content"]);
    assert!(message(&r.json)["text"].as_str().unwrap().starts_with(MOCK_REPLY_PREFIX));
}

/// Simple Agent without its URL and Web Search nodes: the built-in tools only.
fn simple_agent_builtins() -> Value {
    let mut flow = fixture("simple_agent__lf1.13.0.json");
    let data = &mut flow["data"];
    let keep = |id: &str| !id.starts_with("URLComponent") && !id.starts_with("UnifiedWebSearch");
    data["nodes"].as_array_mut().unwrap().retain(|n| keep(n["id"].as_str().unwrap()));
    data["edges"].as_array_mut().unwrap().retain(|e| keep(e["source"].as_str().unwrap()));
    flow
}

const SIMPLE_AGENT: &str = "Agent-EXpSZ";

#[test]
fn simple_agent_calls_the_built_in_calculator() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "tool", "tool": "evaluate_expression", "args": {"expression": "2**10 - 7/2"}}));
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &simple_agent_builtins());
    let r = run(&s, &key, &id, "case calc-ok", "calc", &tweaks(&[SIMPLE_AGENT], &json!({})));
    r.expect(200);
    let recorded = trace("04-agent-case-calc-ok.json");
    let m = message(&r.json);
    let want = message(&recorded["response"]);
    assert_eq!(m["text"], want["text"]);
    assert_eq!(m["text"], format!("{FINAL_PREFIX}1. Last tool result starts: {{\"result\": \"1020.5\"}}"));
    assert_eq!(m["properties"]["usage"], json!({"input_tokens": 22, "output_tokens": 14, "total_tokens": 36}));
    // Output leaf twice at the top level, once under data (spec §4.2).
    let top = m["content_blocks"][0]["contents"].as_array().unwrap();
    let data = m["data"]["content_blocks"][0]["contents"].as_array().unwrap();
    assert_eq!(top.len(), 4);
    assert_eq!(data.len(), 3);
    assert_eq!(top[0]["header"]["title"], "Executed **evaluate_expression**");
    assert_eq!(top[0]["tool_input"], json!({"expression": "2**10 - 7/2"}));
    assert_eq!(top[0]["output"]["content"], "{\"result\": \"1020.5\"}");
    assert_eq!(top[0]["output"]["artifact"], json!({"result": "1020.5"}));
    assert_eq!(top[2]["header"]["title"], "Output");
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    let names: Vec<&str> =
        sent[0].body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["get_current_date", "evaluate_expression"]);
    let want_second = &recorded["llm_requests"][1]["body"]["messages"];
    let got_second = sent[1].body["messages"].as_array().unwrap();
    assert_eq!(got_second[2]["tool_calls"][0]["function"], want_second[2]["tool_calls"][0]["function"]);
    assert_eq!(got_second[3]["content"], want_second[3]["content"]);
    assert_eq!(sent[1].body.get("temperature"), None);
    assert_eq!(sent[1].body.get("tool_choice"), None);
    // The stored message carries the steps with the Output leaf once.
    let stored = s.get(&format!("/api/v1/monitor/messages?flow_id={id}&session_id=calc"), Auth::Key(&key));
    let stored = stored.json.as_array().unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1]["content_blocks"][0]["contents"].as_array().unwrap().len(), 3);
}

#[test]
fn simple_agent_build_streams_steps_and_tokens() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "tool", "tool": "evaluate_expression", "args": {"expression": "6*7"},
                           "narration": "Let me compute that first."}));
    let s = TestServer::start();
    // The Playground builds the flow as stored: the model and key are in the template.
    let mut flow = simple_agent_builtins();
    for n in flow["data"]["nodes"].as_array_mut().unwrap() {
        if n["id"] == SIMPLE_AGENT {
            let t = &mut n["data"]["node"]["template"];
            t["model"]["value"] = agent_tweak()["model"].clone();
            t["api_key"]["value"] = json!("sk-mock");
            t["api_key"]["load_from_db"] = json!(false);
        }
    }
    let (key, id) = setup(&s, &mock, &flow);
    let r = s.post(
        &format!("/api/v1/build/{id}/flow?event_delivery=direct"),
        Auth::Key(&key),
        &json!({"inputs": {"input_value": "what is 6*7?", "session": "b"}}),
    );
    r.expect(200);
    let evs = events(&r.text);
    let names: Vec<&str> = evs.iter().map(|e| e["event"].as_str().unwrap()).collect();
    let agent_end = evs.iter().find(|e| e["event"] == "end_vertex" && e["data"]["build_data"]["id"] == SIMPLE_AGENT);
    assert!(agent_end.is_some(), "{names:?}");
    let tokens: String =
        evs.iter().filter(|e| e["event"] == "token").map(|e| e["data"]["chunk"].as_str().unwrap()).collect();
    assert!(tokens.starts_with("Let me compute that first.") && tokens.contains(FINAL_PREFIX), "{tokens}");
    let steps: Vec<&Value> = evs
        .iter()
        .filter(|e| {
            e["event"] == "add_message" && e["data"]["content_blocks"].as_array().is_some_and(|b| !b.is_empty())
        })
        .collect();
    assert!(steps.iter().any(
        |e| e["data"]["content_blocks"][0]["contents"][1]["header"]["title"] == "Accessing **evaluate_expression**"
    ));
    assert_eq!(names.last(), Some(&"end"));
}

#[test]
fn the_model_call_cap_ends_an_endless_tool_loop() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "loop", "tool": "evaluate_expression", "args": {"expression": "1+1"}}));
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &simple_agent_builtins());
    let r = run(&s, &key, &id, "loop", "loop", &tweaks(&[SIMPLE_AGENT], &json!({"max_iterations": 3})));
    r.expect(200);
    assert_eq!(message(&r.json)["text"], "Model call limits exceeded: run limit (3/3)");
    assert_eq!(mock.requests().len(), 3);
}

#[test]
fn upstream_errors_fail_the_run_with_a_json_detail() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &simple_agent_builtins());
    for (status, text) in [(401, "Incorrect API key provided"), (500, "mock upstream failure")] {
        mock.set_script(json!({"mode": "http_error", "status": status, "message": text}));
        let r = run(&s, &key, &id, "x", "err", &tweaks(&[SIMPLE_AGENT], &json!({})));
        r.expect(500);
        let detail: Value = serde_json::from_str(r.detail()).unwrap();
        let msg = detail["message"].as_str().unwrap();
        assert!(msg.starts_with("Error running graph: Error building Component Agent: "), "{msg}");
        assert!(msg.contains(&status.to_string()), "{msg}");
        let _ = text;
    }
}

#[test]
fn garbage_tool_arguments_are_not_run_and_the_answer_is_plain() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "bad_args", "tool": "evaluate_expression", "args_raw": "not json at all"}));
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &simple_agent_builtins());
    let r = run(&s, &key, &id, "x", "garbage", &tweaks(&[SIMPLE_AGENT], &json!({})));
    r.expect(200);
    assert_eq!(message(&r.json)["content_blocks"], json!([]));
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn history_follows_n_messages_over_three_turns() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "text"}));
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &simple_agent_builtins());
    for turn in ["one", "two", "three"] {
        run(&s, &key, &id, turn, "hist", &tweaks(&[SIMPLE_AGENT], &json!({"n_messages": 3}))).expect(200);
    }
    let sent = mock.requests();
    let turns = |k: usize| -> Vec<(String, String)> {
        sent[k].body["messages"].as_array().unwrap()[1..]
            .iter()
            .map(|m| (m["role"].as_str().unwrap().to_owned(), m["content"].as_str().unwrap().to_owned()))
            .collect()
    };
    let p = MOCK_REPLY_PREFIX;
    let pair = |r: &str, c: &str| (r.to_owned(), c.to_owned());
    assert_eq!(turns(0), [pair("user", "one")]);
    assert_eq!(turns(1), [pair("user", "one"), pair("assistant", &format!("{p}one")), pair("user", "two")]);
    // n_messages=3 counts the current turn's stored message: two history rows remain.
    assert_eq!(turns(2), [pair("user", "two"), pair("assistant", &format!("{p}two")), pair("user", "three")]);
}

#[test]
fn an_unsupported_flow_names_every_unsupported_component() {
    let s = TestServer::start();
    let (_, t) = s.user("u");
    let (_, key) = s.api_key(&t, "k");
    let mut flow = fixture("simple_agent__lf1.13.0.json");
    for n in flow["data"]["nodes"].as_array_mut().unwrap() {
        let ty = n["data"]["type"].as_str().unwrap_or_default().to_owned();
        if ty == "URLComponent" || ty == "UnifiedWebSearch" {
            n["data"]["type"] = json!(format!("Unknown{ty}"));
            n["data"]["node"]["metadata"] = json!({});
        }
    }
    flow["name"] = json!("unsupported");
    let id = s.post("/api/v1/flows/", Auth::Key(&key), &flow).json["id"].as_str().unwrap().to_owned();
    let expected = "Component types 'UnknownURLComponent' (node URLComponent-Tjh8k), 'UnknownUnifiedWebSearch' (node \
                    UnifiedWebSearch-KZ8k6) are not supported by flowactor";
    s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x"})).expect_detail(400, expected);
    s.post(&format!("/api/v1/build/{id}/flow"), Auth::Bearer(&t), &json!({"inputs": {"input_value": "x"}}))
        .expect_detail(400, expected);
}

/// Simple Agent with its URL node replaced by a Combine Text node (same id and edge) in tool
/// mode and its Web Search node removed: any component is a tool.
fn simple_agent_with_combine_text_tool() -> Value {
    let mut flow = fixture("simple_agent__lf1.13.0.json");
    let data = &mut flow["data"];
    data["nodes"].as_array_mut().unwrap().retain(|n| !n["id"].as_str().unwrap().starts_with("UnifiedWebSearch"));
    data["edges"].as_array_mut().unwrap().retain(|e| !e["source"].as_str().unwrap().starts_with("UnifiedWebSearch"));
    for n in data["nodes"].as_array_mut().unwrap() {
        if n["id"] == "URLComponent-Tjh8k" {
            n["data"]["type"] = json!("CombineText");
            n["data"]["node"]["metadata"] = json!({});
            n["data"]["node"]["display_name"] = json!("Combine Text");
            n["data"]["node"]["template"] = json!({
                "text1": {"type": "str", "value": "", "show": true, "tool_mode": true},
                "text2": {"type": "str", "value": "", "show": true, "tool_mode": true},
                "delimiter": {"type": "str", "value": " + ", "show": true}});
            n["data"]["node"]["outputs"] = json!([
                {"name": "combined_text", "types": ["Message"], "method": "combine_texts"},
                {"name": "component_as_tool", "types": ["Tool"], "method": "to_toolkit"}]);
        }
    }
    flow
}

#[test]
fn any_component_is_a_tool_in_tool_mode() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "tool", "tool": "combine_texts", "args": {"text1": "left", "text2": "right"}}));
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &simple_agent_with_combine_text_tool());
    let r = s.post(
        &format!("/api/v1/run/{id}?stream=true"),
        Auth::Key(&key),
        &json!({"input_value": "combine", "session_id": "tm", "tweaks": tweaks(&[SIMPLE_AGENT], &json!({}))}),
    );
    r.expect(200);
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    let tools = sent[0].body["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["combine_texts", "get_current_date", "evaluate_expression"], "connected tools first");
    // The schema comes from the declaration: every field, current values as defaults.
    let params = &tools[0]["function"]["parameters"];
    assert_eq!(params["type"], "object");
    assert_eq!(params["properties"]["delimiter"]["default"], " + ");
    // The call ran the component with the model's arguments and the template's delimiter.
    assert_eq!(sent[1].body["messages"].as_array().unwrap().last().unwrap()["content"], "left + right");
    let evs = events(&r.text);
    let names: Vec<String> = evs
        .iter()
        .map(|e| match e["event"].as_str().unwrap() {
            n @ ("build_start" | "build_end") => format!("{n}:{}", e["data"]["id"].as_str().unwrap_or_default()),
            n => n.to_owned(),
        })
        .collect();
    let start = names.iter().position(|n| n == "build_start:URLComponent-Tjh8k").expect("build_start of the tool");
    assert_eq!(names[start + 1], "build_end:URLComponent-Tjh8k", "{names:?}");
    let end = evs.last().unwrap();
    let m = &end["data"]["result"]["outputs"][0]["outputs"][0]["results"]["message"];
    assert_eq!(m["text"], format!("{FINAL_PREFIX}1. Last tool result starts: left + right"));
    let leaf = &m["content_blocks"][0]["contents"][0];
    assert_eq!(leaf["name"], "combine_texts");
    assert_eq!(leaf["tool_input"], json!({"text1": "left", "text2": "right"}));
    assert_eq!(leaf["output"]["content"], "left + right");
}

/// Simple Agent whose URL node is replaced by a Delay node in tool mode: a tool that hangs.
fn simple_agent_with_hanging_tool() -> Value {
    let mut flow = simple_agent_with_combine_text_tool();
    for n in flow["data"]["nodes"].as_array_mut().unwrap() {
        if n["id"] == "URLComponent-Tjh8k" {
            n["data"]["type"] = json!("Delay");
            n["data"]["node"]["template"] = json!({"milliseconds": {"type": "int", "value": 60_000, "show": true}});
            n["data"]["node"]["outputs"] = json!([
                {"name": "output", "types": ["Message"], "method": "output"},
                {"name": "component_as_tool", "types": ["Tool"], "method": "to_toolkit"}]);
        }
    }
    flow
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn the_deadline_aborts_a_hanging_tool() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "hang_tools", "tool": "delay", "args": {"milliseconds": 60_000}}));
    let s = TestServer::start_with(&[("FLOWACTOR_BUILD_DEADLINE_SECONDS", "1")]);
    let (key, id) = setup(&s, &mock, &simple_agent_with_hanging_tool());
    let t = std::time::Instant::now();
    let r = run(&s, &key, &id, "wait", "hang", &tweaks(&[SIMPLE_AGENT], &json!({})));
    assert!(t.elapsed() < std::time::Duration::from_secs(20), "the run outlived its deadline");
    assert!(r.status >= 400, "{}", r.text);
    let sent = mock.requests();
    assert_eq!(sent.len(), 1, "the tool never returned, so the model was not asked again");
    assert_eq!(sent[0].body["tools"][0]["function"]["name"], "delay");
}

#[test]
fn a_disconnecting_client_aborts_the_model_call() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &simple_agent_builtins());
    let tweak = json!({SIMPLE_AGENT: {"model": [{"name": "hang", "provider": "OpenAI", "metadata": {}}], "api_key": "sk-mock"}});
    {
        let stream = std::net::TcpStream::connect(s.url.trim_start_matches("http://")).unwrap();
        let body = json!({"input_value": "bye", "tweaks": tweak}).to_string();
        let req = format!(
            "POST /api/v1/run/{id} HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        std::io::Write::write_all(&mut &stream, req.as_bytes()).unwrap();
        wait_for("the model call", || mock.requests().len() == 1);
    }
    wait_for("the model call to be aborted", || mock.aborted() >= 1);
}

#[test]
fn cancelling_a_build_aborts_the_model_call() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let mut flow = simple_agent_builtins();
    for n in flow["data"]["nodes"].as_array_mut().unwrap() {
        if n["id"] == SIMPLE_AGENT {
            let t = &mut n["data"]["node"]["template"];
            t["model"]["value"] = json!([{"name": "hang", "provider": "OpenAI", "metadata": {}}]);
            t["api_key"]["value"] = json!("sk-mock");
            t["api_key"]["load_from_db"] = json!(false);
        }
    }
    let (key, id) = setup(&s, &mock, &flow);
    let job = s.post(&format!("/api/v1/build/{id}/flow"), Auth::Key(&key), &json!({"inputs": {"input_value": "x"}}));
    job.expect(200);
    wait_for("the model call", || mock.requests().len() == 1);
    let job_id = job.json["job_id"].as_str().unwrap();
    s.post(&format!("/api/v1/build/{job_id}/cancel"), Auth::Key(&key), &json!({})).expect(200);
    wait_for("the model call to be aborted", || mock.aborted() >= 1);
}

#[test]
fn a_failing_model_call_retracts_the_partial_answer_on_build() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "http_error", "status": 401, "message": "Incorrect API key provided"}));
    let s = TestServer::start();
    let mut flow = simple_agent_builtins();
    for n in flow["data"]["nodes"].as_array_mut().unwrap() {
        if n["id"] == SIMPLE_AGENT {
            let t = &mut n["data"]["node"]["template"];
            t["model"]["value"] = agent_tweak()["model"].clone();
            t["api_key"]["value"] = json!("sk-mock");
            t["api_key"]["load_from_db"] = json!(false);
        }
    }
    let (key, id) = setup(&s, &mock, &flow);
    let r = s.post(
        &format!("/api/v1/build/{id}/flow?event_delivery=direct"),
        Auth::Key(&key),
        &json!({"inputs": {"input_value": "x", "session": "e"}}),
    );
    r.expect(200);
    let evs = events(&r.text);
    let names: Vec<&str> = evs.iter().map(|e| e["event"].as_str().unwrap()).collect();
    let placeholder = evs
        .iter()
        .find(|e| e["event"] == "add_message" && e["data"]["properties"]["state"] == "partial")
        .expect("the agent's placeholder");
    let removed = names.iter().position(|n| *n == "remove_message").expect("remove_message");
    assert_eq!(evs[removed]["data"]["id"], placeholder["data"]["id"]);
    let error = names.iter().position(|n| *n == "error").expect("an error event");
    assert!(removed < error, "{names:?}");
    assert_eq!(names.last(), Some(&"end"));
    // Only the user's message and the error message remain stored.
    let stored = s.get(&format!("/api/v1/monitor/messages?flow_id={id}"), Auth::Key(&key));
    assert!(stored.json.as_array().unwrap().iter().all(|m| m["id"] != placeholder["data"]["id"]), "{}", stored.text);
}

/// Simple Agent whole (URL and Web Search as tools): the model calls `fetch_content` on a page
/// of the local page server, the URL component fetches it through the address policy, and the
/// page's table reaches the model as its tool result.
#[test]
fn simple_agent_fetches_a_page_through_its_url_tool() {
    let pages = crate::pages::Pages::start();
    let page = format!("{}/page1.html", pages.url());
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "tool", "tool": "fetch_content", "args": {"urls": [page]}}));
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &fixture("simple_agent__lf1.13.0.json"));
    let r = run(&s, &key, &id, "What is the secret number on my page?", "url", &tweaks(&[SIMPLE_AGENT], &json!({})));
    r.expect(200);
    let sent = mock.requests();
    assert_eq!(sent.len(), 2, "one tool round, then the answer");
    let names: Vec<&str> =
        sent[0].body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    // The connected tools in edge order, then the built-ins. (Langflow 1.13's order follows a
    // Python set of edges, so it changes with the process's hash seed; see the README.)
    assert_eq!(names, ["fetch_content", "perform_search", "get_current_date", "evaluate_expression"]);
    // The tool schema the model sees is the recorded one (spec §2.6).
    let recorded = trace("04-agent-case-calc-ok.json");
    let recorded_tools = recorded["llm_requests"][0]["body"]["tools"].as_array().unwrap();
    let want = recorded_tools.iter().find(|t| t["function"]["name"] == "fetch_content").unwrap();
    assert_eq!(&sent[0].body["tools"][0], want);
    assert!(pages.requests().iter().any(|l| l.starts_with("GET /page1.html")), "{:?}", pages.requests());
    let messages = sent[1].body["messages"].as_array().unwrap();
    let tool = messages.iter().find(|m| m["role"] == "tool").expect("a tool message");
    let content = tool["content"].as_str().unwrap();
    assert!(content.contains("4242") && content.contains("language"), "{content}");
    let m = message(&r.json);
    assert!(m["text"].as_str().unwrap().starts_with(&format!("{FINAL_PREFIX}1. ")), "{}", m["text"]);
    let steps = m["content_blocks"][0]["contents"].as_array().unwrap();
    assert_eq!(steps[0]["header"]["title"], "Executed **fetch_content**");
    assert_eq!(steps[0]["tool_input"], json!({"urls": [page]}));
}

/// Simple Agent whose URL node is the Research Translation Loop's arXiv node in tool mode (its
/// Web Search node removed): the arXiv search is the agent's tool through its declaration alone.
#[test]
fn arxiv_is_an_agent_tool_in_tool_mode() {
    let pages = crate::pages::Pages::start();
    let s = TestServer::start_with(&[("FLOWACTOR_ARXIV_URL", &format!("{}/arxiv/query", pages.url()))]);
    let research = fixture("research_translation_loop__lf1.13.0.json");
    let arxiv = research["data"]["nodes"].as_array().unwrap().iter().find(|n| n["data"]["type"] == "ArXivComponent");
    let arxiv = arxiv.unwrap()["data"]["node"].clone();
    let mut flow = simple_agent_with_combine_text_tool();
    for n in flow["data"]["nodes"].as_array_mut().unwrap() {
        if n["id"] == "URLComponent-Tjh8k" {
            n["data"]["type"] = json!("ArXivComponent");
            n["data"]["node"] = arxiv.clone();
            n["data"]["node"]["outputs"] =
                json!([{"name": "component_as_tool", "types": ["Tool"], "method": "to_toolkit"}]);
        }
    }
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "tool", "tool": "search_papers_dataframe", "args": {"search_query": "qubits"}}));
    let (key, id) = setup(&s, &mock, &flow);
    let r = run(&s, &key, &id, "find papers", "ax", &tweaks(&[SIMPLE_AGENT], &json!({})));
    r.expect(200);
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    let tool = &sent[0].body["tools"][0]["function"];
    assert_eq!(tool["name"], "search_papers_dataframe");
    assert_eq!(tool["parameters"]["properties"]["search_query"]["type"], "string", "{tool}");
    let line = pages.requests().into_iter().find(|l| l.starts_with("GET /arxiv/query?")).unwrap();
    assert!(line.contains("search_query=qubits&max_results=3"), "{line}");
    let result = sent[1].body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_owned();
    // The tool's answer is the table as Langflow prints a DataFrame: all three papers' rows.
    for n in 1..=3 {
        assert!(result.contains(&format!("http://arxiv.org/abs/2601.0000{n}v1")), "{result}");
    }
    assert!(result.ends_with("[3 rows x 12 columns]"), "{result}");
    assert!(message(&r.json)["text"].as_str().unwrap().starts_with(&format!("{FINAL_PREFIX}1. Last tool result")));
}
