//! The JSON Schemas in `schemas/` describe what the server really accepts and answers: real
//! flow exports, stored flows, run requests and rotation responses are validated against them
//! (run responses and build events are validated in `run.rs` and `build.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{assert_valid, fixture, schema, Auth, TestServer, FIXTURES};
use serde_json::{json, Value};

#[test]
fn flow_documents_and_stored_flows_match_the_flow_schema() {
    let flow = schema("flow.json");
    let s = TestServer::start();
    let (_, t) = s.user("schemas");
    for name in FIXTURES {
        let doc = fixture(name);
        assert_valid(&flow, &doc);
        let stored = s.post("/api/v1/flows/", Auth::Bearer(&t), &doc);
        stored.expect(201);
        assert_valid(&flow, &stored.json);
    }
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flows");
    for entry in std::fs::read_dir(examples).unwrap() {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        assert_valid(&flow, &doc);
    }
    assert!(
        !flow.is_valid(&json!({"name": "x", "data": {"nodes": [{"id": "n"}]}})),
        "nodes need data, graphs need edges"
    );
}

#[test]
fn run_requests_and_rotation_answers_match_their_schemas() {
    let request = schema("run_request.json");
    for body in [
        json!({}),
        json!({"input_value": "hi", "input_type": "chat", "output_type": "chat", "output_component": "", "tweaks": {"Prompt": {"template": "{q}"}}, "session_id": "s"}),
        json!({"input_value": null, "output_type": "debug", "tweaks": null}),
    ] {
        assert_valid(&request, &body);
    }
    assert!(!request.is_valid(&json!({"input_value": {"nested": 1}})));
    assert!(!request.is_valid(&json!({"output_type": "everything"})));

    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/api_key_rotate.json"))
            .unwrap(),
    )
    .unwrap();
    let rotate_request = jsonschema::validator_for(&file["request"]).unwrap();
    let rotate_response = jsonschema::validator_for(&file["response"]).unwrap();
    let s = TestServer::start();
    let (_, t) = s.user("rotator");
    let (id, _) = s.api_key(&t, "k");
    let body = json!({"grace_period_seconds": 60});
    assert_valid(&rotate_request, &body);
    let r = s.post(&format!("/api/v1/api_key/{id}/rotate"), Auth::Bearer(&t), &body);
    r.expect(200);
    assert_valid(&rotate_response, &r.json);
}

#[test]
fn api_key_creation_matches_its_schema() {
    let load = |name: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas").join(name))
                .unwrap(),
        )
        .unwrap()
    };
    let rotate = load("api_key_rotate.json");
    let rotate_response = jsonschema::validator_for(&rotate["response"]).unwrap();
    let s = TestServer::start();
    let (_, t) = s.user("creator");
    let file = load("api_key_create.json");
    let create_request = jsonschema::validator_for(&file["request"]).unwrap();
    let create_response = jsonschema::validator_for(&file["response"]).unwrap();
    let flow = s.create_flow(Auth::Bearer(&t), &fixture("chat_echo__lf1.13.0.json"), "schema-bot");
    for body in [
        json!({"name": "plain"}),
        json!({"name": "bot", "scopes": ["run", "read"], "flow_ids": [flow], "endpoint_names": ["bot"], "rate_limit_per_minute": 60}),
    ] {
        assert_valid(&create_request, &body);
        let r = s.post("/api/v1/api_key/", Auth::Bearer(&t), &body);
        r.expect(200);
        assert_valid(&create_response, &r.json);
        let rotated =
            s.post(&format!("/api/v1/api_key/{}/rotate", r.json["id"].as_str().unwrap()), Auth::Bearer(&t), &json!({}));
        rotated.expect(200);
        assert_valid(&rotate_response, &rotated.json);
    }
    for bad in [json!({"scopes": ["fly"]}), json!({"scopes": []}), json!({"rate_limit_per_minute": 0})] {
        assert!(!create_request.is_valid(&bad), "{bad}");
        assert_eq!(s.post("/api/v1/api_key/", Auth::Bearer(&t), &bad).status, 422, "{bad}");
    }
}
