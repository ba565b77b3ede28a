//! Batch Run over the real HTTP API against the mock model on 127.0.0.1: Chat Input → Split Text
//! (a table of lines) → Batch Run → Parser → Chat Output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestServer;
use crate::mock_llm::{MockLlm, REPLY_PREFIX};
use serde_json::{json, Value};

fn node(id: &str, kind: &str, values: &Value) -> Value {
    let template: serde_json::Map<String, Value> =
        values.as_object().unwrap().iter().map(|(k, v)| (k.clone(), json!({"value": v}))).collect();
    json!({"id": id, "type": "genericNode", "data": {"id": id, "type": kind, "node": {"template": template}}})
}

fn edge(source: &str, output: &str, target: &str, field: &str) -> Value {
    json!({
        "source": source, "target": target,
        "data": {
            "sourceHandle": {"dataType": source.split('-').next(), "id": source, "name": output, "output_types": ["Message"]},
            "targetHandle": {"fieldName": field, "id": target, "inputTypes": ["Message", "Data", "DataFrame"], "type": "other"},
        },
    })
}

/// The flow, with Batch Run's fields and Parser's pattern.
fn flow(batch: &Value, pattern: &str) -> Value {
    let mut fields = json!({"model": "", "api_key": "", "df": "", "system_message": ""});
    for (k, v) in batch.as_object().unwrap() {
        fields[k] = v.clone();
    }
    json!({"data": {
        "nodes": [
            node("ChatInput-1", "ChatInput", &json!({"input_value": ""})),
            node("SplitText-1", "SplitText", &json!({"data_inputs": "", "chunk_size": 5, "chunk_overlap": 0, "separator": "\n"})),
            node("BatchRunComponent-1", "BatchRunComponent", &fields),
            node("ParserComponent-1", "ParserComponent", &json!({"mode": "Parser", "pattern": pattern, "sep": "\n", "input_data": ""})),
            node("ChatOutput-1", "ChatOutput", &json!({"input_value": ""})),
        ],
        "edges": [
            edge("ChatInput-1", "message", "SplitText-1", "data_inputs"),
            edge("SplitText-1", "dataframe", "BatchRunComponent-1", "df"),
            edge("BatchRunComponent-1", "batch_results", "ParserComponent-1", "input_data"),
            edge("ParserComponent-1", "parsed_text", "ChatOutput-1", "input_value"),
        ],
    }})
}

/// A user whose `OPENAI_BASE_URL` is the mock, running `flow` on `input`.
fn run(s: &TestServer, mock: &MockLlm, flow: &Value, input: &str) -> crate::common::Resp {
    let (key, id) = crate::agent_helpers::setup(s, mock, flow);
    let tweaks = json!({"BatchRunComponent-1": crate::agent_helpers::agent_tweak()});
    crate::agent_helpers::run(s, &key, &id, input, "batch", &tweaks)
}

fn output_text(r: &Value) -> String {
    r["outputs"][0]["outputs"][0]["results"]["message"]["text"].as_str().unwrap().to_owned()
}

/// The user turns the mock received, sorted (the rows are asked concurrently).
fn user_turns(mock: &MockLlm) -> Vec<Value> {
    let mut turns: Vec<Value> = mock.requests().iter().map(|r| r.body["messages"].clone()).collect();
    turns.sort_by_key(Value::to_string);
    turns
}

#[test]
fn batch_run_answers_every_row_of_a_column_in_row_order() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let f =
        flow(&json!({"column_name": "text", "system_message": "Be brief."}), "{batch_index}|{text}|{model_response}");
    let r = run(&s, &mock, &f, "alpha\nbeta\ngamma");
    r.expect(200);
    assert_eq!(
        output_text(&r.json),
        format!("0|alpha|{REPLY_PREFIX}alpha\n1|beta|{REPLY_PREFIX}beta\n2|gamma|{REPLY_PREFIX}gamma")
    );
    let sys = json!({"role": "system", "content": "Be brief."});
    let turns: Vec<Value> =
        ["alpha", "beta", "gamma"].iter().map(|t| json!([sys, {"role": "user", "content": t}])).collect();
    assert_eq!(user_turns(&mock), turns);
    assert!(mock.requests().iter().all(|r| r.body["stream"] != true), "whole answers, not streams");
}

#[test]
fn batch_run_without_a_column_sends_each_row_as_toml_with_metadata() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let f = flow(
        &json!({"column_name": "", "output_column_name": "answer", "enable_metadata": true}),
        "{batch_index}|{answer}|{metadata}",
    );
    let r = run(&s, &mock, &f, "alpha\nbeta");
    r.expect(200);
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    let mut contents: Vec<String> =
        sent.iter().map(|r| r.body["messages"][0]["content"].as_str().unwrap().to_owned()).collect();
    contents.sort();
    // Every column of the row, each a TOML table; no system message was set.
    assert!(sent.iter().all(|r| r.body["messages"].as_array().unwrap().len() == 1));
    assert!(contents[0].starts_with("[text]\nvalue = \"alpha\"\n"), "{}", contents[0]);
    assert!(contents[1].starts_with("[text]\nvalue = \"beta\"\n"), "{}", contents[1]);
    let text = output_text(&r.json);
    // Each answer echoes its row's TOML, so the rows' lines hold newlines of their own.
    assert!(text.starts_with(&format!("0|{REPLY_PREFIX}[text]\nvalue = \"alpha\"\n")), "{text}");
    assert!(text.contains(&format!("\n1|{REPLY_PREFIX}[text]\nvalue = \"beta\"\n")), "{text}");
    assert!(text.contains("success") && text.contains("has_system_message"), "{text}");
}

#[test]
fn batch_run_names_the_available_columns_when_the_column_is_missing() {
    let mock = MockLlm::start();
    let s = TestServer::start();
    let f = flow(&json!({"column_name": "nope"}), "{model_response}");
    let r = run(&s, &mock, &f, "alpha");
    let detail = r.json["detail"].as_str().unwrap_or_default().to_owned();
    assert!(
        detail.contains("Column 'nope' not found in the DataFrame. Available columns: text, sender,"),
        "{}: {}",
        r.status,
        r.json
    );
    assert!(mock.requests().is_empty(), "no model call before the check");
}
