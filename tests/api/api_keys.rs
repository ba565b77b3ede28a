//! API keys: format, show-once, masking, usage, revocation, rotation, isolation, transport.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Auth, TestServer};
use serde_json::json;

fn is_key(k: &str) -> bool {
    k.len() == 46 && k.starts_with("sk-") && k[3..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[test]
fn created_once_then_only_masked() {
    let s = TestServer::start();
    let (user_id, token) = s.user("kim");
    let r = s.post(
        "/api/v1/api_key/",
        Auth::Bearer(&token),
        &json!({"name": "ci", "api_key": "sk-mine", "user_id": uuid::Uuid::new_v4(), "total_uses": 99}),
    );
    r.expect(200);
    let key = r.json["api_key"].as_str().unwrap().to_owned();
    assert!(is_key(&key), "{key}");
    assert_eq!(r.json["user_id"], user_id.as_str());
    assert_eq!(r.json["total_uses"], 0);
    assert_eq!(r.json["is_active"], true);
    s.post("/api/v1/api_key/", Auth::Bearer(&token), &json!({})).expect(200);
    let list = s.get("/api/v1/api_key/", Auth::Bearer(&token));
    list.expect(200);
    assert_eq!(list.json["total_count"], 2);
    assert_eq!(list.json["user_id"], user_id.as_str());
    let listed = list.json["api_keys"][0]["api_key"].as_str().unwrap();
    assert_eq!(listed, format!("{}{}", &key[..8], "*".repeat(38)));
    for window in key.as_bytes().windows(9) {
        let piece = std::str::from_utf8(window).unwrap();
        assert!(!list.text.contains(piece), "listing leaks {piece}");
    }
    for field in ["created_at", "last_used_at", "total_uses", "is_active", "expires_at", "name", "id"] {
        assert!(list.json["api_keys"][0].get(field).is_some(), "{field}");
    }
}

#[test]
fn keys_authenticate_by_header_or_query_and_count_uses() {
    let s = TestServer::start();
    let (_, token) = s.user("ken");
    let (_, key) = s.api_key(&token, "k");
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    s.get("/api/v1/users/whoami", Auth::KeyQuery(&key)).expect(200);
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    let list = s.get("/api/v1/api_key/", Auth::Key(&key));
    assert_eq!(list.json["api_keys"][0]["total_uses"], 4);
    assert!(list.json["api_keys"][0]["last_used_at"].is_string());
}

#[test]
fn revocation_is_immediate_and_foreign_keys_are_not_found() {
    let s = TestServer::start();
    let (_, a) = s.user("alpha");
    let (_, b) = s.user("beta");
    let (a_key_id, a_key) = s.api_key(&a, "a");
    s.delete(&format!("/api/v1/api_key/{a_key_id}"), Auth::Bearer(&b)).expect_detail(404, "API Key not found");
    s.post(&format!("/api/v1/api_key/{a_key_id}/rotate"), Auth::Bearer(&b), &json!({}))
        .expect_detail(404, "API Key not found");
    s.get("/api/v1/users/whoami", Auth::Key(&a_key)).expect(200);
    assert_eq!(s.get("/api/v1/api_key/", Auth::Bearer(&b)).json["total_count"], 0);
    s.delete(&format!("/api/v1/api_key/{a_key_id}"), Auth::Bearer(&a)).expect_detail(200, "API Key deleted");
    s.get("/api/v1/users/whoami", Auth::Key(&a_key)).expect_detail(403, "Invalid API key");
    s.delete(&format!("/api/v1/api_key/{a_key_id}"), Auth::Bearer(&a)).expect_detail(404, "API Key not found");
    s.delete("/api/v1/api_key/not-a-uuid", Auth::Bearer(&a)).expect(422);
}

#[test]
fn rotation_replaces_a_key_at_once_or_after_a_grace_period() {
    let s = TestServer::start();
    let (_, token) = s.user("rot");
    let (id, old) = s.api_key(&token, "service");
    let r =
        s.post(&format!("/api/v1/api_key/{id}/rotate"), Auth::Bearer(&token), &json!({"grace_period_seconds": 300}));
    r.expect(200);
    let new = r.json["api_key"].as_str().unwrap().to_owned();
    let new_id = r.json["id"].as_str().unwrap().to_owned();
    assert!(is_key(&new));
    assert_ne!(new, old);
    assert_eq!(r.json["name"], "service");
    assert_eq!(r.json["replaces"], id.as_str());
    s.get("/api/v1/users/whoami", Auth::Key(&old)).expect(200);
    s.get("/api/v1/users/whoami", Auth::Key(&new)).expect(200);
    let listed = s.get("/api/v1/api_key/", Auth::Bearer(&token));
    let old_entry =
        listed.json["api_keys"].as_array().unwrap().iter().find(|k| k["id"] == id.as_str()).unwrap().clone();
    assert!(old_entry["expires_at"].is_string());
    let r = s.request("POST", &format!("/api/v1/api_key/{new_id}/rotate"), Auth::Bearer(&token), None, None);
    r.expect(200);
    let newest = r.json["api_key"].as_str().unwrap().to_owned();
    s.get("/api/v1/users/whoami", Auth::Key(&new)).expect(403);
    s.get("/api/v1/users/whoami", Auth::Key(&newest)).expect(200);
    s.post(
        &format!("/api/v1/api_key/{}/rotate", r.json["id"].as_str().unwrap()),
        Auth::Bearer(&token),
        &json!({"grace_period_seconds": 10_000_000}),
    )
    .expect(400);
    s.post(
        &format!("/api/v1/api_key/{}/rotate", r.json["id"].as_str().unwrap()),
        Auth::Bearer(&token),
        &json!({"grace_period_seconds": -1}),
    )
    .expect(422);
}

#[test]
fn expiry_is_honoured() {
    let s = TestServer::start();
    let (_, token) = s.user("exp");
    let future = (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
    let r = s.post("/api/v1/api_key/", Auth::Bearer(&token), &json!({"name": "soon", "expires_at": future}));
    r.expect(200);
    assert!(r.json["expires_at"].is_string());
    s.get("/api/v1/users/whoami", Auth::Key(r.json["api_key"].as_str().unwrap())).expect(200);
    let past = (chrono::Utc::now() - chrono::Duration::minutes(30)).to_rfc3339();
    s.post("/api/v1/api_key/", Auth::Bearer(&token), &json!({"expires_at": past})).expect(400);
    s.post("/api/v1/api_key/", Auth::Bearer(&token), &json!({"expires_at": "soon"})).expect(422);
}

#[test]
fn keys_carry_their_creators_privileges() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let (_, admin_key) = s.api_key(&admin, "admin-key");
    let (_, user) = s.user("pleb");
    let (_, user_key) = s.api_key(&user, "k");
    s.get("/api/v1/users/", Auth::Key(&admin_key)).expect(200);
    s.get("/api/v1/users/", Auth::Key(&user_key)).expect_detail(403, "The user doesn't have enough privileges");
}
