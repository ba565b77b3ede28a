//! Resumable build event streams (a flowactor extension): every event of a job has a sequence
//! number; a reader that reads with `since` (or as Server-Sent Events with `Last-Event-ID`) can
//! drop its connection after any event and continue without gaps or duplicates, while the
//! build goes on; past the retention bound the early events answer 410.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{Auth, TestServer};
use flowactor_actors::graph::FlowBuilder;
use serde_json::{json, Value};

/// ChatInput → `width` Prompts → a tree of Combine Texts → ChatOutput, with an optional Delay
/// on the input so the build is still running while a reader drops.
fn wide_flow(width: usize, delay_ms: u64) -> Value {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}));
    b.node("Delay-d", "Delay", json!({"milliseconds": delay_ms, "input_value": ""}));
    b.edge("ChatInput-in", "message", "Delay-d", "input_value");
    let mut level: Vec<(String, &str)> = Vec::new();
    for i in 0..width {
        let id = format!("Prompt-p{i}");
        b.node(&id, "Prompt", json!({"template": format!("branch {i}: {{question}}"), "question": ""}));
        b.edge("Delay-d", "output", &id, "question");
        level.push((id, "prompt"));
    }
    let mut n = 0;
    while level.len() > 1 {
        let mut next = Vec::new();
        for pair in level.chunks(2) {
            if let [(a, ao), (c, co)] = pair {
                let id = format!("CombineText-c{n}");
                n += 1;
                b.node(&id, "CombineText", json!({"text1": "", "text2": "", "delimiter": " "}));
                b.edge(a, ao, &id, "text1");
                b.edge(c, co, &id, "text2");
                next.push((id, "combined_text"));
            } else {
                next.push(pair[0].clone());
            }
        }
        level = next;
    }
    b.node("ChatOutput-out", "ChatOutput", json!({"input_value": ""}));
    let (last, out) = &level[0];
    b.edge(last, out, "ChatOutput-out", "input_value");
    b.build()
}

fn start(s: &TestServer, t: &str, flow: &str) -> String {
    let r = s.post(&format!("/api/v1/build/{flow}/flow"), Auth::Bearer(t), &json!({"inputs": {"input_value": "go"}}));
    r.expect(200);
    r.json["job_id"].as_str().unwrap().to_owned()
}

/// A streamed response read frame by frame over a raw socket (so it can be dropped mid-way).
struct Events {
    reader: BufReader<TcpStream>,
    pending: String,
    content_type: String,
}

impl Events {
    fn open(s: &TestServer, token: &str, path: &str, headers: &[(&str, &str)]) -> Self {
        let stream = TcpStream::connect(s.url.trim_start_matches("http://")).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        (&stream).write_all(req.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.contains(" 200 "), "{line}");
        let mut content_type = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-type:") {
                content_type = v.trim().to_owned();
            }
        }
        Self { reader, pending: String::new(), content_type }
    }

    /// The next frame (without its blank line), skipping heartbeats; `None` at the end.
    fn next(&mut self) -> Option<String> {
        loop {
            let trimmed = self.pending.trim_start_matches('\n');
            if let Some(end) = trimmed.find("\n\n") {
                let frame = trimmed[..end].to_owned();
                self.pending = trimmed[end + 2..].to_owned();
                return Some(frame);
            }
            let mut size = String::new();
            self.reader.read_line(&mut size).unwrap();
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                return None;
            }
            let mut chunk = vec![0u8; size + 2];
            self.reader.read_exact(&mut chunk).unwrap();
            self.pending.push_str(std::str::from_utf8(&chunk[..size]).unwrap());
        }
    }
}

/// `(seq, event)` of a numbered NDJSON frame.
fn numbered(frame: &str) -> (u64, Value) {
    let v: Value = serde_json::from_str(frame).unwrap();
    (v["seq"].as_u64().expect("seq"), json!({"event": v["event"], "data": v["data"]}))
}

fn read_all(s: &TestServer, t: &str, job: &str, since: u64) -> Vec<(u64, Value)> {
    let mut e = Events::open(s, t, &format!("/api/v1/build/{job}/events?since={since}"), &[]);
    std::iter::from_fn(|| e.next()).map(|f| numbered(&f)).collect()
}

