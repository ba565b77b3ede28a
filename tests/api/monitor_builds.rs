//! Build monitoring over `/api/v1/monitor/builds`, `/monitor/transactions` and the timeline:
//! every run and build leaves a per-vertex trace, scoped to the flow's owner.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Auth, TestServer};
use flowactor_actors::graph::FlowBuilder;
use serde_json::{json, Value};

/// ChatInput → two parallel 150 ms Delays → CombineText → ChatOutput.
fn parallel_delays() -> Value {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}));
    for d in ["Delay-a", "Delay-b"] {
        b.node(d, "Delay", json!({"milliseconds": 150, "input_value": ""}));
        b.edge("ChatInput-in", "message", d, "input_value");
    }
    b.node("CombineText-j", "CombineText", json!({"text1": "", "text2": "", "delimiter": "+"}));
    b.edge("Delay-a", "output", "CombineText-j", "text1");
    b.edge("Delay-b", "output", "CombineText-j", "text2");
    b.node("ChatOutput-out", "ChatOutput", json!({}));
    b.edge("CombineText-j", "combined_text", "ChatOutput-out", "input_value");
    b.build()
}

fn setup(s: &TestServer, name: &str) -> (String, String) {
    let (_, t) = s.user(name);
    let (_, key) = s.api_key(&t, "k");
    let id = s.create_flow(Auth::Key(&key), &parallel_delays(), name);
    (key, id)
}

fn row<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("{id} in {rows:?}"))
}

#[test]
fn a_build_timeline_shows_parallel_vertices_and_transactions_page() {
    let s = TestServer::start();
    let (key, id) = setup(&s, "monitor-owner");
    let r = s.post(&format!("/api/v1/build/{id}/flow"), Auth::Key(&key), &json!({"inputs": {"input_value": "hi"}}));
    r.expect(200);
    let job = r.json["job_id"].as_str().unwrap().to_owned();
    let events = s.get(&format!("/api/v1/build/{job}/events"), Auth::Key(&key));
    events.expect(200);
    assert!(events.text.contains("\"end\""), "{}", events.text);

    let t = s.get(&format!("/api/v1/monitor/builds/{job}/timeline"), Auth::Key(&key));
    t.expect(200);
    assert_eq!(t.json["job_id"], job.as_str());
    assert_eq!(t.json["flow_id"], id.as_str());
    assert_eq!(t.json["mode"], "build");
    assert_eq!(t.json["status"], "success");
    let rows = t.json["vertices"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "{rows:?}");
    let (a, b) = (row(rows, "Delay-a"), row(rows, "Delay-b"));
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap();
    for d in [a, b] {
        assert_eq!(d["component"], "Delay");
        assert_eq!(d["status"], "success");
        assert!(f(d, "duration_ms") >= 150.0, "{d}");
        assert!((f(d, "end_ms") - f(d, "start_ms") - f(d, "duration_ms")).abs() < 0.01);
        assert!(d["arbiter"].is_u64());
    }
    // The two delays overlap: each starts before the other ends.
    assert!(f(a, "start_ms") < f(b, "end_ms") && f(b, "start_ms") < f(a, "end_ms"), "{a} {b}");
    let join = row(rows, "CombineText-j");
    assert!(f(join, "start_ms") >= f(a, "end_ms").max(f(b, "end_ms")) - 0.01, "the join waits for both");
    assert!(f(&t.json, "duration_ms") >= f(join, "end_ms") - 0.01, "the build lasts until its last vertex ends");

    // One /run more: two builds kept, transactions newest first, paged.
    s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "again"})).expect(200);
    let builds = s.get(&format!("/api/v1/monitor/builds?flow_id={id}"), Auth::Key(&key));
    builds.expect(200);
    let per_vertex = builds.json["vertex_builds"].as_object().unwrap();
    assert_eq!(per_vertex.len(), 5);
    let delay_builds = per_vertex["Delay-a"].as_array().unwrap();
    assert_eq!(delay_builds.len(), 2);
    assert_eq!(delay_builds[0]["job_id"], job.as_str(), "oldest first");
    assert_eq!(delay_builds[0]["valid"], true);
    assert_eq!(delay_builds[0]["flow_id"], id.as_str());
    assert!(delay_builds[1]["data"]["duration_ms"].as_f64().unwrap() >= 150.0);

    let page = s.get(&format!("/api/v1/monitor/transactions?flow_id={id}&size=3"), Auth::Key(&key));
    page.expect(200);
    assert_eq!(page.json["total"], 10);
    assert_eq!(page.json["pages"], 4);
    assert_eq!(page.json["page"], 1);
    let items = page.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["vertex_id"], "ChatOutput-out", "newest first");
    assert_ne!(items[0]["build_id"], job.as_str(), "the /run came last");
    assert_eq!(items[0]["status"], "success");
    let last = s.get(&format!("/api/v1/monitor/transactions?flow_id={id}&size=3&page=4"), Auth::Key(&key));
    let last_items = last.json["items"].as_array().unwrap();
    assert_eq!(last_items.len(), 1);
    assert_eq!(last_items[0]["vertex_id"], "ChatInput-in");
    assert_eq!(last_items[0]["build_id"], job.as_str());
    // The /run's trace is reachable by its build id too.
    let run_id = items[0]["build_id"].as_str().unwrap();
    let rt = s.get(&format!("/api/v1/monitor/builds/{run_id}/timeline"), Auth::Key(&key));
    rt.expect(200);
    assert_eq!(rt.json["mode"], "run");

    // Delete: 204, then nothing kept.
    s.delete(&format!("/api/v1/monitor/builds?flow_id={id}"), Auth::Key(&key)).expect(204);
    let after = s.get(&format!("/api/v1/monitor/transactions?flow_id={id}"), Auth::Key(&key));
    assert_eq!(after.json["total"], 0);
    assert_eq!(after.json["pages"], 0);
    s.get(&format!("/api/v1/monitor/builds/{job}/timeline"), Auth::Key(&key)).expect(404);
}

