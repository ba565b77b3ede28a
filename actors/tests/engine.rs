//! End-to-end tests of the engine: real flow exports and generated graphs run through the
//! supervisor and vertex actors on an arbiter pool.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowactor_actors::engine::{
    ArbiterPool, BuildError, BuildEvent, BuildRequest, Engine, EngineSettings, Mode, RunOutcome,
};
use flowactor_actors::graph::{CompiledGraph, FlowBuilder, GraphError};
use flowactor_actors::store::messages::MessageStore;
use flowactor_actors::store::Store;
use serde_json::{json, Value as Json};
use uuid::Uuid;

fn fixture(name: &str) -> Json {
    let path = format!("{}/../tests/fixtures/flows/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn engine_with(settings: EngineSettings) -> Engine {
    let store = Store::temporary().unwrap();
    Engine::new(ArbiterPool::new(2), MessageStore::open(&store).unwrap(), settings)
}

/// Engine settings with the Delay and Burn test components enabled.
fn settings() -> EngineSettings {
    EngineSettings { test_components: true, ..EngineSettings::default() }
}

fn engine() -> Engine {
    engine_with(settings())
}

fn compile(engine: &Engine, flow: &Json) -> (Uuid, Arc<CompiledGraph>) {
    let id = Uuid::new_v4();
    let hash = flowactor_actors::engine::content_hash(flow.to_string().as_bytes());
    (id, engine.compile(id, hash, flow).unwrap())
}

async fn run(
    engine: &Engine,
    graph: &Arc<CompiledGraph>,
    req: BuildRequest,
) -> (Vec<BuildEvent>, Result<RunOutcome, BuildError>) {
    engine.start(graph.clone(), req).unwrap().collect().await
}

fn names(events: &[BuildEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.name).collect()
}

fn end_vertex_ids(events: &[BuildEvent]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.name == "end_vertex")
        .map(|e| e.data["build_data"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn wide_16_text() -> String {
    (0..16).map(|i| format!("branch {i}: hello acceptance")).collect::<Vec<_>>().join(" ")
}

#[actix_rt::test]
async fn reference_flows_give_langflows_texts_in_run_mode() {
    let engine = engine();
    for (file, expected) in [
        ("chat_echo__lf1.13.0.json", "hello acceptance".to_owned()),
        ("prompt__lf1.13.0.json", "Answer briefly: hello acceptance".to_owned()),
        ("wide_16__lf1.13.0.json", wide_16_text()),
    ] {
        let (flow_id, graph) = compile(&engine, &fixture(file));
        let (events, outcome) = run(&engine, &graph, BuildRequest::run(flow_id).with_input("hello acceptance")).await;
        let outcome = outcome.unwrap();
        // /run streams only messages: the user's and the answer.
        assert_eq!(names(&events), ["add_message", "add_message"], "{file}");
        let resp = outcome.run_response(Some("hello acceptance"), "chat", None);
        assert_eq!(resp["session_id"], flow_id.to_string());
        assert_eq!(resp["outputs"][0]["inputs"], json!({"input_value": "hello acceptance"}));
        let outs = resp["outputs"][0]["outputs"].as_array().unwrap();
        assert_eq!(outs.len(), 1, "{file}");
        let out = &outs[0];
        assert_eq!(out["results"]["message"]["text"], expected, "{file}");
        assert_eq!(out["outputs"]["message"], json!({"message": expected, "type": "text"}));
        assert_eq!(out["artifacts"]["sender"], "Machine");
        assert_eq!(out["artifacts"]["sender_name"], "AI");
        assert_eq!(out["artifacts"]["type"], "object");
        assert_eq!(out["logs"], json!({"message": []}));
        assert_eq!(out["component_display_name"], "Chat Output");
        assert!(out["component_id"].as_str().unwrap().starts_with("ChatOutput-"));
        assert_eq!(out["messages"][0]["component_id"], out["component_id"]);
        assert_eq!(out["messages"][0]["session_id"], flow_id.to_string());
        assert!(out["timedelta"].is_null() && out["duration"].is_null() && out["token_usage"].is_null());
        assert_eq!(out["used_frozen_result"], false);
        let msg = &out["results"]["message"];
        assert_eq!(msg["text_key"], "text");
        assert_eq!(msg["data"]["text"], expected);
        assert!(msg["data"]["id"].is_string());
        assert_eq!(msg["sender"], "Machine");
        assert_eq!(msg["session_id"], flow_id.to_string());
        assert_eq!(msg["flow_id"], flow_id.to_string());
        assert_eq!(msg["properties"]["state"], "complete");
        assert_eq!(msg["category"], "message");
        assert!(msg["timestamp"].as_str().unwrap().ends_with(" UTC"));
        // The user message and the answer are in the history.
        let stored = engine.messages().last_n(flow_id, &flow_id.to_string(), 10).unwrap();
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[0].sender, "User");
        assert_eq!(stored[1].text, expected);
    }
}

#[actix_rt::test]
async fn reference_flows_in_build_mode_stream_langflows_events() {
    let engine = engine();
    let (flow_id, graph) = compile(&engine, &fixture("wide_16__lf1.13.0.json"));
    let req = BuildRequest { mode: Mode::Build, ..BuildRequest::run(flow_id).with_input("hello acceptance") };
    let (events, outcome) = run(&engine, &graph, req).await;
    let outcome = outcome.unwrap();
    let n = names(&events);
    assert_eq!(&n[..2], ["vertices_sorted", "build_start"]);
    assert_eq!(*n.last().unwrap(), "end");
    assert!(events.last().unwrap().data["build_duration"].is_f64());
    assert_eq!(events[0].data["ids"], json!(["ChatInput-xUyIw"]));
    assert_eq!(events[0].data["to_run"].as_array().unwrap().len(), 33);
    assert_eq!(end_vertex_ids(&events).len(), 33);
    let first = events.iter().find(|e| e.name == "end_vertex").unwrap();
    let bd = &first.data["build_data"];
    assert_eq!(bd["id"], "ChatInput-xUyIw");
    assert_eq!(bd["valid"], true);
    assert_eq!(bd["next_vertices_ids"].as_array().unwrap().len(), 16);
    for key in ["inactivated_vertices", "top_level_vertices", "params", "timestamp"] {
        assert!(bd.get(key).is_some(), "{key}");
    }
    for key in [
        "results",
        "outputs",
        "logs",
        "message",
        "artifacts",
        "timedelta",
        "duration",
        "used_frozen_result",
        "token_usage",
    ] {
        assert!(bd["data"].get(key).is_some(), "{key}");
    }
    // add_message carries the id at the top level, and precedes its vertex's end_vertex.
    let add = events.iter().position(|e| e.name == "add_message").unwrap();
    assert!(events[add].data["id"].is_string());
    assert!(add < events.iter().position(|e| e.name == "end_vertex").unwrap());
    assert_eq!(outcome.text_of("ChatOutput-7MLPF").unwrap(), wide_16_text());

    for (file, text) in [
        ("chat_echo__lf1.13.0.json", "hello acceptance"),
        ("prompt__lf1.13.0.json", "Answer briefly: hello acceptance"),
    ] {
        let (flow_id, graph) = compile(&engine, &fixture(file));
        let req = BuildRequest { mode: Mode::Build, ..BuildRequest::run(flow_id).with_input("hello acceptance") };
        let (events, outcome) = run(&engine, &graph, req).await;
        let outcome = outcome.unwrap();
        assert_eq!(outcome.run_outputs("chat", None)[0]["results"]["message"]["text"], text);
        assert_eq!(*names(&events).last().unwrap(), "end");
    }
}

#[actix_rt::test]
async fn repeated_compiles_of_an_unchanged_flow_hit_the_cache() {
    let engine = engine();
    let flow = fixture("chat_echo__lf1.13.0.json");
    let id = Uuid::new_v4();
    let a = engine.compile(id, [1; 32], &flow).unwrap();
    let b = engine.compile(id, [1; 32], &json!({"not": "parsed again"})).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert!(engine.compile(id, [2; 32], &json!({"nodes": "bad"})).is_err());
}

/// ChatInput → {Delay 300 → Pass-slow, Delay 20 → Delay 20 → Pass-fast}: the fast branch
/// finishes while the slow one is still waiting — no layer barrier.
#[actix_rt::test]
async fn a_fast_branch_never_waits_for_a_slow_one() {
    let engine = engine();
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}))
        .node("Delay-slow", "Delay", json!({"milliseconds": 300}))
        .node("Pass-slow", "Pass", json!({}))
        .node("Delay-f1", "Delay", json!({"milliseconds": 20}))
        .node("Delay-f2", "Delay", json!({"milliseconds": 20}))
        .node("Pass-fast", "Pass", json!({}));
    b.edge("ChatInput-in", "message", "Delay-slow", "input_value")
        .edge("Delay-slow", "output", "Pass-slow", "input_message")
        .edge("ChatInput-in", "message", "Delay-f1", "input_value")
        .edge("Delay-f1", "output", "Delay-f2", "input_value")
        .edge("Delay-f2", "output", "Pass-fast", "input_message");
    let (flow_id, graph) = compile(&engine, &b.build());
    let req = BuildRequest { mode: Mode::Build, ..BuildRequest::run(flow_id).with_input("x") };
    let (events, outcome) = run(&engine, &graph, req).await;
    let order = end_vertex_ids(&events);
    let pos = |id: &str| order.iter().position(|x| x == id).unwrap();
    assert!(pos("Pass-fast") < pos("Delay-slow"), "{order:?}");
    let outcome = outcome.unwrap();
    assert_eq!(outcome.text_of("Pass-fast").unwrap(), "x");
    assert_eq!(outcome.text_of("Pass-slow").unwrap(), "x");
    // Results come in vertex order, not completion order.
    let debug: Vec<String> =
        outcome.run_outputs("debug", None).iter().map(|o| o["component_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(debug, ["ChatInput-in", "Delay-slow", "Pass-slow", "Delay-f1", "Delay-f2", "Pass-fast"]);
}

fn failing_flow() -> Json {
    // The If-Else with an invalid regex fails; its successor is skipped; the other branch runs.
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}))
        .node(
            "ConditionalRouter-bad",
            "ConditionalRouter",
            json!({"operator": "regex", "match_text": "(", "case_sensitive": true}),
        )
        .node("Pass-after", "Pass", json!({}))
        .node("Delay-other", "Delay", json!({"milliseconds": 30}))
        .node("ChatOutput-ok", "ChatOutput", json!({}));
    b.edge("ChatInput-in", "message", "ConditionalRouter-bad", "input_text")
        .edge("ConditionalRouter-bad", "true_result", "Pass-after", "input_message")
        .edge("ChatInput-in", "message", "Delay-other", "input_value")
        .edge("Delay-other", "output", "ChatOutput-ok", "input_value");
    b.build()
}