#[test]
fn a_reader_dropping_at_random_events_of_wide_64_resumes_with_since_and_misses_nothing() {
    let s = TestServer::start();
    let (_, t) = s.user("resumer");
    let flow = s.create_flow(Auth::Bearer(&t), &wide_flow(64, 0), "wide64");
    for round in 0..3 {
        let job = start(&s, &t, &flow);
        // A reference read of the whole job: reading with `since` consumes nothing.
        let all = read_all(&s, &t, &job, 0);
        let seqs: Vec<u64> = all.iter().map(|(n, _)| *n).collect();
        assert_eq!(seqs, (1..=all.len() as u64).collect::<Vec<_>>(), "numbered 1, 2, … without gaps");
        assert_eq!(all.last().unwrap().1["event"], "end");
        assert!(all.len() > 130, "64 branches give well over 130 events: {}", all.len());
        // Drop after a random event, reconnect with the last sequence number seen.
        let cut = 1 + rand::random::<usize>() % (all.len() - 1);
        let mut first = Events::open(&s, &t, &format!("/api/v1/build/{job}/events?since=0"), &[]);
        let head: Vec<(u64, Value)> = (0..cut).map(|_| numbered(&first.next().unwrap())).collect();
        drop(first);
        let last = head.last().unwrap().0;
        let tail = read_all(&s, &t, &job, last);
        let joined: Vec<(u64, Value)> = head.into_iter().chain(tail).collect();
        assert_eq!(joined, all, "round {round}: cut after event {cut}");
    }
}

#[test]
fn a_running_build_outlives_its_resuming_readers_disconnect() {
    let s = TestServer::start();
    let (_, t) = s.user("patient");
    let flow = s.create_flow(Auth::Bearer(&t), &wide_flow(4, 400), "slow");
    let job = start(&s, &t, &flow);
    let mut first = Events::open(&s, &t, &format!("/api/v1/build/{job}/events?since=0"), &[]);
    let (seq, e) = numbered(&first.next().unwrap());
    assert_eq!((seq, e["event"].as_str()), (1, Some("vertices_sorted")));
    drop(first);
    // The Delay is still running; the build is not cancelled and finishes normally.
    let tail = read_all(&s, &t, &job, seq);
    assert_eq!(tail.first().unwrap().0, 2);
    let out =
        tail.iter().find(|(_, e)| e["event"] == "end_vertex" && e["data"]["build_data"]["id"] == "ChatOutput-out");
    assert!(out.is_some(), "the build ran to its end: {tail:?}");
    assert_eq!(tail.last().unwrap().1["event"], "end");
}

