//! Route inventory: every route that is not on the public allow-list refuses an anonymous
//! caller with 401/403 before its body is read (a malformed or huge body changes nothing).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Auth, TestServer};

/// (method, path) of every non-public route, with sample ids.
const PROTECTED: &[(&str, &str)] = &[
    ("GET", "/api/v1/users/"),
    ("GET", "/api/v1/users/whoami"),
    ("GET", "/api/v1/users/00000000-0000-0000-0000-000000000000"),
    ("PATCH", "/api/v1/users/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/api/v1/users/00000000-0000-0000-0000-000000000000"),
    ("PATCH", "/api/v1/users/00000000-0000-0000-0000-000000000000/reset-password"),
    ("POST", "/api/v1/api_key/"),
    ("GET", "/api/v1/api_key/"),
    ("DELETE", "/api/v1/api_key/00000000-0000-0000-0000-000000000000"),
    ("POST", "/api/v1/api_key/00000000-0000-0000-0000-000000000000/rotate"),
    ("POST", "/api/v1/variables/"),
    ("GET", "/api/v1/variables/"),
    ("PATCH", "/api/v1/variables/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/api/v1/variables/00000000-0000-0000-0000-000000000000"),
    ("POST", "/api/v1/_cli/superuser"),
    ("POST", "/api/v1/_cli/api-key"),
    ("POST", "/api/v1/validate/code"),
    ("POST", "/api/v1/upload/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/v1/monitor/messages"),
    ("POST", "/api/v1/flows/"),
    ("GET", "/api/v1/flows/"),
    ("DELETE", "/api/v1/flows/"),
    ("POST", "/api/v1/flows/batch/"),
    ("POST", "/api/v1/flows/upload/"),
    ("POST", "/api/v1/flows/download/"),
    ("GET", "/api/v1/flows/00000000-0000-0000-0000-000000000000"),
    ("PATCH", "/api/v1/flows/00000000-0000-0000-0000-000000000000"),
    ("PUT", "/api/v1/flows/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/api/v1/flows/00000000-0000-0000-0000-000000000000"),
    ("POST", "/api/v1/projects/"),
    ("GET", "/api/v1/projects/"),
    ("POST", "/api/v1/projects/upload/"),
    ("GET", "/api/v1/projects/download/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/v1/projects/00000000-0000-0000-0000-000000000000"),
    ("PATCH", "/api/v1/projects/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/api/v1/projects/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/v1/folders/"),
    ("POST", "/api/v1/folders/upload/"),
];

#[test]
fn every_protected_route_refuses_anonymous_callers_before_reading_the_body() {
    let s = TestServer::start();
    let huge = vec![b'{'; 10 * 1024 * 1024];
    for (method, path) in PROTECTED {
        for body in [None, Some(&b"{not json"[..]), Some(&huge[..])] {
            let r = s.request(method, path, Auth::None, Some("application/json"), body);
            assert!(r.status == 401 || r.status == 403, "{method} {path} answered {} {}", r.status, r.text);
            assert!(r.json.get("detail").is_some(), "{method} {path}: {}", r.text);
        }
        let r = s.request(method, path, Auth::Key("sk-forged"), Some("application/json"), Some(b"{not json"));
        assert!(r.status == 401 || r.status == 403, "{method} {path} with a bad key answered {}", r.status);
    }
}

#[test]
fn collections_redirect_to_their_slashed_form() {
    let s = TestServer::start();
    for path in ["/api/v1/api_key", "/api/v1/variables"] {
        let token = s.admin_token();
        let r = s.get(path, Auth::Bearer(&token));
        r.expect(307);
        assert_eq!(r.header("location"), Some(format!("{path}/").as_str()));
    }
    let r = s.request("POST", "/api/v1/users?x=1", Auth::None, Some("application/json"), Some(b"{}"));
    r.expect(307);
    assert_eq!(r.header("location"), Some("/api/v1/users/?x=1"));
}

#[test]
fn oversized_bodies_get_413_and_malformed_ones_422() {
    let s = TestServer::start_with(&[("FLOWACTOR_MAX_BODY_MB", "1")]);
    let token = s.admin_token();
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let r = s.request("POST", "/api/v1/api_key/", Auth::Bearer(&token), Some("application/json"), Some(big.as_bytes()));
    r.expect(413);
    assert!(r.detail().starts_with("Content size limit exceeded"), "{}", r.text);
    let r = s.request("POST", "/api/v1/variables/", Auth::Bearer(&token), Some("application/json"), Some(b"{bad"));
    r.expect(422);
    assert_eq!(r.json["detail"][0]["type"], "json_invalid");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    s.request("POST", "/api/v1/variables/", Auth::Bearer(&token), Some("application/json"), Some(deep.as_bytes()))
        .expect(422);
    s.get("/health", Auth::None).expect(200);
}
