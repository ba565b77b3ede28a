//! The Playground build API over real HTTP: job ids, streamed and polled events in Langflow's
//! order and shapes, late readers, cancellation, dataflow, and per-user job isolation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::time::Duration;

use crate::common::{events, fixture, schema, Auth, TestServer};
use flowactor_actors::graph::FlowBuilder;
use serde_json::{json, Value};

fn names(evs: &[Value]) -> Vec<&str> {
    evs.iter().map(|e| e["event"].as_str().unwrap()).collect()
}

fn start(s: &TestServer, auth: Auth<'_>, flow_id: &str, body: &Value) -> String {
    let r = s.post(&format!("/api/v1/build/{flow_id}/flow"), auth, body);
    r.expect(200);
    r.json["job_id"].as_str().unwrap().to_owned()
}

#[test]
fn streamed_build_events_follow_langflows_order_and_shapes() {
    let s = TestServer::start();
    let (_, t) = s.user("builder");
    let id = s.create_flow(Auth::Bearer(&t), &fixture("wide_16__lf1.13.0.json"), "wide");
    let job = start(&s, Auth::Bearer(&t), &id, &json!({"inputs": {"input_value": "hello acceptance"}}));
    let r = s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&t));
    r.expect(200);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let evs = events(&r.text);
    let v = schema("build_event.json");
    for e in &evs {
        let errors: Vec<String> = v.iter_errors(e).map(|x| x.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?} {e}");
    }
    let n = names(&evs);
    assert_eq!(&n[..2], ["vertices_sorted", "build_start"]);
    assert_eq!(*n.last().unwrap(), "end");
    assert_eq!(evs[0]["data"]["to_run"].as_array().unwrap().len(), 33);
    assert_eq!(n.iter().filter(|e| **e == "end_vertex").count(), 33);
    assert!(evs.last().unwrap()["data"]["build_duration"].is_number());
    let expected: String = (0..16).map(|i| format!("branch {i}: hello acceptance")).collect::<Vec<_>>().join(" ");
    assert!(evs.iter().any(|e| e["event"] == "add_message" && e["data"]["text"] == expected.as_str()));
    // A drained job answers at once.
    let again = s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&t));
    again.expect(200);
    assert_eq!(names(&events(&again.text)), ["end"]);
}

#[test]
fn polling_and_late_readers_get_every_event() {
    let s = TestServer::start();
    let (_, t) = s.user("poller");
    let id = s.create_flow(Auth::Bearer(&t), &fixture("prompt__lf1.13.0.json"), "p");
    let job = start(&s, Auth::Bearer(&t), &id, &json!({"inputs": {"input_value": "q"}}));
    let mut all = Vec::new();
    for _ in 0..100 {
        let r = s.get(&format!("/api/v1/build/{job}/events?event_delivery=polling"), Auth::Bearer(&t));
        r.expect(200);
        let evs = events(&r.text);
        let done = evs.iter().any(|e| e["event"] == "end");
        all.extend(evs);
        if done {
            break;
        }
    }
    assert_eq!(names(&all).first(), Some(&"vertices_sorted"));
    assert_eq!(names(&all).last(), Some(&"end"));
    assert_eq!(names(&all).iter().filter(|e| **e == "end_vertex").count(), 3);
    // Default POST delivery is polling; a job read only after it finished still has everything.
    let job = start(&s, Auth::Bearer(&t), &id, &json!({"inputs": {"input_value": "late"}}));
    let r = s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&t));
    let evs = events(&r.text);
    assert_eq!(names(&evs)[0], "vertices_sorted");
    assert_eq!(*names(&evs).last().unwrap(), "end");
}