#[actix_rt::test]
async fn a_failing_vertex_fails_only_its_branch_in_build_mode() {
    let engine = engine();
    let (flow_id, graph) = compile(&engine, &failing_flow());
    let req = BuildRequest { mode: Mode::Build, ..BuildRequest::run(flow_id).with_input("x") };
    let (events, outcome) = run(&engine, &graph, req).await;
    let outcome = outcome.unwrap();
    let error = events.iter().find(|e| e.name == "error").unwrap();
    assert_eq!(error.data["category"], "error");
    assert_eq!(error.data["error"], true);
    assert!(error.data["text"].as_str().unwrap().starts_with("Invalid regex pattern"));
    assert_eq!(error.data["content_blocks"][0]["contents"][0]["type"], "error");
    let bad = events
        .iter()
        .find(|e| e.name == "end_vertex" && e.data["build_data"]["id"] == "ConditionalRouter-bad")
        .unwrap();
    assert_eq!(bad.data["build_data"]["valid"], false);
    let first_out = &bad.data["build_data"]["data"]["outputs"]["true_result"];
    assert_eq!(first_out["type"], "error");
    assert!(first_out["message"]["errorMessage"].as_str().unwrap().contains("Invalid regex"));
    let ended = end_vertex_ids(&events);
    assert!(!ended.contains(&"Pass-after".to_owned()), "successors of a failure never run");
    assert!(ended.contains(&"ChatOutput-ok".to_owned()));
    assert_eq!(*names(&events).last().unwrap(), "end");
    assert_eq!(outcome.text_of("ChatOutput-ok").unwrap(), "x");
}

