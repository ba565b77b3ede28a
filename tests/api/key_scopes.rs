//! Scoped API keys: scopes per route, flow limits on every run surface, grants no broader than
//! the granting key, `admin` following the owner, persistence through rotation and restart, and
//! per-key rate limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{fixture, Auth, TestServer};
use serde_json::{json, Value};

const FLOW_LIMIT: &str = "This API key may only run the flows named by its flow_ids and endpoint_names";

fn lacks(scope: &str) -> String {
    format!("This API key lacks the '{scope}' scope")
}

/// Stores the echo flow for the holder of `auth` under an endpoint name; answers its id.
fn echo_flow(s: &TestServer, auth: Auth<'_>, endpoint: &str) -> String {
    let mut body = fixture("chat_echo__lf1.13.0.json");
    body["name"] = json!(endpoint);
    body["endpoint_name"] = json!(endpoint);
    let r = s.post("/api/v1/flows/", auth, &body);
    r.expect(201);
    r.json["id"].as_str().unwrap().to_owned()
}

/// Creates a key with this policy body; answers the whole response.
fn scoped_key(s: &TestServer, auth: Auth<'_>, body: &Value) -> Value {
    let r = s.post("/api/v1/api_key/", auth, body);
    r.expect(200);
    r.json.clone()
}

fn key_of(v: &Value) -> String {
    v["api_key"].as_str().unwrap().to_owned()
}

fn run_text(r: &Value) -> &str {
    r["outputs"][0]["outputs"][0]["results"]["message"]["text"].as_str().unwrap_or_default()
}

#[test]
fn run_key_limited_to_one_flow_runs_it_and_nothing_else() {
    let s = TestServer::start();
    let (user_id, t) = s.user("bot-owner");
    let x = echo_flow(&s, Auth::Bearer(&t), "x-bot");
    let y = echo_flow(&s, Auth::Bearer(&t), "y-bot");
    let created = scoped_key(&s, Auth::Bearer(&t), &json!({"name": "site", "scopes": ["run"], "flow_ids": [x]}));
    assert_eq!(created["scopes"], json!(["run"]));
    assert_eq!(created["flow_ids"], json!([x]));
    assert_eq!(created["endpoint_names"], json!([]));
    assert_eq!(created["rate_limit_per_minute"], Value::Null);
    let key = key_of(&created);
    let input = json!({"input_value": "hello scoped"});

    let r = s.post(&format!("/api/v1/run/{x}"), Auth::Key(&key), &input);
    r.expect(200);
    assert_eq!(run_text(&r.json), "hello scoped");
    // X by its endpoint name is still X.
    s.post("/api/v1/run/x-bot", Auth::Key(&key), &input).expect(200);
    // Y, by id or name, and a flow that does not exist get the same answer.
    s.post(&format!("/api/v1/run/{y}"), Auth::Key(&key), &input).expect_detail(403, FLOW_LIMIT);
    s.post("/api/v1/run/y-bot", Auth::Key(&key), &input).expect_detail(403, FLOW_LIMIT);
    s.post(&format!("/api/v1/run/{}", uuid::Uuid::new_v4()), Auth::Key(&key), &input).expect_detail(403, FLOW_LIMIT);
    s.post("/api/v1/run/no-such-endpoint", Auth::Key(&key), &input).expect_detail(403, FLOW_LIMIT);

    // Everything but running.
    s.get("/api/v1/flows/", Auth::Key(&key)).expect_detail(403, &lacks("read"));
    s.get(&format!("/api/v1/flows/{x}"), Auth::Key(&key)).expect_detail(403, &lacks("read"));
    s.post("/api/v1/flows/", Auth::Key(&key), &json!({"name": "new"})).expect_detail(403, &lacks("write"));
    s.post("/api/v1/api_key/", Auth::Key(&key), &json!({"name": "more"})).expect_detail(403, &lacks("keys"));
    s.get("/api/v1/api_key/", Auth::Key(&key)).expect_detail(403, &lacks("keys"));
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect_detail(403, &lacks("read"));
    s.patch(&format!("/api/v1/users/{user_id}"), Auth::Key(&key), &json!({"profile_image": "x.svg"}))
        .expect_detail(403, &lacks("write"));
    s.get("/api/v1/users/", Auth::Key(&key)).expect_detail(403, &lacks("admin"));
    s.get("/api/v1/variables/", Auth::Key(&key)).expect_detail(403, &lacks("read"));

    // Builds: X starts and streams; Y is refused; a job of Y (started by the owner) too.
    let started =
        s.post(&format!("/api/v1/build/{x}/flow"), Auth::Key(&key), &json!({"inputs": {"input_value": "hi"}}));
    started.expect(200);
    let job = started.json["job_id"].as_str().unwrap().to_owned();
    let events = s.get(&format!("/api/v1/build/{job}/events"), Auth::Key(&key));
    events.expect(200);
    assert!(events.text.contains("end_vertex"), "{}", events.text);
    s.post(&format!("/api/v1/build/{y}/flow"), Auth::Key(&key), &json!({})).expect_detail(403, FLOW_LIMIT);
    s.post(&format!("/api/v1/build/{}/flow", uuid::Uuid::new_v4()), Auth::Key(&key), &json!({}))
        .expect_detail(403, FLOW_LIMIT);
    let other = s.post(&format!("/api/v1/build/{y}/flow"), Auth::Bearer(&t), &json!({}));
    other.expect(200);
    let other_job = other.json["job_id"].as_str().unwrap();
    s.get(&format!("/api/v1/build/{other_job}/events"), Auth::Key(&key)).expect_detail(403, FLOW_LIMIT);
    s.post(&format!("/api/v1/build/{other_job}/cancel"), Auth::Key(&key), &json!({})).expect_detail(403, FLOW_LIMIT);

    // Webhooks (LANGFLOW_WEBHOOK_AUTH_ENABLE is on by default).
    s.post(&format!("/api/v1/webhook/{x}"), Auth::Key(&key), &json!({"any": 1})).expect(202);
    s.post(&format!("/api/v1/webhook/{y}"), Auth::Key(&key), &json!({"any": 1})).expect_detail(403, FLOW_LIMIT);

    // The owner's token is unrestricted; the list shows the key's policy.
    let list = s.get("/api/v1/api_key/", Auth::Bearer(&t));
    list.expect(200);
    let listed = &list.json["api_keys"][0];
    assert_eq!(listed["scopes"], json!(["run"]));
    assert_eq!(listed["flow_ids"], json!([x]));
}

