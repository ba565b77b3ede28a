//! Setup shared by the Agent and starter-project tests: a user whose `OPENAI_BASE_URL` points at
//! the mock model, the Agent tweaks, the recorded traces and text comparisons.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use crate::common::{Auth, TestServer};
use crate::mock_llm::MockLlm;
use serde_json::{json, Value};

pub fn trace(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("actors/tests/fixtures/agent").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A user with an API key, `OPENAI_BASE_URL` pointing at the mock, and the flow uploaded.
pub fn setup(s: &TestServer, mock: &MockLlm, flow: &Value) -> (String, String) {
    static USERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = USERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let (_, t) = s.user(&format!("agent-user-{n}"));
    let (_, key) = s.api_key(&t, "k");
    s.post(
        "/api/v1/variables/",
        Auth::Key(&key),
        &json!({"name": "OPENAI_BASE_URL", "value": mock.openai_base(), "type": "Generic", "default_fields": []}),
    )
    .expect(201);
    let mut body = flow.clone();
    body["name"] = json!("agent flow");
    let id = s.post("/api/v1/flows/", Auth::Key(&key), &body).json["id"].as_str().unwrap().to_owned();
    (key, id)
}

pub fn agent_tweak() -> Value {
    json!({"model": [{"name": "gpt-4o-mini", "provider": "OpenAI", "metadata": {}}], "api_key": "sk-mock"})
}

pub fn tweaks(agents: &[&str], extra: &Value) -> Value {
    let mut t = serde_json::Map::new();
    for a in agents {
        let mut tw = agent_tweak();
        for (k, v) in extra.as_object().unwrap() {
            tw[k] = v.clone();
        }
        t.insert((*a).to_owned(), tw);
    }
    Value::Object(t)
}

pub fn message(r: &Value) -> &Value {
    &r["outputs"][0]["outputs"][0]["results"]["message"]
}

pub fn run(s: &TestServer, key: &str, id: &str, input: &str, session: &str, tweaks: &Value) -> crate::common::Resp {
    s.post(
        &format!("/api/v1/run/{id}"),
        Auth::Key(key),
        &json!({"input_value": input, "session_id": session, "tweaks": tweaks}),
    )
}

/// The recorded request bodies of a trace, without the keys that vary between runs.
pub fn recorded_bodies(t: &Value) -> Vec<Value> {
    t["llm_requests"].as_array().unwrap().iter().map(|r| r["body"].clone()).collect()
}

/// Equal texts, or a panic showing where they first differ. The traces cut long texts to a
/// prefix plus `...<truncated N chars>`: then the prefix and the length must agree.
pub fn assert_same_text(got: &Value, want: &Value) {
    let (g, w) = (got.as_str().unwrap_or_default(), want.as_str().unwrap_or_default());
    if let Some((prefix, rest)) = w.split_once("...<truncated ") {
        let cut: usize = rest.trim_end_matches(" chars>").parse().unwrap();
        assert!(g.starts_with(prefix), "the recorded prefix differs");
        assert_eq!(g.chars().count(), prefix.chars().count() + cut, "the recorded length differs");
        return;
    }
    if let Some(at) =
        g.chars().zip(w.chars()).position(|(a, b)| a != b).or((g.len() != w.len()).then_some(g.len().min(w.len())))
    {
        let from = at.saturating_sub(40);
        let show = |t: &str| t.chars().skip(from).take(120).collect::<String>();
        panic!("texts differ at char {at}:\n got: {:?}\nwant: {:?}", show(g), show(w));
    }
}

pub fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// `YYYY-MM-DD` dates replaced by `0000-00-00` (same length): the system prompts carry the day
/// of the run.
fn without_dates(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let is_date = |s: &[char]| {
        s.len() >= 10
            && s[..10].iter().enumerate().all(|(k, c)| if k == 4 || k == 7 { *c == '-' } else { c.is_ascii_digit() })
    };
    while i < chars.len() {
        if is_date(&chars[i..]) {
            out.push_str("0000-00-00");
            i += 10;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A model request body equal to a recorded one, key for key (in any order). The traces shorten
/// repeated parts (`<same tools array …>`, `…<same system prompt as in an earlier request …>`:
/// then the text must be one the model already received in this run) and long texts
/// (`…<truncated N chars>`); dates and the mock's tool-call ids differ between runs.
pub fn assert_same_body(got: &Value, want: &Value, first_tools: &Value, earlier: &[String]) {
    fn walk(got: &Value, want: &Value, first_tools: &Value, earlier: &[String], at: &str) {
        match (got, want) {
            (_, Value::String(w)) if w.starts_with("<same tools array") => {
                walk(got, first_tools, first_tools, earlier, at);
            }
            (Value::String(g), Value::String(w)) => {
                if let Some((prefix, _)) = w.split_once("...<same system prompt as in an earlier request") {
                    assert!(without_dates(g).starts_with(&without_dates(prefix)), "{at}: the recorded prefix differs");
                    assert!(earlier.contains(g), "{at}: not a system prompt sent earlier in this run");
                } else if w.starts_with("call_mock_") {
                    assert!(g.starts_with("call_mock_"), "{at}: {g}");
                } else {
                    assert_same_text(&Value::String(without_dates(g)), &Value::String(without_dates(w)));
                }
            }
            (Value::Object(g), Value::Object(w)) => {
                let sorted = |v: &Value| {
                    let mut k = keys(v);
                    k.sort();
                    k
                };
                assert_eq!(sorted(got), sorted(want), "{at}: the keys differ");
                for (k, wv) in w {
                    walk(&g[k], wv, first_tools, earlier, &format!("{at}.{k}"));
                }
            }
            (Value::Array(g), Value::Array(w)) => {
                assert_eq!(g.len(), w.len(), "{at}: the lengths differ:\n got: {got}\nwant: {want}");
                for (k, (gv, wv)) in g.iter().zip(w).enumerate() {
                    walk(gv, wv, first_tools, earlier, &format!("{at}[{k}]"));
                }
            }
            _ => assert_eq!(got, want, "{at}"),
        }
    }
    walk(got, want, first_tools, earlier, "body");
}

/// Every model request of a run against the recorded ones, in order.
pub fn assert_same_requests(sent: &[crate::mock_llm::Recorded], recorded: &[Value]) {
    assert_eq!(sent.len(), recorded.len(), "the number of model calls");
    let first_tools = recorded.first().map(|b| b["tools"].clone()).unwrap_or(Value::Null);
    let mut earlier = Vec::new();
    for (k, (got, want)) in sent.iter().zip(recorded).enumerate() {
        let got = &got.body;
        let (g, w) = (serde_json::to_string(got).unwrap(), serde_json::to_string(want).unwrap());
        std::panic::catch_unwind(|| assert_same_body(got, want, &first_tools, &earlier))
            .unwrap_or_else(|e| panic!("model request {k} differs:\n got: {g}\nwant: {w}\n{e:?}"));
        earlier.push(got["messages"][0]["content"].as_str().unwrap_or_default().to_owned());
    }
}
