//! Route inventory, taken from the router's own table (`flowactor::http::routes::table`): every
//! route that is not public refuses an anonymous caller with 401/403 before its body is read (a
//! malformed or huge body changes nothing), and no other spelling of a path (percent-encoded
//! letters, `%2F`, doubled slashes, trailing slashes) grants more than the canonical one, for an
//! anonymous caller, a normal user and a superuser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Auth, TestServer};
use flowactor::http::policy::Access;
use flowactor::http::routes::{table, Verb};

const NIL: &str = "00000000-0000-0000-0000-000000000000";

/// A route's pattern with sample values for its parameters.
fn sample(pattern: &str) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map(|i| open + i).unwrap();
        let name = &rest[open + 1..close];
        if !name.starts_with("tail") {
            out.push_str(NIL);
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// (method, sample path, access) of every route in the table (`Any` routes as GET and POST).
fn routes() -> Vec<(&'static str, String, Access)> {
    let mut out = Vec::new();
    for spec in table() {
        let path = sample(spec.path);
        if spec.verb == Verb::Any {
            out.push(("GET", path.clone(), spec.rule.access));
            out.push(("POST", path, spec.rule.access));
        } else {
            out.push((spec.verb.as_str(), path, spec.rule.access));
        }
    }
    out
}

fn protected() -> Vec<(&'static str, String)> {
    routes()
        .into_iter()
        .filter(|(_, _, a)| *a != Access::Public && *a != Access::Optional)
        .map(|(m, p, _)| (m, p))
        .collect()
}

/// Other spellings of `path`: each literal segment with its first letter percent-encoded, all
/// letters encoded, each inner `/` as `%2F`, each `/` doubled, the trailing slash toggled.
fn variants(path: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if let Some(c) = seg.chars().next().filter(char::is_ascii_alphabetic) {
            let mut segs: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
            segs[i] = format!("%{:02X}{}", c as u32, &seg[1..]);
            out.push((segs.join("/"), true));
        }
    }
    let all: String = path
        .chars()
        .map(|c| if c.is_ascii_alphabetic() { format!("%{:02x}", c as u32) } else { c.to_string() })
        .collect();
    out.push((all, true));
    let slashes: Vec<usize> = path.match_indices('/').map(|(i, _)| i).collect();
    for &i in &slashes {
        if i > 0 && i + 1 < path.len() {
            out.push((format!("{}%2F{}", &path[..i], &path[i + 1..]), false));
        }
        out.push((format!("{}//{}", &path[..i], &path[i + 1..]), false));
    }
    if let Some(stripped) = path.strip_suffix('/') {
        out.push((stripped.to_owned(), false));
    } else {
        out.push((format!("{path}/"), false));
    }
    out
}

fn refused(status: u16) -> bool {
    status == 401 || status == 403
}

#[test]
fn the_table_lists_the_routes_the_policy_must_protect() {
    let all = routes();
    for (method, path) in [
        ("GET", "/api/v1/users/"),
        ("DELETE", "/api/v1/users/{id}"),
        ("POST", "/api/v1/run/{id}"),
        ("POST", "/api/v1/_cli/superuser"),
        ("POST", "/api/v1/_cli/api-key"),
        ("GET", "/api/v1/flows/"),
    ] {
        let path = path.replace("{id}", NIL);
        assert!(all.iter().any(|(m, p, _)| *m == method && *p == path), "{method} {path} missing from the table");
    }
    assert!(all.len() >= 60, "only {} routes", all.len());
}

#[test]
fn every_protected_route_refuses_anonymous_callers_before_reading_the_body() {
    let s = TestServer::start();
    let huge = vec![b'{'; 10 * 1024 * 1024];
    let mut paths = protected();
    // Paths no route matches are default-deny too.
    paths.push(("POST", "/api/v1/validate/code".to_owned()));
    paths.push(("GET", "/api/v1/no/such/route".to_owned()));
    for (method, path) in &paths {
        for body in [None, Some(&b"{not json"[..]), Some(&huge[..])] {
            let r = s.request(method, path, Auth::None, Some("application/json"), body);
            assert!(refused(r.status), "{method} {path} answered {} {}", r.status, r.text);
            assert!(r.json.get("detail").is_some(), "{method} {path}: {}", r.text);
        }
        let r = s.request(method, path, Auth::Key("sk-forged"), Some("application/json"), Some(b"{not json"));
        assert!(refused(r.status), "{method} {path} with a bad key answered {}", r.status);
    }
}

