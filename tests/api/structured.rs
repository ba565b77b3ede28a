//! Structured output over the real HTTP API against the scripted mock model on 127.0.0.1: the
//! Structured Output component (Market Research), the Agent's `structured_response` on its
//! native path (Financial Report Parser, with an uploaded file) and its prompt fallback (Price
//! Deal Finder), compared with the recorded traces, plus their error cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::agent_helpers::{agent_tweak as model_tweak, message, setup, trace};
use crate::common::{events, fixture, Auth, TestServer};
use crate::mock_llm::MockLlm;
use serde_json::{json, Value};

fn run(s: &TestServer, key: &str, id: &str, input: &str, tweaks: &Value) -> crate::common::Resp {
    crate::agent_helpers::run(s, key, id, input, "structured", tweaks)
}

/// Tool-call ids vary between runs: each becomes `<id>`.
fn normalise(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let id = k == "tool_call_id" || (k == "id" && m.contains_key("function"));
                    (k.clone(), if id { json!("<id>") } else { normalise(x) })
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

/// The JSON inside a Chat Output's "```json … ```" block.
fn fenced(text: &Value) -> Value {
    let t = text.as_str().unwrap();
    let inner = t.strip_prefix("```json\n").and_then(|t| t.strip_suffix("\n```")).unwrap_or_else(|| panic!("{t}"));
    assert_eq!(inner, serde_json::to_string_pretty(&serde_json::from_str::<Value>(inner).unwrap()).unwrap());
    serde_json::from_str(inner).unwrap()
}

/// A node of type `kind` whose template holds `values`.
fn node(id: &str, kind: &str, values: &Value) -> Value {
    let mut template: serde_json::Map<String, Value> =
        values.as_object().unwrap().iter().map(|(k, v)| (k.clone(), json!({"value": v}))).collect();
    if kind != "ChatInput" && kind != "ChatOutput" {
        for k in ["model", "api_key"] {
            template.entry(k).or_insert_with(|| json!({"value": ""}));
        }
    }
    json!({"id": id, "type": "genericNode", "data": {"id": id, "type": kind, "node": {"template": template}}})
}

fn edge(source: &str, output: &str, target: &str, field: &str) -> Value {
    json!({
        "source": source, "target": target,
        "data": {
            "sourceHandle": {"dataType": source.split('-').next(), "id": source, "name": output, "output_types": ["Message"]},
            "targetHandle": {"fieldName": field, "id": target, "inputTypes": ["Message", "Data", "DataFrame", "Tool"], "type": "other"},
        },
    })
}

fn schema_rows() -> Value {
    json!([
        {"name": "retailer", "description": "The store.", "type": "str", "multiple": "False"},
        {"name": "price", "description": "The price.", "type": "float", "multiple": "False"},
    ])
}

/// Chat Input → Structured Output (`output`) → Chat Output.
fn structured_output_flow(output: &str, schema: &Value) -> Value {
    json!({"data": {
        "nodes": [
            node("ChatInput-1", "ChatInput", &json!({"input_value": ""})),
            node(
                "StructuredOutput-1",
                "StructuredOutput",
                &json!({"input_value": "", "output_schema": schema, "schema_name": "Deal"}),
            ),
            node("ChatOutput-1", "ChatOutput", &json!({"input_value": ""})),
        ],
        "edges": [
            edge("ChatInput-1", "message", "StructuredOutput-1", "input_value"),
            edge("StructuredOutput-1", output, "ChatOutput-1", "input_value"),
        ],
    }})
}

/// Chat Input → Agent (`structured_response`) → Chat Output; `tools` adds a Calculator tool.
fn agent_flow(schema: &Value, builtins: bool) -> Value {
    let agent = node(
        "Agent-1",
        "Agent",
        &json!({"input_value": "", "output_schema": schema, "system_prompt": "Find deals.", "add_current_date_tool": builtins,
                "add_calculator_tool": builtins}),
    );
    json!({"data": {
        "nodes": [
            node("ChatInput-1", "ChatInput", &json!({"input_value": ""})),
            agent,
            node("ChatOutput-1", "ChatOutput", &json!({"input_value": ""})),
        ],
        "edges": [
            edge("ChatInput-1", "message", "Agent-1", "input_value"),
            edge("Agent-1", "structured_response", "ChatOutput-1", "input_value"),
        ],
    }})
}

fn one(id: &str) -> Value {
    json!({ id: model_tweak() })
}

#[test]
fn market_research_extracts_with_a_forced_function_call() {
    let mock = MockLlm::start();
    let recorded = trace("06-market-research-run-nonstream.json");
    mock.set_script(recorded["llm_requests"][0]["script"].clone());
    // Web Search refuses the loopback address before connecting, as Langflow's did fail.
    let s = TestServer::start_with(&[("FLOWACTOR_WEB_SEARCH_URL", "http://127.0.0.1:9/search")]);
    let (key, id) = setup(&s, &mock, &fixture("market_research__lf1.13.0.json"));
    let tweaks = json!({"Agent-Hz2it": model_tweak(), "StructuredOutput-zfjb9": model_tweak()});
    let r = run(&s, &key, &id, "Research langflow.org", &tweaks);
    r.expect(200);
    let want = message(&recorded["response"]);
    assert_eq!(message(&r.json)["text"], want["text"]);
    let sent = mock.requests();
    let bodies: Vec<&Value> = recorded["llm_requests"].as_array().unwrap().iter().map(|r| &r["body"]).collect();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].body["tools"], bodies[0]["tools"]);
    // (The trace abbreviates repeated system prompts.)
    let later = |b: &Value| normalise(&json!(b["messages"].as_array().unwrap()[1..]));
    assert_eq!(sent[1].body["messages"][0], sent[0].body["messages"][0]);
    assert_eq!(later(&sent[1].body), later(bodies[1]), "the Web Search error row");
    // The extraction request, byte for byte after JSON normalisation, but for its user turn:
    // the Agent's answer, which this mock words differently from the recorded one.
    let mut got = sent[2].body.clone();
    let answer = got["messages"][1]["content"].as_str().unwrap().to_owned();
    assert!(answer.starts_with("FINAL ANSWER. Tool results seen: 1. Last tool result starts:    title"), "{answer}");
    got["messages"][1]["content"] = bodies[2]["messages"][1]["content"].clone();
    assert_eq!(&got, bodies[2]);
    assert!(got.get("stream_options").is_none());
}