#[test]
fn monitoring_is_scoped_to_the_owner_and_validates_queries() {
    let s = TestServer::start();
    let (key, id) = setup(&s, "monitor-a");
    let (_, other_t) = s.user("monitor-b");
    let (_, other) = s.api_key(&other_t, "k");
    let r = s.post(&format!("/api/v1/build/{id}/flow"), Auth::Key(&key), &json!({"inputs": {"input_value": "x"}}));
    let job = r.json["job_id"].as_str().unwrap().to_owned();
    s.get(&format!("/api/v1/build/{job}/events"), Auth::Key(&key)).expect(200);

    // Another user: the flow lists as nothing, the build is not found, delete changes nothing.
    let b = s.get(&format!("/api/v1/monitor/builds?flow_id={id}"), Auth::Key(&other));
    b.expect(200);
    assert_eq!(b.json["vertex_builds"], json!({}));
    let t = s.get(&format!("/api/v1/monitor/transactions?flow_id={id}"), Auth::Key(&other));
    assert_eq!(t.json["total"], 0);
    s.get(&format!("/api/v1/monitor/builds/{job}/timeline"), Auth::Key(&other)).expect(404);
    s.delete(&format!("/api/v1/monitor/builds?flow_id={id}"), Auth::Key(&other)).expect(204);
    s.get(&format!("/api/v1/monitor/builds/{job}/timeline"), Auth::Key(&key)).expect(200);

    // Bad queries: 422 in FastAPI's shape; no credentials: 403.
    for q in ["", "?flow_id=nope"] {
        let r = s.get(&format!("/api/v1/monitor/builds{q}"), Auth::Key(&key));
        r.expect(422);
        assert_eq!(r.json["detail"][0]["loc"], json!(["query", "flow_id"]));
    }
    for q in ["page=0", "size=0", "size=101", "page=x"] {
        let r = s.get(&format!("/api/v1/monitor/transactions?flow_id={id}&{q}"), Auth::Key(&key));
        r.expect(422);
    }
    s.get("/api/v1/monitor/builds/not-a-uuid/timeline", Auth::Key(&key)).expect(422);
    s.get(&format!("/api/v1/monitor/transactions?flow_id={id}"), Auth::None).expect(403);
}

#[test]
fn deleting_a_flow_drops_its_traces() {
    let s = TestServer::start();
    let (key, id) = setup(&s, "monitor-del");
    let run = s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x"}));
    run.expect(200);
    let rows = s.get(&format!("/api/v1/monitor/transactions?flow_id={id}"), Auth::Key(&key));
    let build = rows.json["items"][0]["build_id"].as_str().unwrap().to_owned();
    s.get(&format!("/api/v1/monitor/builds/{build}/timeline"), Auth::Key(&key)).expect(200);
    s.delete(&format!("/api/v1/flows/{id}"), Auth::Key(&key)).expect(200);
    s.get(&format!("/api/v1/monitor/builds/{build}/timeline"), Auth::Key(&key)).expect(404);
}