#[test]
fn direct_delivery_streams_in_the_post_response() {
    let s = TestServer::start();
    let (_, t) = s.user("direct");
    let id = s.create_flow(Auth::Bearer(&t), &fixture("chat_echo__lf1.13.0.json"), "e");
    let r = s.post(
        &format!("/api/v1/build/{id}/flow?event_delivery=direct"),
        Auth::Bearer(&t),
        &json!({"inputs": {"input_value": "d"}}),
    );
    r.expect(200);
    let evs = events(&r.text);
    assert_eq!(names(&evs)[0], "vertices_sorted");
    assert_eq!(*names(&evs).last().unwrap(), "end");
}

fn slow_fast_flow(slow_ms: u64) -> Value {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}));
    b.node("Delay-slow", "Delay", json!({"milliseconds": slow_ms, "input_value": ""}));
    b.edge("ChatInput-in", "message", "Delay-slow", "input_value");
    b.node("Delay-fast1", "Delay", json!({"milliseconds": 10, "input_value": ""}));
    b.edge("ChatInput-in", "message", "Delay-fast1", "input_value");
    b.node("Delay-fast2", "Delay", json!({"milliseconds": 10, "input_value": ""}));
    b.edge("Delay-fast1", "output", "Delay-fast2", "input_value");
    b.node("CombineText-j", "CombineText", json!({"text1": "", "text2": "", "delimiter": "+"}));
    b.edge("Delay-slow", "output", "CombineText-j", "text1");
    b.edge("Delay-fast2", "output", "CombineText-j", "text2");
    b.node("ChatOutput-out", "ChatOutput", json!({"input_value": ""}));
    b.edge("CombineText-j", "combined_text", "ChatOutput-out", "input_value");
    b.build()
}

#[test]
fn a_slow_branch_does_not_delay_a_fast_one() {
    let s = TestServer::start();
    let (_, t) = s.user("dataflow");
    let id = s.create_flow(Auth::Bearer(&t), &slow_fast_flow(400), "df");
    let job = start(&s, Auth::Bearer(&t), &id, &json!({"inputs": {"input_value": "go"}}));
    let evs = events(&s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&t)).text);
    let order: Vec<&str> = evs
        .iter()
        .filter(|e| e["event"] == "end_vertex")
        .map(|e| e["data"]["build_data"]["id"].as_str().unwrap())
        .collect();
    let pos = |id: &str| order.iter().position(|o| *o == id).unwrap();
    // Langflow's layered /run would start fast2 only after the slow vertex's layer finished.
    assert!(pos("Delay-fast2") < pos("Delay-slow"), "{order:?}");
    assert!(pos("Delay-slow") < pos("CombineText-j"));
    assert!(evs.iter().any(|e| e["event"] == "add_message" && e["data"]["text"] == "go+go"));
}

#[test]
fn cancel_stops_the_build_and_the_job_answers_at_once() {
    let s = TestServer::start();
    let (_, t) = s.user("canceller");
    let id = s.create_flow(Auth::Bearer(&t), &slow_fast_flow(60_000), "slow");
    let job = start(&s, Auth::Bearer(&t), &id, &json!({"inputs": {"input_value": "x"}}));
    let r = s.request("POST", &format!("/api/v1/build/{job}/cancel"), Auth::Bearer(&t), None, None);
    r.expect(200);
    assert_eq!(r.json, json!({"success": true, "message": "Flow build cancelled successfully"}));
    let started = std::time::Instant::now();
    let r = s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&t));
    r.expect(200);
    assert!(started.elapsed() < Duration::from_secs(30), "a cancelled job must not hang");
    let evs = events(&r.text);
    assert!(
        !evs.iter().any(|e| e["event"] == "end_vertex" && e["data"]["build_data"]["id"] == "ChatOutput-out"),
        "the output vertex must not have run: {}",
        r.text
    );
}