#[actix_rt::test]
async fn a_failing_vertex_fails_the_whole_run() {
    let engine = engine();
    let (flow_id, graph) = compile(&engine, &failing_flow());
    let (events, outcome) = run(&engine, &graph, BuildRequest::run(flow_id).with_input("x")).await;
    let BuildError::Failed(text) = outcome.unwrap_err() else { panic!("not a failure") };
    assert!(
        text.starts_with("Error running graph: Error building Component ConditionalRouter-bad: Invalid regex pattern"),
        "{text}"
    );
    assert!(names(&events).contains(&"error"));
    assert!(!names(&events).contains(&"end_vertex"));
}

fn slow_flow() -> Json {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}))
        .node("Delay-a", "Delay", json!({"milliseconds": 60_000}))
        .node("Burn-b", "Burn", json!({"microseconds": 60_000_000}))
        .node("ChatOutput-o", "ChatOutput", json!({}));
    b.edge("ChatInput-in", "message", "Delay-a", "input_value")
        .edge("ChatInput-in", "message", "Burn-b", "input_value")
        .edge("Delay-a", "output", "ChatOutput-o", "input_value")
        .edge("Burn-b", "output", "ChatOutput-o", "input_value");
    b.build()
}

#[actix_rt::test]
async fn cancelling_stops_every_vertex_and_ends_the_stream() {
    let engine = engine();
    let (flow_id, graph) = compile(&engine, &slow_flow());
    let t = Instant::now();
    let mut handle =
        engine.start(graph, BuildRequest { mode: Mode::Build, ..BuildRequest::run(flow_id).with_input("x") }).unwrap();
    // Wait until the slow vertices have started (the ChatInput is done), then cancel.
    loop {
        let e = handle.events.recv().await.unwrap();
        if e.name == "end_vertex" {
            break;
        }
    }
    handle.cancel.cancel();
    while handle.events.recv().await.is_some() {}
    assert_eq!(handle.outcome.await.unwrap().unwrap_err(), BuildError::Cancelled);
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[actix_rt::test]
async fn dropping_the_event_stream_cancels_the_build() {
    let engine = engine();
    let (flow_id, graph) = compile(&engine, &slow_flow());
    let t = Instant::now();
    let handle = engine.start(graph, BuildRequest::run(flow_id).with_input("x")).unwrap();
    drop(handle.events);
    assert_eq!(handle.outcome.await.unwrap().unwrap_err(), BuildError::Cancelled);
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[actix_rt::test]
async fn test_components_run_only_when_enabled() {
    let engine = engine_with(EngineSettings::default());
    let (flow_id, graph) = compile(&engine, &slow_flow());
    let Err(err) = engine.start(graph, BuildRequest::run(flow_id).with_input("x")) else {
        panic!("a flow with Delay must be refused")
    };
    // Both test components are named in the one refusal.
    assert_eq!(
        err,
        GraphError::UnsupportedComponents(vec![("Delay-a".into(), "Delay".into()), ("Burn-b".into(), "Burn".into())])
    );
}

#[actix_rt::test]
async fn the_deadline_cancels_with_an_error_event() {
    let engine = engine_with(EngineSettings { build_deadline: Duration::from_millis(100), ..settings() });
    let (flow_id, graph) = compile(&engine, &slow_flow());
    let (events, outcome) =
        run(&engine, &graph, BuildRequest { mode: Mode::Build, ..BuildRequest::run(flow_id).with_input("x") }).await;
    assert!(matches!(outcome, Err(BuildError::DeadlineExceeded(_))));
    assert_eq!(*names(&events).last().unwrap(), "error");
}

#[actix_rt::test]
async fn graph_errors_are_reported_before_running() {
    let engine = engine_with(EngineSettings { max_vertices: 6, ..settings() });
    let err = engine.compile(Uuid::new_v4(), [0; 32], &fixture("knowledge_retrieval__lf1.13.0.json")).unwrap_err();
    assert_eq!(err.to_string(), "Component type 'Knowledge' (node Knowledge-Y8gm2) is not supported by flowactor");
    let err = engine.compile(Uuid::new_v4(), [0; 32], &fixture("wide_16__lf1.13.0.json")).unwrap_err();
    assert_eq!(err, GraphError::TooLarge { vertices: 33, limit: 6 });

    let mut b = FlowBuilder::new();
    b.node("Pass-a", "Pass", json!({})).node("Pass-b", "Pass", json!({}));
    b.edge("Pass-a", "output_message", "Pass-b", "input_message").edge(
        "Pass-b",
        "output_message",
        "Pass-a",
        "input_message",
    );
    assert!(matches!(engine.compile(Uuid::new_v4(), [0; 32], &b.build()), Err(GraphError::Cycle(_))));
}

#[actix_rt::test]
async fn tweaks_change_the_run_and_code_tweaks_are_refused() {
    let engine = engine();
    let (flow_id, graph) = compile(&engine, &fixture("prompt__lf1.13.0.json"));
    for tweaks in [
        json!({"Prompt Template-ffx1k": {"template": "Q: {question}"}}),
        json!({"Prompt Template": {"template": "Q: {question}"}}),
        json!({"template": "Q: {question}"}),
    ] {
        let (_, outcome) = run(&engine, &graph, BuildRequest::run(flow_id).with_input("hi").with_tweaks(tweaks)).await;
        assert_eq!(outcome.unwrap().text_of("ChatOutput-VZQ2t").unwrap(), "Q: hi");
    }
    let refused =
        engine.start(graph, BuildRequest::run(flow_id).with_tweaks(json!({"Prompt Template-ffx1k": {"code": "x"}})));
    assert_eq!(refused.err().unwrap(), GraphError::RefusedTweaks(vec!["code".into()]));
}

fn if_else_flow() -> Json {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}))
        .node(
            "ConditionalRouter-r",
            "ConditionalRouter",
            json!({"operator": "equals", "match_text": "yes", "case_sensitive": false}),
        )
        .node("Pass-t", "Pass", json!({}))
        .node("ChatOutput-t", "ChatOutput", json!({}))
        .node("Pass-f", "Pass", json!({}))
        .node("ChatOutput-f", "ChatOutput", json!({}));
    b.edge("ChatInput-in", "message", "ConditionalRouter-r", "input_text")
        .edge("ConditionalRouter-r", "true_result", "Pass-t", "input_message")
        .edge("Pass-t", "output_message", "ChatOutput-t", "input_value")
        .edge("ConditionalRouter-r", "false_result", "Pass-f", "input_message")
        .edge("Pass-f", "output_message", "ChatOutput-f", "input_value");
    b.build()
}