#[test]
fn server_sent_events_carry_ids_and_resume_after_last_event_id() {
    let s = TestServer::start();
    let (_, t) = s.user("sse");
    let flow = s.create_flow(Auth::Bearer(&t), &wide_flow(8, 0), "sse");
    let job = start(&s, &t, &flow);
    let path = format!("/api/v1/build/{job}/events");
    let parse = |frame: &str| {
        let mut id = None;
        let mut event = None;
        let mut data = None;
        for line in frame.lines() {
            if let Some(v) = line.strip_prefix("id: ") {
                id = Some(v.parse::<u64>().unwrap());
            } else if let Some(v) = line.strip_prefix("event: ") {
                event = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("data: ") {
                data = Some(serde_json::from_str::<Value>(v).unwrap());
            }
        }
        (id.expect("id"), event.expect("event"), data.expect("data"))
    };
    let mut all = Events::open(&s, &t, &path, &[("Accept", "text/event-stream")]);
    assert!(all.content_type.starts_with("text/event-stream"), "{}", all.content_type);
    let frames: Vec<(u64, String, Value)> = std::iter::from_fn(|| all.next()).map(|f| parse(&f)).collect();
    assert_eq!(frames.first().unwrap().1, "vertices_sorted");
    assert_eq!(frames.last().unwrap().1, "end");
    let resumed = Events::open(&s, &t, &path, &[("Accept", "text/event-stream"), ("Last-Event-ID", "5")]);
    let mut resumed = resumed;
    let rest: Vec<(u64, String, Value)> = std::iter::from_fn(|| resumed.next()).map(|f| parse(&f)).collect();
    assert_eq!(rest, frames[5..].to_vec());
}

#[test]
fn polling_with_since_does_not_consume_and_plain_polling_still_does() {
    let s = TestServer::start();
    let (_, t) = s.user("pollster");
    let flow = s.create_flow(Auth::Bearer(&t), &wide_flow(2, 0), "p");
    let job = start(&s, &t, &flow);
    let poll = |q: &str| {
        let r = s.get(&format!("/api/v1/build/{job}/events?event_delivery=polling{q}"), Auth::Bearer(&t));
        r.expect(200);
        r.text
            .split("\n\n")
            .filter(|f| !f.trim().is_empty())
            .map(|f| serde_json::from_str::<Value>(f).unwrap())
            .collect::<Vec<_>>()
    };
    let a = poll("&since=0");
    let b = poll("&since=0");
    assert!(!a.is_empty());
    // The build may have gone on between the polls: the second sees at least what the first saw.
    assert!(b.len() >= a.len());
    assert_eq!(a[..], b[..a.len()], "reading with since consumes nothing");
    let v = crate::common::schema("build_event.json");
    for e in &a {
        let errors: Vec<String> = v.iter_errors(e).map(|x| x.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?} {e}");
    }
    assert_eq!(a[0]["seq"], 1);
    let after = poll(&format!("&since={}", a[0]["seq"]));
    assert_eq!(after[0]["seq"], 2);
}

#[test]
fn bad_resume_points_are_refused_and_dropped_events_answer_410() {
    let s = TestServer::start_with(&[("FLOWACTOR_JOB_EVENT_RETENTION_BYTES", "4000")]);
    let (_, t) = s.user("late");
    let flow = s.create_flow(Auth::Bearer(&t), &wide_flow(16, 0), "small");
    let job = start(&s, &t, &flow);
    let r = s.get(&format!("/api/v1/build/{job}/events?since=x"), Auth::Bearer(&t));
    r.expect(422);
    assert_eq!(r.json["detail"][0]["loc"], json!(["query", "since"]));
    let r = s.request_with(
        "GET",
        &format!("/api/v1/build/{job}/events"),
        Auth::Bearer(&t),
        &[("Last-Event-ID", "-1")],
        None,
        None,
    );
    r.expect(422);
    // A resuming reader reads to the end: with 4 kB kept, the early events are gone afterwards.
    let all = read_all(&s, &t, &job, 0);
    assert_eq!(all.last().unwrap().1["event"], "end");
    let r = s.get(&format!("/api/v1/build/{job}/events?since=0"), Auth::Bearer(&t));
    r.expect(410);
    let detail = r.json["detail"].as_str().unwrap();
    assert!(detail.contains("no longer retained"), "{detail}");
    // Resuming within what is kept still works.
    let last = all.last().unwrap().0;
    let tail = read_all(&s, &t, &job, last - 1);
    assert_eq!(tail, all[all.len() - 1..].to_vec());
    // Another user's job stays unknown, resumable or not.
    let (_, other) = s.user("stranger");
    s.get(&format!("/api/v1/build/{job}/events?since=0"), Auth::Bearer(&other)).expect(404);
}

#[test]
fn a_resuming_reader_that_never_returns_has_its_build_cancelled_after_the_grace() {
    let s = TestServer::start_with(&[("FLOWACTOR_JOB_RESUME_GRACE_SECONDS", "1"), ("FLOWACTOR_HEARTBEAT_MS", "50")]);
    let (_, t) = s.user("vanished");
    let flow = s.create_flow(Auth::Bearer(&t), &wide_flow(2, 60_000), "forever");
    let job = start(&s, &t, &flow);
    let mut first = Events::open(&s, &t, &format!("/api/v1/build/{job}/events?since=0"), &[]);
    let (seq, _) = numbered(&first.next().unwrap());
    drop(first);
    let started = Instant::now();
    // The 60 s Delay would keep the build going; the grace of 1 s ends it long before. Polls
    // read without attaching a reader, so they do not hold the build up.
    let mut last = seq;
    let mut tail = Vec::new();
    loop {
        let r = s.get(&format!("/api/v1/build/{job}/events?event_delivery=polling&since={last}"), Auth::Bearer(&t));
        r.expect(200);
        let frames: Vec<Value> =
            r.text.split("\n\n").filter(|f| !f.trim().is_empty()).map(|f| serde_json::from_str(f).unwrap()).collect();
        let done = frames.iter().any(|f| f["event"] == "end" && f.get("seq").is_none());
        for f in frames.into_iter().filter(|f| f.get("seq").is_some()) {
            last = f["seq"].as_u64().unwrap();
            tail.push(f);
        }
        if done {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "still running after {:?}", started.elapsed());
    }
    assert!(!tail.iter().any(|e| e["event"] == "end_vertex" && e["data"]["build_data"]["id"] == "ChatOutput-out"));
}