#[test]
fn structured_output_data_and_table_outputs() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "structured"}));
    let s = TestServer::start();
    let rows = json!([{"name": "retailer", "description": "The store.", "type": "str", "multiple": "False"},
                      {"name": "tags", "description": "Tags.", "type": "str", "multiple": "True"},
                      {"name": "count", "description": "Count.", "type": "int"},
                      {"name": "on_sale", "description": "Sale.", "type": "bool"}]);
    let (key, id) = setup(&s, &mock, &structured_output_flow("structured_output", &rows));
    let r = run(&s, &key, &id, "MockMart sells kettles", &one("StructuredOutput-1"));
    r.expect(200);
    let record = json!({"retailer": "mock retailer", "tags": ["mock value"], "count": 1, "on_sale": true});
    assert_eq!(fenced(&message(&r.json)["text"]), record);
    let body = &mock.requests()[0].body;
    assert_eq!(body["tool_choice"], json!({"type": "function", "function": {"name": "Deal"}}));
    assert_eq!(body["tools"][0]["function"]["description"], "A list of Deal.");
    assert_eq!(body["tools"][0]["function"]["parameters"]["title"], "Deal");
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["$defs"]["OutputModel"]["properties"]["on_sale"]["title"],
        "On Sale"
    );
    assert_eq!(body["messages"][1], json!({"content": "MockMart sells kettles", "role": "user"}));

    // Several records: the Data wraps them in `results`, the table has one row each.
    let two = format!("{{\"objects\": [{0}, {0}]}}", record);
    mock.set_script(json!({"mode": "structured", "structured_replies": [two]}));
    let r = run(&s, &key, &id, "two", &one("StructuredOutput-1"));
    assert_eq!(fenced(&message(&r.json)["text"]), json!({"results": [record, record]}));
    let s2 = TestServer::start();
    let (key2, id2) = setup(&s2, &mock, &structured_output_flow("dataframe_output", &rows));
    mock.set_script(json!({"mode": "structured", "structured_replies": [two]}));
    let r = run(&s2, &key2, &id2, "two", &one("StructuredOutput-1"));
    r.expect(200);
    let text = message(&r.json)["text"].as_str().unwrap().to_owned();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.starts_with("| retailer | tags | count | on_sale |"), "{text}");
}