#[actix_rt::test]
async fn if_else_excludes_the_losing_branch() {
    let engine = engine();
    let (flow_id, graph) = compile(&engine, &if_else_flow());
    let req = BuildRequest { mode: Mode::Build, ..BuildRequest::run(flow_id).with_input("YES") };
    let (events, outcome) = run(&engine, &graph, req).await;
    let outcome = outcome.unwrap();
    let router =
        events.iter().find(|e| e.name == "end_vertex" && e.data["build_data"]["id"] == "ConditionalRouter-r").unwrap();
    assert_eq!(router.data["build_data"]["inactivated_vertices"], json!(["Pass-f", "ChatOutput-f"]));
    assert_eq!(router.data["build_data"]["next_vertices_ids"], json!(["Pass-t"]));
    let ended = end_vertex_ids(&events);
    assert!(!ended.iter().any(|id| id.ends_with("-f")), "{ended:?}");
    assert_eq!(outcome.text_of("ChatOutput-t").unwrap(), "YES");
    assert!(outcome.text_of("ChatOutput-f").is_none());
    assert_eq!(outcome.run_outputs("chat", None).len(), 1);

    let (_, outcome) = run(&engine, &graph, BuildRequest::run(flow_id).with_input("no")).await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.text_of("ChatOutput-f").unwrap(), "no");
    assert!(outcome.text_of("ChatOutput-t").is_none());
}

