//! Chat history over `/api/v1/monitor`: every run's messages are stored and served in
//! Langflow's shape, scoped to the caller's flows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{fixture, Auth, TestServer};
use serde_json::json;

fn setup(s: &TestServer, name: &str) -> (String, String, String) {
    let (_, t) = s.user(name);
    let (_, key) = s.api_key(&t, "k");
    let mut body = fixture("chat_echo__lf1.13.0.json");
    body["name"] = json!(name);
    let id = s.post("/api/v1/flows/", Auth::Key(&key), &body).json["id"].as_str().unwrap().to_owned();
    (t, key, id)
}

#[test]
fn runs_store_messages_served_in_langflows_shape() {
    let s = TestServer::start();
    let (t, key, id) = setup(&s, "chatter");
    for (text, session) in [("one", "s1"), ("two", "s1"), ("three", "s2")] {
        s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": text, "session_id": session}))
            .expect(200);
    }
    let r = s.get(&format!("/api/v1/monitor/messages?flow_id={id}"), Auth::Bearer(&t));
    r.expect(200);
    let msgs = r.json.as_array().unwrap();
    assert_eq!(msgs.len(), 6);
    let texts: Vec<&str> = msgs.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["one", "one", "two", "two", "three", "three"]);
    let m = &msgs[0];
    assert_eq!(m["sender"], "User");
    assert_eq!(msgs[1]["sender"], "Machine");
    assert_eq!(msgs[1]["sender_name"], "AI");
    assert!(m["files"].is_string(), "files is a JSON-encoded string in Langflow");
    let ts = m["timestamp"].as_str().unwrap();
    assert!(ts.ends_with(" UTC") && ts.len() == "2026-11-23 14:31:21.358976 UTC".len(), "{ts}");
    for key in
        ["id", "flow_id", "session_id", "context_id", "edit", "duration", "properties", "category", "content_blocks"]
    {
        assert!(m.get(key).is_some(), "{key}");
    }
    let s1 = s.get(&format!("/api/v1/monitor/messages?flow_id={id}&session_id=s1&sender=Machine"), Auth::Bearer(&t));
    assert_eq!(s1.json.as_array().unwrap().len(), 2);
    let sessions = s.get(&format!("/api/v1/monitor/messages/sessions?flow_id={id}"), Auth::Bearer(&t));
    assert_eq!(sessions.json, json!(["s1", "s2"]));
    // Edit, rename, delete.
    let mid = msgs[1]["id"].as_str().unwrap();
    let up = s.send("PUT", &format!("/api/v1/monitor/messages/{mid}"), Auth::Bearer(&t), &json!({"text": "edited"}));
    up.expect(200);
    assert_eq!(up.json["text"], "edited");
    assert_eq!(up.json["edit"], true);
    let renamed =
        s.request("PATCH", "/api/v1/monitor/messages/session/s2?new_session_id=s3", Auth::Bearer(&t), None, None);
    renamed.expect(200);
    assert_eq!(renamed.json.as_array().unwrap().len(), 2);
    s.request("PATCH", "/api/v1/monitor/messages/session/nope?new_session_id=x", Auth::Bearer(&t), None, None)
        .expect_detail(404, "No messages found with the given session ID");
    s.delete("/api/v1/monitor/messages/session/s3", Auth::Bearer(&t)).expect(204);
    assert_eq!(s.get(&format!("/api/v1/monitor/messages/sessions?flow_id={id}"), Auth::Bearer(&t)).json, json!(["s1"]));
    s.request(
        "DELETE",
        "/api/v1/monitor/messages",
        Auth::Bearer(&t),
        Some("application/json"),
        Some(format!("[\"{mid}\"]").as_bytes()),
    )
    .expect(204);
    assert_eq!(
        s.get(&format!("/api/v1/monitor/messages?flow_id={id}"), Auth::Bearer(&t)).json.as_array().unwrap().len(),
        3
    );
    let bulk = s.request(
        "DELETE",
        "/api/v1/monitor/messages/sessions",
        Auth::Bearer(&t),
        Some("application/json"),
        Some(b"[\"s1\"]"),
    );
    bulk.expect(200);
    assert_eq!(bulk.json["deleted_count"], 1);
    let too_many: Vec<String> = (0..501).map(|i| format!("s{i}")).collect();
    s.send("DELETE", "/api/v1/monitor/messages/sessions", Auth::Bearer(&t), &json!(too_many))
        .expect_detail(400, "Cannot delete more than 500 sessions at once. Please batch your requests.");
}