#[test]
fn structured_output_errors_are_langflows() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &structured_output_flow("structured_output", &json!([])));
    let detail = |r: &crate::common::Resp| -> String {
        r.expect(500);
        let d: Value = serde_json::from_str(r.detail()).unwrap();
        d["message"].as_str().unwrap().to_owned()
    };
    mock.set_script(json!({"mode": "structured"}));
    let msg = detail(&run(&s, &key, &id, "x", &one("StructuredOutput-1")));
    assert!(msg.ends_with("Output schema cannot be empty"), "{msg}");
    assert!(mock.requests().is_empty());

    let (key, id) = setup(&s, &mock, &structured_output_flow("structured_output", &schema_rows()));
    // The model answers with text instead of calling the function.
    mock.set_script(json!({"mode": "structured", "structured_replies": [{"text": "I cannot."}]}));
    let msg = detail(&run(&s, &key, &id, "x", &one("StructuredOutput-1")));
    assert!(msg.ends_with("No structured output returned"), "{msg}");
    assert_eq!(mock.requests().len(), 1);

    // Garbage, then the fallback (json_schema) answers garbage too.
    mock.set_script(json!({"mode": "structured", "structured_replies": ["{not json", "still not json"]}));
    let before = mock.requests().len();
    let msg = detail(&run(&s, &key, &id, "x", &one("StructuredOutput-1")));
    assert!(
        msg.contains(
            "Model does not support tool calling (trustcall failed) and fallback with_structured_output also failed: "
        ),
        "{msg}"
    );
    let sent = mock.requests();
    assert_eq!(sent.len(), before + 2);
    let fallback = &sent[before + 1].body;
    assert_eq!(fallback["response_format"]["type"], "json_schema");
    assert_eq!(fallback["response_format"]["json_schema"]["name"], "Deal");
    assert!(fallback.get("tools").is_none() && fallback.get("tool_choice").is_none());
    assert_eq!(fallback["stream"], false);

    // An invalid record in the call, a valid answer in the fallback: the run succeeds.
    mock.set_script(json!({"mode": "structured", "structured_replies": [
        r#"{"objects": [{"retailer": "A"}]}"#, r#"{"objects": [{"retailer": "B", "price": "2.5"}]}"#]}));
    let r = run(&s, &key, &id, "x", &one("StructuredOutput-1"));
    r.expect(200);
    assert_eq!(fenced(&message(&r.json)["text"]), json!({"retailer": "B", "price": 2.5}));
}

#[test]
fn structured_output_forces_the_tool_on_anthropic() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &structured_output_flow("structured_output", &schema_rows()));
    s.post(
        "/api/v1/variables/",
        Auth::Key(&key),
        &json!({"name": "ANTHROPIC_BASE_URL", "value": mock.url(), "type": "Generic", "default_fields": []}),
    )
    .expect(201);
    let tweak =
        json!({"StructuredOutput-1": {"model": [{"name": "claude-x", "provider": "Anthropic"}], "api_key": "sk-ant"}});
    let r = run(&s, &key, &id, "kettles", &tweak);
    r.expect(200);
    assert_eq!(fenced(&message(&r.json)["text"]), json!({"retailer": "mock retailer", "price": 1.5}));
    let body = &mock.requests()[0].body;
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "Deal"}));
    assert_eq!(body["tools"][0]["name"], "Deal");
    assert_eq!(body["tools"][0]["input_schema"]["properties"]["objects"]["minItems"], 1);
    assert!(body.get("stream").is_none());
}