#[actix_rt::test]
async fn loop_runs_its_body_per_item_and_aggregates_done() {
    let engine = engine();
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}))
        .node(
            "SplitText-s",
            "SplitText",
            json!({"chunk_size": 1, "chunk_overlap": 0, "separator": "\\n", "text_key": "text"}),
        )
        .node("LoopComponent-l", "LoopComponent", json!({}))
        .node("ParserComponent-item", "ParserComponent", json!({"mode": "Parser", "pattern": "<{text}>", "sep": "\\n"}))
        .node("ParserComponent-done", "ParserComponent", json!({"mode": "Parser", "pattern": "{text}", "sep": ","}))
        .node("ChatOutput-o", "ChatOutput", json!({}));
    b.edge("ChatInput-in", "message", "SplitText-s", "data_inputs")
        .edge("SplitText-s", "dataframe", "LoopComponent-l", "data")
        .edge("LoopComponent-l", "item", "ParserComponent-item", "input_data")
        .loop_back("ParserComponent-item", "parsed_text", "LoopComponent-l")
        .edge("LoopComponent-l", "done", "ParserComponent-done", "input_data")
        .edge("ParserComponent-done", "parsed_text", "ChatOutput-o", "input_value");
    let (flow_id, graph) = compile(&engine, &b.build());
    for mode in [Mode::Run, Mode::Build] {
        let req = BuildRequest { mode, ..BuildRequest::run(flow_id).with_input("a\nb\nc") };
        let (events, outcome) = run(&engine, &graph, req).await;
        assert_eq!(outcome.unwrap().text_of("ChatOutput-o").unwrap(), "<a>,<b>,<c>");
        if mode == Mode::Build {
            assert!(events[0].data["to_run"].as_array().unwrap().contains(&json!("ParserComponent-item")));
        }
    }
}

