//! Browser-borne attacks: CSRF through the access-token cookie, cross-origin reads of
//! token-issuing routes, and the CLI routes' gate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Auth, TestServer, ADMIN, ADMIN_PASSWORD};
use serde_json::json;

fn key_count(s: &TestServer, token: &str) -> usize {
    s.get("/api/v1/api_key/", Auth::Bearer(token)).json["api_keys"].as_array().map_or(0, Vec::len)
}

fn own_origin(s: &TestServer) -> String {
    s.url.clone()
}

#[test]
fn cookie_authenticated_writes_need_a_json_body_type() {
    let s = TestServer::start();
    let token = s.admin_token();
    let cookie = format!("access_token_lf={token}");
    let body = br#"{"name": "csrf"}"#;
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let r = s.request("POST", "/api/v1/api_key/", Auth::Cookie(&cookie), Some(ct), Some(body));
        assert_eq!(r.status, 415, "{ct}: {}", r.text);
        assert!(r.detail().contains("application/json"), "{}", r.text);
    }
    // A body without any Content-Type is refused too.
    let r = s.request("POST", "/api/v1/api_key/", Auth::Cookie(&cookie), None, Some(body));
    assert_eq!(r.status, 415, "{}", r.text);
    assert_eq!(key_count(&s, &token), 0, "a refused request created a key");
    s.request("POST", "/api/v1/api_key/", Auth::Cookie(&cookie), Some("application/json"), Some(body)).expect(200);
    // Bearer tokens and API keys are not ambient: clients that send text/plain keep working.
    s.request("POST", "/api/v1/api_key/", Auth::Bearer(&token), Some("text/plain"), Some(body)).expect(200);
    assert_eq!(key_count(&s, &token), 2);
    // Reads are not state-changing.
    s.request_with("GET", "/api/v1/api_key/", Auth::Cookie(&cookie), &[("Origin", "http://evil.test")], None, None)
        .expect(200);
}

#[test]
fn cookie_authenticated_writes_from_another_origin_are_refused() {
    let s = TestServer::start_with(&[("LANGFLOW_CORS_ORIGINS", "http://app.test")]);
    let token = s.admin_token();
    let cookie = format!("access_token_lf={token}");
    let body = br#"{"name": "csrf"}"#;
    let create_key = |origin: &str| {
        s.request_with(
            "POST",
            "/api/v1/api_key/",
            Auth::Cookie(&cookie),
            &[("Origin", origin)],
            Some("application/json"),
            Some(body),
        )
    };
    for origin in ["http://evil.test", "null", "http://app.test.evil.test"] {
        let r = create_key(origin);
        r.expect(403);
        assert!(r.detail().contains("Origin"), "{}", r.text);
    }
    let r = s.request_with(
        "DELETE",
        "/api/v1/flows/00000000-0000-0000-0000-000000000000",
        Auth::Cookie(&cookie),
        &[("Origin", "http://evil.test")],
        None,
        None,
    );
    r.expect(403);
    assert_eq!(key_count(&s, &token), 0);
    let own = own_origin(&s);
    for origin in [own.as_str(), "http://app.test"] {
        create_key(origin).expect(200);
    }
    assert_eq!(key_count(&s, &token), 2);
}

#[test]
fn cookie_authenticated_uploads_need_their_own_origin() {
    let s = TestServer::start();
    let token = s.admin_token();
    let cookie = format!("access_token_lf={token}");
    let flow = serde_json::to_vec(&json!({"name": "uploaded", "data": {"nodes": [], "edges": []}})).unwrap();
    let boundary = "b0undary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.json\"\r\nContent-Type: application/json\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&flow);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let upload = |headers: &[(&str, &str)]| {
        s.request_with("POST", "/api/v1/flows/upload/", Auth::Cookie(&cookie), headers, Some(&ct), Some(&body))
    };
    upload(&[]).expect(403);
    upload(&[("Origin", "http://evil.test")]).expect(403);
    let own = own_origin(&s);
    upload(&[("Origin", own.as_str())]).expect(201);
    // With a bearer token no Origin is needed.
    s.request("POST", "/api/v1/flows/upload/", Auth::Bearer(&token), Some(&ct), Some(&body)).expect(201);
}