#[test]
fn structured_output_is_an_agent_tool() {
    let mock = MockLlm::start();
    mock.set_script(
        json!({"mode": "tool", "tool": "build_structured_dataframe", "args": {"input_value": "MockMart 3.5"}}),
    );
    let s = TestServer::start();
    let mut tool_node =
        node("StructuredOutput-1", "StructuredOutput", &json!({"input_value": "", "output_schema": schema_rows()}));
    tool_node["data"]["node"]["outputs"] =
        json!([{"name": "component_as_tool", "types": ["Tool"], "method": "to_toolkit"}]);
    let flow = json!({"data": {
        "nodes": [
            node("ChatInput-1", "ChatInput", &json!({"input_value": ""})),
            tool_node,
            node(
                "Agent-1",
                "Agent",
                &json!({"input_value": "", "tools": "", "add_current_date_tool": false, "add_calculator_tool": false}),
            ),
            node("ChatOutput-1", "ChatOutput", &json!({"input_value": ""})),
        ],
        "edges": [
            edge("ChatInput-1", "message", "Agent-1", "input_value"),
            edge("StructuredOutput-1", "component_as_tool", "Agent-1", "tools"),
            edge("Agent-1", "response", "ChatOutput-1", "input_value"),
        ],
    }});
    let (key, id) = setup(&s, &mock, &flow);
    let tweaks = json!({"Agent-1": model_tweak(), "StructuredOutput-1": model_tweak()});
    let r = run(&s, &key, &id, "find", &tweaks);
    r.expect(200);
    let sent = mock.requests();
    let names: Vec<&str> =
        sent[0].body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["build_structured_output", "build_structured_dataframe"]);
    assert_eq!(sent[0].body["tools"][1]["function"]["parameters"]["required"], json!(["input_value"]));
    // The tool's own forced call, then the model reads the table.
    assert_eq!(sent[1].body["tool_choice"]["function"]["name"], "OutputModel");
    assert_eq!(sent[1].body["messages"][1]["content"], "MockMart 3.5");
    let tool_result = sent[2].body["messages"][3]["content"].as_str().unwrap();
    assert!(tool_result.contains("mock retailer") && tool_result.contains("1.5"), "{tool_result}");
}