#[actix_rt::test]
async fn memory_reads_the_previous_turns_of_the_session() {
    // Memory Chatbot without the LLM: the history is read after the user message is stored
    // and before the answer is.
    let engine = engine();
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}))
        .node(
            "Memory-m",
            "Memory",
            json!({"n_messages": 2, "template": "{sender_name}: {text}", "sender": "Machine and User"}),
        )
        .node("TextOutput-h", "TextOutput", json!({}))
        .node("CombineText-c", "CombineText", json!({"delimiter": " | "}))
        .node("ChatOutput-o", "ChatOutput", json!({}));
    b.edge("Memory-m", "messages_text", "TextOutput-h", "input_value")
        .edge("ChatInput-in", "message", "CombineText-c", "text1")
        .edge("TextOutput-h", "text", "CombineText-c", "text2")
        .edge("CombineText-c", "combined_text", "ChatOutput-o", "input_value");
    let (flow_id, graph) = compile(&engine, &b.build());
    let (_, outcome) = run(&engine, &graph, BuildRequest::run(flow_id).with_input("one").with_session("s1")).await;
    assert_eq!(outcome.unwrap().text_of("ChatOutput-o").unwrap(), "one | User: one");
    let (_, outcome) = run(&engine, &graph, BuildRequest::run(flow_id).with_input("two").with_session("s1")).await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.text_of("TextOutput-h").unwrap(), "AI: one | User: one\nUser: two");
    let text_outputs = outcome.run_outputs("text", None);
    assert_eq!(text_outputs.len(), 1);
    assert_eq!(text_outputs[0]["component_id"], "TextOutput-h");
    // Another session sees nothing of s1.
    let (_, outcome) = run(&engine, &graph, BuildRequest::run(flow_id).with_input("x").with_session("s2")).await;
    assert_eq!(outcome.unwrap().text_of("TextOutput-h").unwrap(), "User: x");
}