#[test]
fn endpoint_names_limit_runs_by_name() {
    let s = TestServer::start();
    let (_, t) = s.user("by-name");
    let x = echo_flow(&s, Auth::Bearer(&t), "support-bot");
    let y = echo_flow(&s, Auth::Bearer(&t), "internal-bot");
    let key = key_of(&scoped_key(&s, Auth::Bearer(&t), &json!({"scopes": ["run"], "endpoint_names": ["support-bot"]})));
    let input = json!({"input_value": "hi"});
    s.post("/api/v1/run/support-bot", Auth::Key(&key), &input).expect(200);
    s.post(&format!("/api/v1/run/{x}"), Auth::Key(&key), &input).expect(200);
    s.post(&format!("/api/v1/run/{y}"), Auth::Key(&key), &input).expect_detail(403, FLOW_LIMIT);
    // A name it may run that names no flow is a plain 404.
    s.delete(&format!("/api/v1/flows/{x}"), Auth::Bearer(&t)).expect(200);
    s.post("/api/v1/run/support-bot", Auth::Key(&key), &input).expect(404);
}

#[test]
fn read_key_reads_and_writes_nothing() {
    let s = TestServer::start();
    let (_, t) = s.user("reader");
    let x = echo_flow(&s, Auth::Bearer(&t), "r-bot");
    let key = key_of(&scoped_key(&s, Auth::Bearer(&t), &json!({"scopes": ["read"]})));
    s.get("/api/v1/flows/", Auth::Key(&key)).expect(200);
    s.get(&format!("/api/v1/flows/{x}"), Auth::Key(&key)).expect(200);
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    s.post("/api/v1/flows/", Auth::Key(&key), &json!({"name": "nope"})).expect_detail(403, &lacks("write"));
    s.patch(&format!("/api/v1/flows/{x}"), Auth::Key(&key), &json!({"name": "renamed"}))
        .expect_detail(403, &lacks("write"));
    s.delete(&format!("/api/v1/flows/{x}"), Auth::Key(&key)).expect_detail(403, &lacks("write"));
    s.post(&format!("/api/v1/run/{x}"), Auth::Key(&key), &json!({"input_value": "hi"}))
        .expect_detail(403, &lacks("run"));
    s.post("/api/v1/variables/", Auth::Key(&key), &json!({"name": "A", "value": "b", "type": "Generic"}))
        .expect_detail(403, &lacks("write"));
    // A full key (Langflow's) still does everything its owner may.
    let (_, full) = s.api_key(&t, "full");
    s.post(&format!("/api/v1/run/{x}"), Auth::Key(&full), &json!({"input_value": "hi"})).expect(200);
    s.patch(&format!("/api/v1/flows/{x}"), Auth::Key(&full), &json!({"name": "renamed"})).expect(200);
}