#[test]
fn financial_report_parser_asks_for_a_native_structured_answer() {
    let mock = MockLlm::start();
    let recorded = trace("08-financial-report-file-report.txt.json");
    mock.set_script(recorded["llm_requests"][0]["script"].clone());
    let s = TestServer::start();
    let (key, id) = setup(&s, &mock, &fixture("financial_report_parser__lf1.13.0.json"));
    let report = std::fs::read(format!("{}/tests/fixtures/files/report.txt", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let up = s.upload(&format!("/api/v1/files/upload/{id}"), Auth::Key(&key), "file", "report.txt", &report);
    up.expect(201);
    let path = up.json["file_path"].as_str().unwrap();
    let tweaks = json!({"Agent-6rJWA": model_tweak(), "File-NGW2N": {"path": [path]}});
    let r = run(&s, &key, &id, "", &tweaks);
    r.expect(200);
    assert_eq!(message(&r.json)["text"], message(&recorded["response"])["text"]);
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, recorded["llm_requests"][0]["body"]);
}

#[test]
fn the_agents_native_path_reads_garbage_and_renames_the_envelope() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let rows = json!([{"name": "objects", "description": "A field called objects.", "type": "str"},
                      {"name": "n", "description": "A number.", "type": "int"}]);
    let (key, id) = setup(&s, &mock, &agent_flow(&rows, false));
    mock.set_script(json!({"mode": "structured"}));
    let r = run(&s, &key, &id, "x", &one("Agent-1"));
    r.expect(200);
    assert_eq!(fenced(&message(&r.json)["text"]), json!({"objects": "mock objects", "n": 1}));
    let body = &mock.requests()[0].body;
    let schema = &body["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["required"], json!(["objects_"]));
    assert_eq!(schema["properties"]["objects_"]["title"], "Objects");
    assert_eq!(schema["additionalProperties"], json!(false));
    assert_eq!(body["stream"], true);
    assert!(body.get("tools").is_none());

    // No JSON at all, an invalid record, and a model that fails: data, never a failed run.
    mock.set_script(json!({"mode": "structured", "structured_replies": ["Sorry, no idea."]}));
    let r = run(&s, &key, &id, "x", &one("Agent-1"));
    r.expect(200);
    assert_eq!(
        fenced(&message(&r.json)["text"]),
        json!({"content": "Sorry, no idea.", "error": "Try setting an output schema"})
    );
    mock.set_script(
        json!({"mode": "structured", "structured_replies": [r#"{"objects_": [{"objects": "a", "n": "many"}]}"#]}),
    );
    let got = fenced(&message(&run(&s, &key, &id, "x", &one("Agent-1")).json)["text"]);
    assert_eq!(got["data"], json!({"objects": "a", "n": "many"}));
    let err = got["validation_error"].as_str().unwrap();
    assert!(err.starts_with("1 validation error for OutputModel\nn\n  Input should be a valid integer"), "{err}");
    mock.set_script(json!({"mode": "http_error", "status": 500, "message": "boom"}));
    let r = run(&s, &key, &id, "x", &one("Agent-1"));
    r.expect(200);
    let got = fenced(&message(&r.json)["text"]);
    assert_eq!(got["content"], "");
    assert!(got["error"].as_str().unwrap().contains("500"), "{got}");

    // An empty schema: the input itself, and no model call.
    let (key, id) = setup(&s, &mock, &agent_flow(&json!([]), false));
    let before = mock.requests().len();
    let r = run(&s, &key, &id, "as is", &one("Agent-1"));
    assert_eq!(fenced(&message(&r.json)["text"]), json!({"content": "as is"}));
    assert_eq!(mock.requests().len(), before);
}

/// Price Deal Finder without its Memory Base tool.
/// Price Deal Finder as shipped (URL, Web Search and Memory Base tools).
fn price_deal_finder() -> Value {
    fixture("price_deal_finder__lf1.13.0.json")
}

#[test]
fn price_deal_finder_runs_the_prompt_fallback_silently() {
    let mock = MockLlm::start();
    let recorded = trace("10-price-deal-agent-structured-fallback.json");
    mock.set_script(recorded["llm_requests"][0]["script"].clone());
    let s = TestServer::start_with(&[("FLOWACTOR_WEB_SEARCH_URL", "http://127.0.0.1:9/search")]);
    let (key, id) = setup(&s, &mock, &price_deal_finder());
    let tweaks = one("Agent-4ux6k");
    let r = run(&s, &key, &id, "Find the best price for a kettle", &tweaks);
    r.expect(200);
    let want = message(&recorded["response"]);
    let m = message(&r.json);
    assert_eq!(m["text"], want["text"]);
    assert_eq!(m["content_blocks"], json!([]));
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    let bodies: Vec<&Value> = recorded["llm_requests"].as_array().unwrap().iter().map(|r| &r["body"]).collect();
    assert_eq!(sent[0].body["messages"], bodies[0]["messages"], "the augmented system prompt");
    let names = |b: &Value| -> Vec<String> {
        b["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap().to_owned()).collect()
    };
    let (mut got_names, mut want_names) = (names(&sent[0].body), names(bodies[0]));
    // Langflow's tool order follows a per-process hash seed (README); the set is the same.
    got_names.sort();
    want_names.sort();
    assert_eq!(got_names, want_names);
    let later = |b: &Value| normalise(&json!(b["messages"].as_array().unwrap()[1..]));
    assert_eq!(sent[1].body["messages"][0], sent[0].body["messages"][0]);
    assert_eq!(later(&sent[1].body), later(bodies[1]));

    // Streamed: only the user's message and the Chat Output's; no Agent message or tokens.
    let r = s.post(
        &format!("/api/v1/run/{id}?stream=true"),
        Auth::Key(&key),
        &json!({"input_value": "Find the best price for a kettle", "session_id": "st", "tweaks": tweaks}),
    );
    r.expect(200);
    let evs = events(&r.text);
    let names: Vec<&str> = evs.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(!names.contains(&"token"), "{names:?}");
    let added: Vec<&Value> = evs.iter().filter(|e| e["event"] == "add_message").collect();
    assert_eq!(added.len(), 2, "{names:?}");
    assert_eq!(added[1]["data"]["text"], want["text"]);
}