#[actix_rt::test]
async fn build_mode_keeps_a_components_own_session() {
    let engine = engine();
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": "", "session_id": "own"})).node(
        "ChatOutput-o",
        "ChatOutput",
        json!({"session_id": ""}),
    );
    b.edge("ChatInput-in", "message", "ChatOutput-o", "input_value");
    let (flow_id, graph) = compile(&engine, &b.build());
    let req = BuildRequest { mode: Mode::Build, ..BuildRequest::run(flow_id).with_input("x").with_session("run") };
    run(&engine, &graph, req).await.1.unwrap();
    assert_eq!(engine.messages().list(flow_id, Some("own"), None, None).unwrap().len(), 1);
    assert_eq!(engine.messages().list(flow_id, Some("run"), None, None).unwrap().len(), 1);
    run(&engine, &graph, BuildRequest::run(flow_id).with_input("y").with_session("run")).await.1.unwrap();
    assert_eq!(engine.messages().list(flow_id, Some("run"), None, None).unwrap().len(), 3);
}

fn pass_graph(n: usize, chain: bool) -> Json {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": "", "should_store_message": false}));
    b.node("ChatOutput-out", "ChatOutput", json!({"should_store_message": false}));
    let mut prev = ("ChatInput-in".to_owned(), "message");
    for i in 0..n {
        let id = format!("Pass-{i}");
        b.node(&id, "Pass", json!({}));
        if chain {
            b.edge(&prev.0, prev.1, &id, "input_message");
            prev = (id, "output_message");
        } else {
            b.edge("ChatInput-in", "message", &id, "input_message");
            b.edge(&id, "output_message", "ChatOutput-out", "input_value");
        }
    }
    if chain {
        b.edge(&prev.0, prev.1, "ChatOutput-out", "input_value");
    }
    b.build()
}

#[actix_rt::test]
async fn thousand_vertex_graphs_run() {
    let engine = engine();
    for chain in [true, false] {
        let (flow_id, graph) = compile(&engine, &pass_graph(1_000, chain));
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let (_, outcome) = run(&engine, &graph, BuildRequest::run(flow_id).with_input("z")).await;
            best = best.min(t.elapsed());
            let outcome = outcome.unwrap();
            let text = outcome.text_of("ChatOutput-out").unwrap();
            if chain {
                assert_eq!(text, "z");
            } else {
                assert_eq!(text, vec!["z"; 1_000].join("\n"));
            }
            assert_eq!(outcome.vertices.iter().flatten().count(), 1_002);
        }
        eprintln!("{} x1002: best {:?} ({:?}/vertex)", if chain { "chain" } else { "wide" }, best, best / 1_002);
        let (_, outcome) =
            run(&engine, &graph, BuildRequest { mode: Mode::Build, ..BuildRequest::run(flow_id).with_input("z") })
                .await;
        assert!(outcome.is_ok());
    }
}

#[actix_rt::test]
async fn variables_reach_components() {
    let engine = engine();
    let mut b = FlowBuilder::new();
    b.node("TextInput-t", "TextInput", json!({"input_value": "VAR_NAME"}));
    let mut flow = b.build();
    flow["data"]["nodes"][0]["data"]["node"]["template"]["input_value"]["load_from_db"] = json!(true);
    let (flow_id, graph) = compile(&engine, &flow);
    assert_eq!(graph.required_variables(), ["VAR_NAME"]);
    let req = BuildRequest {
        variables: HashMap::from([("VAR_NAME".to_owned(), "resolved".to_owned())]),
        ..BuildRequest::run(flow_id)
    };
    let (_, outcome) = run(&engine, &graph, req).await;
    assert_eq!(outcome.unwrap().text_of("TextInput-t").unwrap(), "resolved");
}