#[test]
fn a_keys_key_grants_at_most_what_it_holds() {
    let s = TestServer::start();
    let (_, t) = s.user("granter");
    let x = echo_flow(&s, Auth::Bearer(&t), "g-bot");
    let y = echo_flow(&s, Auth::Bearer(&t), "h-bot");
    let manager = key_of(&scoped_key(
        &s,
        Auth::Bearer(&t),
        &json!({"scopes": ["keys", "read", "run"], "flow_ids": [x], "rate_limit_per_minute": 50}),
    ));
    let escalation = "An API key can only grant what it holds: its scopes, flows and rate limit at most";
    let child = s.post(
        "/api/v1/api_key/",
        Auth::Key(&manager),
        &json!({"scopes": ["run"], "flow_ids": [x], "rate_limit_per_minute": 10}),
    );
    child.expect(200);
    for body in [
        json!({"name": "full"}),
        json!({"scopes": ["read", "write"], "rate_limit_per_minute": 10}),
        json!({"scopes": ["run"], "flow_ids": [y], "rate_limit_per_minute": 10}),
        json!({"scopes": ["run"], "rate_limit_per_minute": 10}),
        json!({"scopes": ["read"]}),
        json!({"scopes": ["read"], "rate_limit_per_minute": 51}),
    ] {
        s.post("/api/v1/api_key/", Auth::Key(&manager), &body).expect_detail(403, escalation);
    }
    // Nor can it rotate a broader key into a fresh one; its own child it can.
    let (full_id, _) = s.api_key(&t, "owner's");
    s.post(&format!("/api/v1/api_key/{full_id}/rotate"), Auth::Key(&manager), &json!({}))
        .expect_detail(403, "An API key can only rotate keys that grant no more than it holds");
    let child_id = child.json["id"].as_str().unwrap();
    let rotated = s.post(&format!("/api/v1/api_key/{child_id}/rotate"), Auth::Key(&manager), &json!({}));
    rotated.expect(200);
    assert_eq!(rotated.json["scopes"], json!(["run"]));
    assert_eq!(rotated.json["rate_limit_per_minute"], 10);
}

