//! The flows shipped in `examples/flows/` run over HTTP and answer what their descriptions say.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Auth, TestServer};
use serde_json::{json, Value};

fn example(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flows").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn texts(r: &Value) -> Vec<String> {
    r["outputs"][0]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["results"]["message"]["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn example_flows_run() {
    let s = TestServer::start();
    let (_, t) = s.user("examples");
    let (_, key) = s.api_key(&t, "k");
    let mut ids = std::collections::HashMap::new();
    for file in ["echo_chat.json", "prompt.json", "fan_out_fan_in.json", "if_else_router.json", "memory_chat.json"] {
        let r = s.post("/api/v1/flows/", Auth::Key(&key), &example(file));
        r.expect(201);
        ids.insert(file, r.json["id"].as_str().unwrap().to_owned());
    }
    let run = |file: &str, body: Value| {
        let r = s.post(&format!("/api/v1/run/{}", ids[file]), Auth::Key(&key), &body);
        r.expect(200);
        texts(&r.json)
    };
    assert_eq!(run("echo_chat.json", json!({"input_value": "hi"})), ["hi"]);
    assert_eq!(run("prompt.json", json!({"input_value": "why?"})), ["Answer briefly: why?"]);
    assert_eq!(run("fan_out_fan_in.json", json!({"input_value": "x"}))[0].matches("branch").count(), 16);
    assert_eq!(
        run("if_else_router.json", json!({"input_value": "well hello there"})),
        ["Greeting received: well hello there"]
    );
    assert_eq!(run("if_else_router.json", json!({"input_value": "bye"})), ["Not a greeting: bye"]);
    let first = run("memory_chat.json", json!({"input_value": "my name is Ada", "session_id": "chat-1"}));
    assert!(first[0].ends_with("Latest: my name is Ada"), "{first:?}");
    let second = run("memory_chat.json", json!({"input_value": "what is my name?", "session_id": "chat-1"}));
    assert!(second[0].contains("User: my name is Ada"), "{second:?}");
    let other = run("memory_chat.json", json!({"input_value": "hello", "session_id": "chat-2"}));
    assert!(!other[0].contains("Ada"), "sessions are separate: {other:?}");
}
