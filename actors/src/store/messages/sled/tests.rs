#![allow(clippy::unwrap_used)]

use super::*;
use crate::store::messages::MessageStore;

fn record(flow: Uuid, session: &str, t: Micros, text: &str, sender: &str) -> MessageRecord {
    MessageRecord {
        id: Uuid::new_v4(),
        flow_id: flow,
        session_id: session.into(),
        context_id: String::new(),
        timestamp: t,
        sender: sender.into(),
        sender_name: if sender == "User" { "User".into() } else { "AI".into() },
        text: text.into(),
        files: vec![],
        error: false,
        edit: false,
        properties: "{}".into(),
        category: "message".into(),
        content_blocks: "[]".into(),
        session_metadata: None,
        duration: None,
    }
}

fn store() -> MessageStore {
    MessageStore::open(&Store::temporary().unwrap()).unwrap()
}

#[test]
fn newest_page_pages_across_sessions_and_flows_decoding_only_the_page() {
    let ms = store();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for i in 0..500 {
        let session = if i % 2 == 0 { "even" } else { "odd" };
        ms.insert(&record(if i % 3 == 0 { a } else { b }, session, 1_000 + i, &format!("m{i}"), "User")).unwrap();
    }
    ROWS_DECODED.with(|c| c.set(0));
    let page = ms.newest_page(&[a, b], None, None, None, 10, 5).unwrap();
    assert_eq!(ROWS_DECODED.with(std::cell::Cell::get), 5);
    let texts: Vec<_> = page.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, ["m489", "m488", "m487", "m486", "m485"]);
    let odd = ms.newest_page(&[b], Some("odd"), Some("User"), None, 0, 2).unwrap();
    let texts: Vec<_> = odd.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, ["m499", "m497"]);
    assert!(ms.newest_page(&[a, b], None, None, None, 500, 5).unwrap().is_empty());
}

#[test]
fn last_n_reads_only_n_rows_of_a_long_session() {
    let ms = store();
    let flow = Uuid::new_v4();
    for i in 0..5_000 {
        ms.insert(&record(flow, "long", 1_000 + i, &format!("m{i}"), "User")).unwrap();
    }
    ms.insert(&record(flow, "other", 10, "x", "User")).unwrap();
    ROWS_DECODED.with(|c| c.set(0));
    let last = ms.last_n(flow, "long", 3).unwrap();
    // The first read fills the session's cached tail: a bounded number of rows, whatever
    // the session's length.
    assert_eq!(ROWS_DECODED.with(std::cell::Cell::get), TAIL_LEN + 1);
    let texts: Vec<_> = last.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, ["m4997", "m4998", "m4999"]);
    // Later turns read from memory, and see new writes.
    ms.insert(&record(flow, "long", 9_000, "new", "User")).unwrap();
    ROWS_DECODED.with(|c| c.set(0));
    let texts: Vec<_> = ms.last_n(flow, "long", 2).unwrap().into_iter().map(|r| r.text).collect();
    assert_eq!(texts, ["m4999", "new"]);
    assert_eq!(ROWS_DECODED.with(std::cell::Cell::get), 0);
    // Beyond the tail, the tree is read: exactly the rows asked for.
    ROWS_DECODED.with(|c| c.set(0));
    assert_eq!(ms.last_n(flow, "long", 200).unwrap().len(), 200);
    assert_eq!(ROWS_DECODED.with(std::cell::Cell::get), 200);
}

#[test]
fn cached_tails_follow_edits_and_deletes() {
    let ms = store();
    let flow = Uuid::new_v4();
    let a = record(flow, "s", 1, "a", "User");
    ms.insert(&a).unwrap();
    assert_eq!(ms.last_n(flow, "s", 10).unwrap().len(), 1);
    ms.update(a.id, MessagePatch { text: Some("edited".into()), ..MessagePatch::default() }).unwrap();
    assert_eq!(ms.last_n(flow, "s", 10).unwrap()[0].text, "edited");
    ms.rename_session(flow, "s", "t").unwrap();
    assert!(ms.last_n(flow, "s", 10).unwrap().is_empty());
    assert_eq!(ms.last_n(flow, "t", 10).unwrap().len(), 1);
    ms.delete_ids(&[a.id]).unwrap();
    assert!(ms.last_n(flow, "t", 10).unwrap().is_empty());
    ms.insert(&record(flow, "t", 5, "b", "Machine")).unwrap();
    ms.delete_session(flow, "t").unwrap();
    assert!(ms.last_n(flow, "t", 10).unwrap().is_empty());
}