#[test]
fn admin_scope_is_for_superusers_and_follows_the_owner() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let (_, plain) = s.user("plain");
    s.post("/api/v1/api_key/", Auth::Bearer(&plain), &json!({"scopes": ["admin"]}))
        .expect_detail(403, "Only a superuser can create a key with the 'admin' scope");
    let boss = s.post(
        "/api/v1/users/",
        Auth::Bearer(&admin),
        &json!({"username": "boss", "password": "boss-password-1", "is_active": true, "is_superuser": true}),
    );
    boss.expect(201);
    let boss_id = boss.json["id"].as_str().unwrap().to_owned();
    let bt = s.token("boss", "boss-password-1");
    let admin_key = key_of(&scoped_key(&s, Auth::Bearer(&bt), &json!({"scopes": ["admin", "read"]})));
    let writer = key_of(&scoped_key(&s, Auth::Bearer(&bt), &json!({"scopes": ["read", "write"]})));
    s.get("/api/v1/users/", Auth::Key(&admin_key)).expect(200);
    s.get("/api/v1/users/", Auth::Key(&writer)).expect_detail(403, &lacks("admin"));
    // Without `admin`, the superuser's key is a regular user's: no one else's account.
    let (plain_id, _) = s.user("plain2");
    s.patch(&format!("/api/v1/users/{plain_id}"), Auth::Key(&writer), &json!({"profile_image": "x.svg"})).expect(403);
    let me = s.get("/api/v1/users/whoami", Auth::Key(&writer));
    assert_eq!(me.json["is_superuser"], false);
    // The writer key cannot grant admin either (its owner is a superuser, the key is not).
    s.post("/api/v1/api_key/", Auth::Key(&writer), &json!({"scopes": ["admin"]})).expect(403);
    // Demoting the owner demotes the key on the next request.
    s.patch(&format!("/api/v1/users/{boss_id}"), Auth::Bearer(&admin), &json!({"is_superuser": false})).expect(200);
    s.get("/api/v1/users/", Auth::Key(&admin_key)).expect_detail(403, "The user doesn't have enough privileges");
    s.get("/api/v1/users/whoami", Auth::Key(&admin_key)).expect(200);
}

#[test]
fn scopes_survive_rotation_and_restart() {
    let s = TestServer::start();
    let (_, t) = s.user("keeper");
    let x = echo_flow(&s, Auth::Bearer(&t), "k-bot");
    let policy =
        json!({"scopes": ["run", "read"], "flow_ids": [x], "endpoint_names": ["k-bot"], "rate_limit_per_minute": 500});
    let created = scoped_key(&s, Auth::Bearer(&t), &policy);
    let id = created["id"].as_str().unwrap();
    let rotated = s.post(&format!("/api/v1/api_key/{id}/rotate"), Auth::Bearer(&t), &json!({}));
    rotated.expect(200);
    for field in ["scopes", "flow_ids", "endpoint_names", "rate_limit_per_minute"] {
        assert_eq!(rotated.json[field], policy[field], "{field}");
    }
    let key = key_of(&rotated.json);
    s.get("/api/v1/flows/", Auth::Key(&key)).expect(200);
    s.post("/api/v1/flows/", Auth::Key(&key), &json!({"name": "n"})).expect_detail(403, &lacks("write"));

    let dir = s.stop();
    let s = TestServer::start_in(dir, &[]);
    let t = s.token("keeper", "keeper-password");
    let list = s.get("/api/v1/api_key/", Auth::Bearer(&t));
    list.expect(200);
    assert_eq!(list.json["total_count"], 1);
    for field in ["scopes", "flow_ids", "endpoint_names", "rate_limit_per_minute"] {
        assert_eq!(list.json["api_keys"][0][field], policy[field], "{field}");
    }
    s.post(&format!("/api/v1/run/{x}"), Auth::Key(&key), &json!({"input_value": "hi"})).expect(200);
    s.post("/api/v1/flows/", Auth::Key(&key), &json!({"name": "n"})).expect_detail(403, &lacks("write"));
}

