//! Global variables: Generic/Credential, sealing at rest, per-user names and isolation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Auth, TestServer};
use serde_json::json;

#[test]
fn crud_with_langflow_messages() {
    let s = TestServer::start();
    let (_, t) = s.user("vera");
    let r = s.post(
        "/api/v1/variables/",
        Auth::Bearer(&t),
        &json!({"name": "MODEL", "value": "gpt-x", "type": "Generic", "default_fields": ["model_name"]}),
    );
    r.expect(201);
    assert_eq!(r.json["value"], "gpt-x");
    assert_eq!(r.json["type"], "Generic");
    assert_eq!(r.json["default_fields"], json!(["model_name"]));
    let c = s.post(
        "/api/v1/variables/",
        Auth::Bearer(&t),
        &json!({"name": "OPENAI_API_KEY", "value": "sk-credential-canary"}),
    );
    c.expect(201);
    assert_eq!(c.json["type"], "Credential");
    assert!(c.json["value"].is_null());
    assert!(!c.text.contains("canary"));
    let list = s.get("/api/v1/variables/", Auth::Bearer(&t));
    assert_eq!(list.json.as_array().unwrap().len(), 2);
    assert!(!list.text.contains("canary"));
    s.post("/api/v1/variables/", Auth::Bearer(&t), &json!({"name": "MODEL", "value": "y"}))
        .expect_detail(400, "Variable name already exists");
    s.post("/api/v1/variables/", Auth::Bearer(&t), &json!({"name": "", "value": ""}))
        .expect_detail(400, "Variable name and value cannot be empty");
    s.post("/api/v1/variables/", Auth::Bearer(&t), &json!({"name": "", "value": "v"}))
        .expect_detail(400, "Variable name cannot be empty");
    s.post("/api/v1/variables/", Auth::Bearer(&t), &json!({"name": "N"}))
        .expect_detail(400, "Variable value cannot be empty");
    s.post("/api/v1/variables/", Auth::Bearer(&t), &json!({"name": "N", "value": "v", "type": "Secret"})).expect(400);
    let id = c.json["id"].as_str().unwrap();
    let p =
        s.patch(&format!("/api/v1/variables/{id}"), Auth::Bearer(&t), &json!({"id": id, "value": "sk-rotated-canary"}));
    p.expect(200);
    assert!(p.json["value"].is_null());
    let g = r.json["id"].as_str().unwrap();
    let renamed = s.patch(&format!("/api/v1/variables/{g}"), Auth::Bearer(&t), &json!({"id": g, "name": "MODEL_NAME"}));
    assert_eq!(renamed.json["name"], "MODEL_NAME");
    assert_eq!(renamed.json["value"], "gpt-x");
    s.delete(&format!("/api/v1/variables/{g}"), Auth::Bearer(&t)).expect(204);
    s.delete(&format!("/api/v1/variables/{g}"), Auth::Bearer(&t)).expect_detail(404, "Variable not found");
    s.patch(&format!("/api/v1/variables/{g}"), Auth::Bearer(&t), &json!({"id": g, "value": "x"}))
        .expect_detail(404, "Variable not found");
    s.delete("/api/v1/variables/nope", Auth::Bearer(&t)).expect(422);
}

#[test]
fn other_users_variables_are_invisible() {
    let s = TestServer::start();
    let (_, a) = s.user("va");
    let (_, b) = s.user("vb");
    let v = s.post("/api/v1/variables/", Auth::Bearer(&a), &json!({"name": "SHARED_NAME", "value": "a-secret"}));
    let id = v.json["id"].as_str().unwrap();
    s.post("/api/v1/variables/", Auth::Bearer(&b), &json!({"name": "SHARED_NAME", "value": "b-secret"})).expect(201);
    s.patch(&format!("/api/v1/variables/{id}"), Auth::Bearer(&b), &json!({"id": id, "value": "pwned"}))
        .expect_detail(404, "Variable not found");
    s.delete(&format!("/api/v1/variables/{id}"), Auth::Bearer(&b)).expect_detail(404, "Variable not found");
    let b_list = s.get("/api/v1/variables/", Auth::Bearer(&b));
    assert_eq!(b_list.json.as_array().unwrap().len(), 1);
    assert_ne!(b_list.json[0]["id"], id);
    assert_eq!(s.get("/api/v1/variables/", Auth::Bearer(&a)).json[0]["id"], id);
}

#[test]
fn component_keys_from_the_environment_become_superuser_credentials() {
    let s = TestServer::start_with(&[
        ("OPENAI_API_KEY", "sk-from-env-canary"),
        ("LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT", "OPENAI_API_KEY,ANTHROPIC_API_KEY"),
    ]);
    let admin = s.admin_token();
    let list = s.get("/api/v1/variables/", Auth::Bearer(&admin));
    let names: Vec<&str> = list.json.as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["OPENAI_API_KEY"]);
    assert_eq!(list.json[0]["type"], "Credential");
    assert!(!list.text.contains("canary"));
    drop(s);
    let off = TestServer::start_with(&[("OPENAI_API_KEY", "sk-x"), ("LANGFLOW_STORE_ENVIRONMENT_VARIABLES", "false")]);
    let admin = off.admin_token();
    assert_eq!(off.get("/api/v1/variables/", Auth::Bearer(&admin)).json, json!([]));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_plaintext_key_or_credential_reaches_disk_on_sled() {
    // On PostgreSQL the records are not in the config dir; the database's rows are checked by
    // `pg::identity::tests::pg_keys_are_hashed_credentials_sealed_and_deletes_cascade`.
    if !crate::common::sled_only("no_plaintext_key_or_credential_reaches_disk_on_sled") {
        return;
    }
    let s = TestServer::start();
    let (_, t) = s.user("disk");
    let (_, key) = s.api_key(&t, "k");
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    s.post("/api/v1/variables/", Auth::Bearer(&t), &json!({"name": "TOKEN", "value": "credential-canary-4242"}))
        .expect(201);
    s.post(
        "/api/v1/variables/",
        Auth::Bearer(&t),
        &json!({"name": "PLAIN", "value": "generic-marker-4242", "type": "Generic"}),
    )
    .expect(201);
    let dir = s.stop();
    let mut files = vec![dir.path().to_path_buf()];
    let mut generic_seen = false;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        assert!(!contains(&bytes, key.as_bytes()), "API key found in {}", p.display());
        assert!(!contains(&bytes, &key.as_bytes()[3..20]), "API key piece found in {}", p.display());
        assert!(!contains(&bytes, b"credential-canary-4242"), "credential found in {}", p.display());
        generic_seen |= contains(&bytes, b"generic-marker-4242");
    }
    assert!(generic_seen, "the scan must be able to see stored plaintext (Generic values are stored in clear)");
}