#[test]
fn upsert_replaces_and_update_moves_sessions() {
    let ms = store();
    let flow = Uuid::new_v4();
    let mut rec = record(flow, "s", 5, "partial", "Machine");
    ms.insert(&rec).unwrap();
    rec.text = "complete".into();
    rec.timestamp = 6;
    ms.upsert(&rec).unwrap();
    assert_eq!(ms.list(flow, Some("s"), None, None).unwrap().len(), 1);
    assert_eq!(ms.get(rec.id).unwrap().unwrap().text, "complete");

    let patch = MessagePatch { text: Some("edited".into()), session_id: Some("t".into()), ..Default::default() };
    let updated = ms.update(rec.id, patch).unwrap().unwrap();
    assert!(updated.edit);
    assert!(ms.list(flow, Some("s"), None, None).unwrap().is_empty());
    assert_eq!(ms.last_n(flow, "t", 10).unwrap()[0].text, "edited");
    assert!(ms.update(Uuid::new_v4(), MessagePatch::default()).unwrap().is_none());
}

#[test]
fn sessions_filters_renames_and_deletes() {
    let ms = store();
    let flow = Uuid::new_v4();
    let other_flow = Uuid::new_v4();
    ms.insert(&record(flow, "b", 1, "b1", "User")).unwrap();
    ms.insert(&record(flow, "a", 2, "a1", "User")).unwrap();
    ms.insert(&record(flow, "b", 3, "b2", "Machine")).unwrap();
    ms.insert(&record(flow, "ab", 4, "ab1", "Machine")).unwrap();
    ms.insert(&record(other_flow, "b", 1, "x", "User")).unwrap();

    assert_eq!(ms.sessions(flow).unwrap(), ["b", "a", "ab"]);
    let machine = ms.list(flow, None, Some("Machine"), None).unwrap();
    assert_eq!(machine.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(), ["b2", "ab1"]);
    assert_eq!(ms.list(flow, None, None, None).unwrap().len(), 4);

    assert_eq!(ms.rename_session(flow, "b", "c").unwrap(), 2);
    assert_eq!(ms.sessions(flow).unwrap(), ["c", "a", "ab"]);
    assert_eq!(ms.delete_session(flow, "a").unwrap(), 1);
    assert_eq!(ms.sessions(flow).unwrap(), ["c", "ab"]);

    let ids: Vec<_> = ms.list(flow, Some("c"), None, None).unwrap().iter().map(|r| r.id).collect();
    assert_eq!(ms.delete_ids(&ids[..1]).unwrap(), 1);
    assert_eq!(ms.list(flow, Some("c"), None, None).unwrap().len(), 1);

    assert_eq!(ms.delete_flow(flow).unwrap(), 2);
    assert!(ms.sessions(flow).unwrap().is_empty());
    assert_eq!(ms.sessions(other_flow).unwrap(), ["b"]);
    assert!(ms.get(ids[1]).unwrap().is_none());
}

#[test]
fn json_matches_langflow_message_response() {
    let rec = record(Uuid::nil(), "s", 1_732_372_281_358_976, "hi", "User");
    let j = rec.to_json();
    assert_eq!(j["files"], "[]");
    assert_eq!(j["timestamp"], "2024-11-23 14:31:21.358976 UTC");
    assert_eq!(j["properties"], serde_json::json!({}));
    assert_eq!(j["content_blocks"], serde_json::json!([]));
    assert!(j["session_metadata"].is_null());
    assert_eq!(j["sender"], "User");
}