#[test]
fn per_key_rate_limit_counts_every_request_of_the_key() {
    let s = TestServer::start();
    let (_, t) = s.user("limited");
    let limited = key_of(&scoped_key(&s, Auth::Bearer(&t), &json!({"name": "l", "rate_limit_per_minute": 100})));
    let (_, other) = s.api_key(&t, "other");
    let (mut ok, mut limited_count) = (0, 0);
    for _ in 0..1000 {
        let r = s.get("/api/v1/users/whoami", Auth::Key(&limited));
        match r.status {
            200 => ok += 1,
            429 => {
                limited_count += 1;
                let wait: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
                assert!((1..=60).contains(&wait), "{wait}");
                assert!(r.json["detail"].is_string());
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!((ok, limited_count), (100, 900));
    // Another key and the owner's token are unaffected; the key is limited on every route.
    s.get("/api/v1/users/whoami", Auth::Key(&other)).expect(200);
    s.get("/api/v1/users/whoami", Auth::Bearer(&t)).expect(200);
    s.get("/api/v1/flows/", Auth::Key(&limited)).expect(429);
    s.get("/api/v1/config", Auth::Key(&limited)).expect(429);
}

#[test]
fn bad_policies_are_refused() {
    let s = TestServer::start();
    let (_, t) = s.user("validator");
    let (_, other) = s.user("stranger");
    let x = echo_flow(&s, Auth::Bearer(&t), "v-bot");
    let foreign = echo_flow(&s, Auth::Bearer(&other), "s-bot");
    for body in [
        json!({"scopes": ["run", "fly"]}),
        json!({"scopes": []}),
        json!({"scopes": ["run", "run"]}),
        json!({"scopes": "run"}),
        json!({"scopes": [1]}),
        json!({"scopes": ["run"], "flow_ids": ["not-a-uuid"]}),
        json!({"scopes": ["run"], "flow_ids": [x, x]}),
        json!({"scopes": ["run"], "endpoint_names": ["a", "a"]}),
        json!({"scopes": ["run"], "endpoint_names": [""]}),
        json!({"scopes": ["read"], "flow_ids": [x]}),
        json!({"rate_limit_per_minute": 0}),
        json!({"rate_limit_per_minute": -5}),
        json!({"rate_limit_per_minute": 1.5}),
        json!({"rate_limit_per_minute": "ten"}),
    ] {
        let r = s.post("/api/v1/api_key/", Auth::Bearer(&t), &body);
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert!(r.json["detail"][0]["msg"].is_string(), "{}", r.text);
    }
    s.post("/api/v1/api_key/", Auth::Bearer(&t), &json!({"scopes": ["run"], "flow_ids": [foreign]}))
        .expect_detail(404, &format!("Flow with id {foreign} not found"));
    assert_eq!(s.get("/api/v1/api_key/", Auth::Bearer(&t)).json["total_count"], 0);
    // Langflow's body gives Langflow's full key.
    let full = scoped_key(&s, Auth::Bearer(&t), &json!({"name": "plain"}));
    assert_eq!(full["scopes"], Value::Null);
    assert_eq!(full["flow_ids"], json!([]));
}

#[test]
fn keys_stored_before_policies_still_work_as_full_keys() {
    if !crate::common::sled_only("keys_stored_before_policies_still_work_as_full_keys") {
        return;
    }
    let s = TestServer::start();
    let (_, t) = s.user("veteran");
    let (id, key) = s.api_key(&t, "old");
    let dir = s.stop();
    {
        // Rewrite the record as the code before key policies stored it: format version 1, no policy.
        let store = flowactor_actors::Store::open(dir.path(), 0).expect("open the database");
        let id = uuid::Uuid::parse_str(&id).unwrap();
        let record = store.api_keys.get(id.as_bytes()).unwrap().expect("key record");
        let current = flowactor_actors::codec::decode_api_key(&record).expect("decode");
        assert_eq!(record[0], flowactor_actors::codec::API_KEY_FORMAT_VERSION);
        let mut v1 = flowactor_actors::codec::encode_api_key(&current).unwrap();
        v1.truncate(v1.len() - 4); // the default policy: None, [], [], None
        v1[0] = flowactor_actors::codec::FORMAT_VERSION;
        assert!(flowactor_actors::codec::decode_api_key(&v1).is_ok());
        store.api_keys.insert(id.as_bytes(), v1).unwrap();
        store.flush().unwrap();
    }
    let s = TestServer::start_in(dir, &[]);
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    s.post("/api/v1/flows/", Auth::Key(&key), &json!({"name": "still full"})).expect(201);
    let list = s.get("/api/v1/api_key/", Auth::Key(&key));
    list.expect(200);
    assert_eq!(list.json["api_keys"][0]["scopes"], Value::Null);
    assert_eq!(list.json["api_keys"][0]["total_uses"], 3);
}