#[test]
fn auto_login_tokens_are_not_readable_cross_origin() {
    let s = TestServer::start_with(&[("LANGFLOW_AUTO_LOGIN", "true")]);
    let evil = [("Origin", "http://evil.test")];
    let r = s.request_with("GET", "/api/v1/auto_login", Auth::None, &evil, None, None);
    r.expect(200);
    assert!(r.json["access_token"].is_string());
    assert_eq!(r.header("access-control-allow-origin"), None, "token readable by any origin");
    let r = s.request_with(
        "POST",
        "/api/v1/login",
        Auth::None,
        &evil,
        Some("application/x-www-form-urlencoded"),
        Some(format!("username={ADMIN}&password={ADMIN_PASSWORD}").as_bytes()),
    );
    assert_eq!(r.header("access-control-allow-origin"), None);
    // Other routes keep Langflow's wildcard.
    let r = s.request_with("GET", "/api/v1/version", Auth::None, &evil, None, None);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn token_routes_are_readable_by_an_explicitly_listed_origin() {
    let s = TestServer::start_with(&[("LANGFLOW_AUTO_LOGIN", "true"), ("LANGFLOW_CORS_ORIGINS", "http://app.test")]);
    let r = s.request_with("GET", "/api/v1/auto_login", Auth::None, &[("Origin", "http://app.test")], None, None);
    r.expect(200);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://app.test"));
    let r = s.request_with("GET", "/api/v1/auto_login", Auth::None, &[("Origin", "http://evil.test")], None, None);
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[test]
fn skip_auth_auto_login_writes_are_csrf_checked() {
    let s = TestServer::start_with(&[("LANGFLOW_AUTO_LOGIN", "true"), ("LANGFLOW_SKIP_AUTH_AUTO_LOGIN", "true")]);
    let r = s.request_with(
        "POST",
        "/api/v1/variables/",
        Auth::None,
        &[("Origin", "http://evil.test")],
        Some("text/plain"),
        Some(br#"{"name": "X", "value": "y", "type": "Generic", "default_fields": []}"#),
    );
    assert!(r.status == 403 || r.status == 415, "{} {}", r.status, r.text);
}

#[test]
fn cli_routes_need_the_runtime_token_and_ignore_forwarding_headers() {
    let s = TestServer::start_with(&[("LANGFLOW_SUPERUSER_PASSWORD", "")]);
    let runtime: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.dir.path().join("runtime.json")).unwrap()).unwrap();
    let token = runtime["token"].as_str().unwrap();
    let body = json!({"username": "root", "password": "root-password-1"});
    let r = s.send_with("POST", "/api/v1/_cli/superuser", Auth::None, &[("x-flowactor-cli-token", "wrong")], &body);
    r.expect(403);
    let r = s.send_with(
        "POST",
        "/api/v1/_cli/superuser",
        Auth::None,
        &[("x-flowactor-cli-token", token), ("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9")],
        &body,
    );
    r.expect(200);
    assert_eq!(r.json["ok"], true, "{}", r.text);
    s.login("root", "root-password-1").expect(200);
}

/// Sends raw bytes on a fresh connection; answers what came back before the server closed it
/// (or `wait` passed) and whether the server closed it.
fn raw(s: &TestServer, request: &[u8], wait: std::time::Duration) -> (String, bool) {
    use std::io::{Read, Write};
    let addr = s.url.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(wait)).unwrap();
    conn.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match conn.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

#[test]
fn upgrade_requests_are_answered_and_closed() {
    let s = TestServer::start();
    let (answer, closed) = raw(
        &s,
        b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\nab=cd",
        std::time::Duration::from_secs(10),
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains(r#"{"detail":"Connection upgrades are not supported"}"#), "{answer}");
    assert!(closed, "connection left open");
}

#[test]
fn a_body_that_stops_arriving_times_out_with_408() {
    let s = TestServer::start_with(&[("FLOWACTOR_BODY_TIMEOUT_SECONDS", "1")]);
    let token = s.admin_token();
    let started = std::time::Instant::now();
    let request = format!(
        "POST /api/v1/variables/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"name\": "
    );
    let (answer, closed) = raw(&s, request.as_bytes(), std::time::Duration::from_secs(20));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#"{"detail":"Request body timed out"}"#), "{answer}");
    assert!(closed, "connection left open");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    // The same for a form and for a raw body (`/run`).
    let request = "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                   Content-Length: 100\r\n\r\nusername=a";
    let (answer, _) = raw(&s, request.as_bytes(), std::time::Duration::from_secs(20));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let (_, key) = s.api_key(&token, "k");
    let request = format!(
        "POST /api/v1/run/00000000-0000-0000-0000-000000000000 HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    let (answer, _) = raw(&s, request.as_bytes(), std::time::Duration::from_secs(20));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}
