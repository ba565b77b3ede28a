//! API-key usage audit: counts, per-day totals, the last 100 uses with route patterns and
//! statuses, the client address, ownership, deletion, concurrency and restarts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use crate::common::{assert_valid, schema, Auth, TestServer};

fn usage(s: &TestServer, token: &str, key_id: &str) -> Value {
    let r = s.get(&format!("/api/v1/api_key/{key_id}/usage"), Auth::Bearer(token));
    r.expect(200);
    assert_valid(&schema("api_key_usage.json"), &r.json);
    r.json
}

fn day_total(u: &Value) -> u64 {
    u["days"].as_array().unwrap().iter().map(|d| d["count"].as_u64().unwrap()).sum()
}

#[test]
fn usage_counts_every_request_with_its_route_pattern_status_and_peer() {
    let s = TestServer::start();
    let (_, token) = s.user("auditor");
    let (key_id, key) = s.api_key(&token, "audited");
    let missing = uuid::Uuid::new_v4();
    // 120 uses: 100 answered 200, 10 answered 404 (a missing flow), 10 answered 403 (a
    // superuser route), so the last 100 hold all three.
    for _ in 0..100 {
        s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    }
    for _ in 0..10 {
        s.get(&format!("/api/v1/flows/{missing}"), Auth::KeyQuery(&key)).expect(404);
        s.get("/api/v1/users/", Auth::Key(&key)).expect(403);
    }
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let u = usage(&s, &token, &key_id);
    assert_eq!(u["id"], key_id.as_str());
    assert_eq!(u["total_uses"], 120);
    assert_eq!(day_total(&u), 120);
    assert_eq!(u["days"][0]["date"], today.as_str());
    assert_eq!(u["last_used_ip"], "127.0.0.1");
    assert!(u["last_used_at"].is_string());
    let recent = u["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 100);
    // Newest first: the last request was the 403 on the superuser route.
    assert_eq!(recent[0]["route"], "/api/v1/users/");
    assert_eq!(recent[0]["status"], 403);
    assert_eq!(recent[1]["route"], "/api/v1/flows/{flow_id}");
    assert_eq!(recent[1]["status"], 404);
    assert!(!u.to_string().contains(&missing.to_string()), "raw paths are never recorded");
    assert!(!u.to_string().contains(&key), "the key is never recorded");
    let count = |route: &str, status: u64| {
        recent.iter().filter(|r| r["route"] == route && r["status"].as_u64() == Some(status)).count()
    };
    assert_eq!(count("/api/v1/users/whoami", 200), 80);
    assert_eq!(count("/api/v1/flows/{flow_id}", 404), 10);
    assert_eq!(count("/api/v1/users/", 403), 10);
    assert!(recent.iter().all(|r| r["client"] == "127.0.0.1" && r["method"] == "GET"));
    let times: Vec<&str> = recent.iter().map(|r| r["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // The listing carries the same counters and the last client address.
    let list = s.get("/api/v1/api_key/", Auth::Bearer(&token));
    let item = &list.json["api_keys"][0];
    assert_eq!(item["total_uses"], 120);
    assert_eq!(item["last_used_ip"], "127.0.0.1");
    assert_eq!(item["last_used_at"], u["last_used_at"]);
    // Requests with a token are not uses of any key.
    assert_eq!(usage(&s, &token, &key_id)["total_uses"], 120);
}

#[test]
fn usage_is_the_owners_only_and_goes_with_the_key() {
    let s = TestServer::start_with(&[("FLOWACTOR_KEY_USAGE_FLUSH_MS", "20")]);
    let (_, owner) = s.user("owner");
    let (_, other) = s.user("other");
    let (key_id, key) = s.api_key(&owner, "mine");
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    let path = format!("/api/v1/api_key/{key_id}/usage");
    s.get(&path, Auth::Bearer(&other)).expect_detail(404, "API Key not found");
    s.get(&format!("/api/v1/api_key/{}/usage", uuid::Uuid::new_v4()), Auth::Bearer(&owner))
        .expect_detail(404, "API Key not found");
    s.get("/api/v1/api_key/not-a-uuid/usage", Auth::Bearer(&owner)).expect(422);
    s.get(&path, Auth::None).expect(403);
    // The key itself may read its usage (it has its owner's rights); that read is a use too.
    let by_key = s.get(&path, Auth::Key(&key));
    by_key.expect(200);
    assert_eq!(by_key.json["total_uses"], 2);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(usage(&s, &owner, &key_id)["total_uses"], 2, "stored once flushed");

    s.delete(&format!("/api/v1/api_key/{key_id}"), Auth::Bearer(&owner)).expect(200);
    s.get(&path, Auth::Bearer(&owner)).expect_detail(404, "API Key not found");

    // A rotated key (no grace) leaves with its usage; the new key starts at zero.
    let (old_id, old) = s.api_key(&owner, "rotated");
    s.get("/api/v1/users/whoami", Auth::Key(&old)).expect(200);
    let r = s.post(&format!("/api/v1/api_key/{old_id}/rotate"), Auth::Bearer(&owner), &json!({}));
    r.expect(200);
    let new_id = r.json["id"].as_str().unwrap().to_owned();
    s.get(&format!("/api/v1/api_key/{old_id}/usage"), Auth::Bearer(&owner)).expect(404);
    assert_eq!(usage(&s, &owner, &new_id)["total_uses"], 0);
}

#[test]
fn a_deleted_users_key_usage_is_gone() {
    let s = TestServer::start_with(&[("FLOWACTOR_KEY_USAGE_FLUSH_MS", "20")]);
    let admin = s.admin_token();
    let (user_id, token) = s.user("leaver");
    let (key_id, key) = s.api_key(&token, "k");
    for _ in 0..5 {
        s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(usage(&s, &token, &key_id)["total_uses"], 5);
    s.delete(&format!("/api/v1/users/{user_id}"), Auth::Bearer(&admin)).expect(202);
    // Same name again: a new user whose key listing starts empty; the old key is unknown.
    let (_, again) = s.user("leaver");
    s.get(&format!("/api/v1/api_key/{key_id}/usage"), Auth::Bearer(&again)).expect(404);
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(403);
}

#[test]
fn concurrent_uses_are_counted_exactly_and_survive_a_restart() {
    const TASKS: usize = 8;
    const EACH: usize = 200;
    // A short flush window so that flushes interleave with the requests.
    let s = TestServer::start_with(&[("FLOWACTOR_KEY_USAGE_FLUSH_MS", "5")]);
    let (_, token) = s.user("busy");
    let (key_id, key) = s.api_key(&token, "shared");
    std::thread::scope(|scope| {
        for _ in 0..TASKS {
            let (url, key) = (s.url.clone(), key.clone());
            scope.spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                for _ in 0..EACH {
                    let r = agent.get(&format!("{url}/api/v1/users/whoami")).set("x-api-key", &key).call();
                    assert_eq!(r.map(|r| r.status()).unwrap_or(0), 200);
                }
            });
        }
    });
    let total = TASKS * EACH;
    let u = usage(&s, &token, &key_id);
    assert_eq!(u["total_uses"], total);
    assert_eq!(day_total(&u), u64::try_from(total).unwrap());
    assert_eq!(u["recent"].as_array().unwrap().len(), 100);

    // A graceful stop stores whatever is still buffered.
    let dir = s.stop();
    let s = TestServer::start_in(dir, &[("FLOWACTOR_KEY_USAGE_FLUSH_MS", "60000")]);
    let token = s.token("busy", "busy-password");
    let u = usage(&s, &token, &key_id);
    assert_eq!(u["total_uses"], total);
    assert_eq!(day_total(&u), u64::try_from(total).unwrap());
}

#[test]
fn a_graceful_stop_stores_buffered_uses_with_a_long_flush_window() {
    let s = TestServer::start_with(&[("FLOWACTOR_KEY_USAGE_FLUSH_MS", "3600000")]);
    let (_, token) = s.user("stopper");
    let (key_id, key) = s.api_key(&token, "k");
    for _ in 0..7 {
        s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    }
    let dir = s.stop();
    let s = TestServer::start_in(dir, &[]);
    let token = s.token("stopper", "stopper-password");
    let u = usage(&s, &token, &key_id);
    assert_eq!(u["total_uses"], 7);
    assert_eq!(u["recent"].as_array().unwrap().len(), 7);
}

#[test]
fn disabled_tracking_counts_nothing() {
    let s = TestServer::start_with(&[("LANGFLOW_DISABLE_TRACK_APIKEY_USAGE", "true")]);
    let (_, token) = s.user("untracked");
    let (key_id, key) = s.api_key(&token, "k");
    for _ in 0..3 {
        s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    }
    let u = usage(&s, &token, &key_id);
    assert_eq!(u["total_uses"], 0);
    assert!(u["last_used_at"].is_null() && u["last_used_ip"].is_null());
    assert_eq!(u["days"], json!([]));
    assert_eq!(u["recent"], json!([]));
    assert_eq!(s.get("/api/v1/api_key/", Auth::Bearer(&token)).json["api_keys"][0]["total_uses"], 0);
}

#[test]
fn a_scoped_keys_refusals_are_uses_and_its_usage_needs_the_keys_scope() {
    let s = TestServer::start();
    let (_, token) = s.user("scoped");
    let r = s.post("/api/v1/api_key/", Auth::Bearer(&token), &json!({"name": "runner", "scopes": ["run"]}));
    r.expect(200);
    let (key_id, key) = (r.json["id"].as_str().unwrap().to_owned(), r.json["api_key"].as_str().unwrap().to_owned());
    s.get("/api/v1/flows/", Auth::Key(&key)).expect(403);
    let path = format!("/api/v1/api_key/{key_id}/usage");
    s.get(&path, Auth::Key(&key)).expect_detail(403, "This API key lacks the 'keys' scope");
    let u = usage(&s, &token, &key_id);
    assert_eq!(u["total_uses"], 2);
    assert_eq!(u["recent"][0]["route"], "/api/v1/api_key/{api_key_id}/usage");
    assert_eq!(u["recent"][1]["route"], "/api/v1/flows/");
    assert!(u["recent"].as_array().unwrap().iter().all(|r| r["status"] == 403));
}