#[test]
fn disconnecting_a_streaming_reader_cancels_the_build() {
    let s = TestServer::start_with(&[("FLOWACTOR_HEARTBEAT_MS", "50")]);
    let (_, t) = s.user("leaver");
    let id = s.create_flow(Auth::Bearer(&t), &slow_fast_flow(60_000), "slow");
    let job = start(&s, Auth::Bearer(&t), &id, &json!({"inputs": {"input_value": "x"}}));
    {
        let stream = std::net::TcpStream::connect(s.url.trim_start_matches("http://")).unwrap();
        let req = format!("GET /api/v1/build/{job}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n\r\n");
        std::io::Write::write_all(&mut &stream, req.as_bytes()).unwrap();
        let mut reader = BufReader::new(&stream);
        let mut line = String::new();
        while !line.contains("vertices_sorted") {
            line.clear();
            reader.read_line(&mut line).unwrap();
        }
    }
    // The server notices on its next heartbeat write and cancels: the job reads as finished.
    let mut finished = false;
    for _ in 0..200 {
        let r = s.get(&format!("/api/v1/build/{job}/events?event_delivery=polling"), Auth::Bearer(&t));
        if names(&events(&r.text)) == ["end"] {
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(finished, "the abandoned build was not cancelled");
}

#[test]
fn jobs_and_flows_are_private() {
    let s = TestServer::start();
    let (_, a) = s.user("ja");
    let (_, b) = s.user("jb");
    let id = s.create_flow(Auth::Bearer(&a), &fixture("chat_echo__lf1.13.0.json"), "e");
    s.post(&format!("/api/v1/build/{id}/flow"), Auth::Bearer(&b), &json!({}))
        .expect_detail(404, &format!("Flow with id {id} not found"));
    let job = start(&s, Auth::Bearer(&a), &id, &json!({"inputs": {"input_value": "mine"}}));
    let missing = format!("Job not found: Job queue not found for job_id: {job}");
    s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&b)).expect_detail(404, &missing);
    s.request("POST", &format!("/api/v1/build/{job}/cancel"), Auth::Bearer(&b), None, None)
        .expect_detail(404, &missing);
    s.get(&format!("/api/v1/build/{job}/events"), Auth::None).expect(403);
    let r = s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&a));
    assert!(names(&events(&r.text)).contains(&"end_vertex"), "owner still gets the events");
    s.get(&format!("/api/v1/build/{}/events", uuid::Uuid::new_v4()), Auth::Bearer(&a)).expect(404);
}

#[test]
fn finished_jobs_expire() {
    let s = TestServer::start_with(&[("FLOWACTOR_JOB_EXPIRE_SECONDS", "1")]);
    let (_, t) = s.user("expiry");
    let id = s.create_flow(Auth::Bearer(&t), &fixture("chat_echo__lf1.13.0.json"), "e");
    let job = start(&s, Auth::Bearer(&t), &id, &json!({"inputs": {"input_value": "x"}}));
    assert_eq!(
        *names(&events(&s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&t)).text)).last().unwrap(),
        "end"
    );
    // Expiry is a matter of time: wait past it.
    std::thread::sleep(Duration::from_millis(1_500));
    s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&t)).expect(404);
}

#[test]
fn end_vertex_events_name_the_engine_thread_that_ran_the_vertex() {
    let s = TestServer::start_with(&[("FLOWACTOR_ENGINE_THREADS", "2")]);
    let (_, t) = s.user("threads");
    let id = s.create_flow(Auth::Bearer(&t), &fixture("wide_16__lf1.13.0.json"), "wide");
    let job = start(&s, Auth::Bearer(&t), &id, &json!({"inputs": {"input_value": "spread"}}));
    let r = s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&t));
    let threads: std::collections::BTreeSet<u64> = events(&r.text)
        .iter()
        .filter(|e| e["event"] == "end_vertex")
        .map(|e| e["data"]["build_data"]["data"]["engine_thread"].as_u64().expect("engine_thread"))
        .collect();
    assert_eq!(threads.into_iter().collect::<Vec<_>>(), [0, 1], "the fan-out did not use both engine threads");
}