#[test]
fn other_users_messages_are_invisible_and_untouchable() {
    let s = TestServer::start();
    let (a, a_key, a_flow) = setup(&s, "ma");
    let (b, _, _) = setup(&s, "mb");
    s.post(&format!("/api/v1/run/{a_flow}"), Auth::Key(&a_key), &json!({"input_value": "secret", "session_id": "x"}))
        .expect(200);
    let mine = s.get(&format!("/api/v1/monitor/messages?flow_id={a_flow}"), Auth::Bearer(&a)).json;
    let mid = mine[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.get(&format!("/api/v1/monitor/messages?flow_id={a_flow}"), Auth::Bearer(&b)).json, json!([]));
    assert_eq!(s.get("/api/v1/monitor/messages", Auth::Bearer(&b)).json, json!([]));
    assert_eq!(s.get(&format!("/api/v1/monitor/messages/sessions?flow_id={a_flow}"), Auth::Bearer(&b)).json, json!([]));
    s.send("PUT", &format!("/api/v1/monitor/messages/{mid}"), Auth::Bearer(&b), &json!({"text": "pwned"}))
        .expect_detail(404, "Message not found");
    s.request(
        "DELETE",
        "/api/v1/monitor/messages",
        Auth::Bearer(&b),
        Some("application/json"),
        Some(format!("[\"{mid}\"]").as_bytes()),
    )
    .expect(204);
    s.delete("/api/v1/monitor/messages/session/x", Auth::Bearer(&b)).expect(204);
    s.request("PATCH", "/api/v1/monitor/messages/session/x?new_session_id=y", Auth::Bearer(&b), None, None).expect(404);
    let still = s.get(&format!("/api/v1/monitor/messages?flow_id={a_flow}"), Auth::Bearer(&a)).json;
    assert_eq!(still, mine);
    // Deleting the flow deletes its history.
    s.delete(&format!("/api/v1/flows/{a_flow}"), Auth::Bearer(&a)).expect(200);
    assert_eq!(s.get("/api/v1/monitor/messages", Auth::Bearer(&a)).json, json!([]));
}

#[test]
fn message_lists_are_paged_like_langflow() {
    let s = TestServer::start();
    let (t, key, id) = setup(&s, "pager");
    // 130 runs: 260 messages, the user's and the echo, in time order.
    for i in 0..130 {
        s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": format!("m{i:03}")})).expect(200);
    }
    let texts = |query: &str| -> Vec<String> {
        let r = s.get(&format!("/api/v1/monitor/messages?flow_id={id}{query}"), Auth::Bearer(&t));
        r.expect(200);
        r.json.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
    };
    // Default: the newest 100, shown oldest first.
    let page = texts("");
    assert_eq!(page.len(), 100);
    assert_eq!((page[0].as_str(), page[99].as_str()), ("m080", "m129"));
    assert_eq!(texts("&limit=0").len(), 100);
    assert_eq!(texts("&limit=1000").len(), 200, "at most 200 per page");
    // The window is the newest after `offset`, whatever the display order.
    let page = texts("&limit=4&offset=6");
    assert_eq!(page, ["m125", "m125", "m126", "m126"]);
    let page = texts("&limit=4&offset=6&order=DESC");
    assert_eq!(page, ["m126", "m126", "m125", "m125"]);
    assert!(texts("&offset=260").is_empty());
    let all: usize = (0..3).map(|p| texts(&format!("&limit=100&offset={}", p * 100)).len()).sum();
    assert_eq!(all, 260);
    // The same filters apply inside the window.
    let page = texts("&limit=3&sender=User&order=desc");
    assert_eq!(page, ["m129", "m128", "m127"]);
    let list = s.get("/api/v1/monitor/messages", Auth::Bearer(&t));
    assert_eq!(list.json.as_array().unwrap().len(), 100);
    // Malformed paging parameters.
    let r = s.get(&format!("/api/v1/monitor/messages?flow_id={id}&limit=-1"), Auth::Bearer(&t));
    r.expect(422);
    assert_eq!(r.json["detail"][0]["loc"], json!(["query", "limit"]));
    let r = s.get(&format!("/api/v1/monitor/messages?flow_id={id}&offset=many"), Auth::Bearer(&t));
    r.expect(422);
    assert_eq!(r.json["detail"][0]["loc"], json!(["query", "offset"]));
    s.get(&format!("/api/v1/monitor/messages?flow_id={id}&order=sideways"), Auth::Bearer(&t))
        .expect_detail(400, "Invalid order direction: sideways");
    s.get(&format!("/api/v1/monitor/messages?flow_id={id}&order_by=secret"), Auth::Bearer(&t))
        .expect_detail(400, "Invalid order_by field: secret");
}