#[test]
fn no_spelling_of_a_path_grants_more_than_the_canonical_route() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let (_, user) = s.user("inventory-user");
    let callers = [("anonymous", Auth::None), ("user", Auth::Bearer(&user)), ("superuser", Auth::Bearer(&admin))];
    for (method, path, _) in routes() {
        for (who, auth) in callers {
            let canonical = s.request(method, &path, auth, Some("application/json"), None);
            for (variant, same_route) in variants(&path) {
                let r = s.request(method, &variant, auth, Some("application/json"), None);
                assert!(r.json.get("detail").is_some() || r.status < 400, "{method} {variant} as {who}: {}", r.text);
                if refused(canonical.status) {
                    assert!(
                        refused(r.status) || r.status == 404 || r.status == 405 || r.status == 307,
                        "{method} {variant} as {who} answered {} where {path} answered {}: {}",
                        r.status,
                        canonical.status,
                        r.text
                    );
                }
                if same_route {
                    assert_eq!(
                        refused(r.status),
                        refused(canonical.status),
                        "{method} {variant} as {who}: {} vs canonical {}",
                        r.status,
                        canonical.status
                    );
                }
            }
        }
    }
}

#[test]
fn encoded_paths_reach_the_route_with_its_own_rule() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let admin_id = s.get("/api/v1/users/whoami", Auth::Bearer(&admin)).json["id"].as_str().unwrap().to_owned();
    let (_, alice) = s.user("alice");
    s.get("/api/v1/%75sers/", Auth::Bearer(&alice)).expect_detail(403, "The user doesn't have enough privileges");
    s.delete(&format!("/api/v1/%75sers/{admin_id}"), Auth::Bearer(&alice)).expect_detail(403, "Permission denied");
    s.get("/api/v1/users/whoami", Auth::Bearer(&admin)).expect(200);
    // `/run` takes API keys only, however it is spelled.
    let r = s.send("POST", &format!("/api/v1/r%75n/{NIL}"), Auth::Bearer(&alice), &serde_json::json!({}));
    r.expect(403);
    // The superuser sees the same route through the encoded spelling.
    s.get("/api/v1/%75sers/", Auth::Bearer(&admin)).expect(200);
}

#[test]
fn encoded_cli_paths_need_the_cli_token() {
    // No superuser yet: the CLI route would create the first one.
    let s = TestServer::start_with(&[("LANGFLOW_SUPERUSER_PASSWORD", "")]);
    let body = serde_json::json!({"username": "mallory", "password": "mallory-password-1"});
    for path in
        ["/api/v1/_cli/superuser", "/api/v1/%5Fcli/superuser", "/api/v1/%5fcli/superuser", "/api/v1/_%63li/superuser"]
    {
        let r = s.send("POST", path, Auth::None, &body);
        assert!(refused(r.status), "{path}: {} {}", r.status, r.text);
    }
    s.login("mallory", "mallory-password-1").expect(401);
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

#[test]
fn every_error_is_a_json_detail() {
    let s = TestServer::start_with(&[("FLOWACTOR_MAX_BODY_MB", "1")]);
    let token = s.admin_token();
    let (_, key) = s.api_key(&token, "k");
    let big = vec![b'x'; 2 * 1024 * 1024];
    for (path, auth) in [
        (format!("/api/v1/run/{NIL}"), Auth::Key(&key)),
        (format!("/api/v1/build/{NIL}/flow"), Auth::Bearer(&token)),
        (format!("/api/v1/webhook/{NIL}"), Auth::Key(&key)),
    ] {
        let r = s.request("POST", &path, auth, Some("application/json"), Some(&big));
        r.expect(413);
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        assert!(r.detail().starts_with("Content size limit exceeded. Maximum allowed is 1MB"), "{path}: {}", r.text);
    }
    // A known path with another method: 405 with a body.
    let r = s.request("PUT", "/health", Auth::None, None, None);
    r.expect_detail(405, "Method Not Allowed");
    let r = s.request("PATCH", "/api/v1/api_key/", Auth::Bearer(&token), None, None);
    r.expect_detail(405, "Method Not Allowed");
    // The login form's own limit is named correctly.
    let form = format!("username=a&password={}", "p".repeat(70 * 1024));
    let r = s.request(
        "POST",
        "/api/v1/login",
        Auth::None,
        Some("application/x-www-form-urlencoded"),
        Some(form.as_bytes()),
    );
    r.expect(413);
    assert_eq!(r.detail(), "Content size limit exceeded. Maximum allowed is 64KB and got more.");
}
