//! What is acknowledged survives SIGKILL, and flow numbers read back exactly as written.

use super::id_of;
use crate::common::{fixture, Auth, TestServer};
use serde_json::{json, Value};

#[test]
fn acknowledged_flow_writes_survive_sigkill() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let spawn = || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowactor"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("LANGFLOW_CONFIG_DIR", dir.path())
            .env("LANGFLOW_SUPERUSER", "root")
            .env("LANGFLOW_SUPERUSER_PASSWORD", "root-password-1")
            .env("LANGFLOW_RATE_LIMIT_ENABLED", "false")
            .env("NO_COLOR", "1")
            .args(["run", "--port", "0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().unwrap();
        let mut url = String::new();
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(pos) = line.find("listening on http://") {
                url = line[pos + "listening on ".len()..].chars().take_while(|c| !c.is_whitespace()).collect();
                break;
            }
        }
        assert!(!url.is_empty(), "server did not start");
        (child, url)
    };
    let call = |url: &str, method: &str, path: &str, token: &str, body: Option<Value>| -> (u16, Value) {
        let req = ureq::request(method, &format!("{url}{path}")).set("Authorization", &format!("Bearer {token}"));
        let res = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        let r = match res {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        (r.status(), r.into_json().unwrap_or(Value::Null))
    };
    let login = |url: &str| -> String {
        let r = ureq::post(&format!("{url}/api/v1/login"))
            .send_form(&[("username", "root"), ("password", "root-password-1")])
            .expect("login");
        r.into_json::<Value>().unwrap()["access_token"].as_str().unwrap().to_owned()
    };

    let (mut child, url) = spawn();
    let token = login(&url);
    let doc = fixture("chat_echo__lf1.13.0.json");
    let (st, created) = call(&url, "POST", "/api/v1/flows/", &token, Some(doc.clone()));
    assert_eq!(st, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    let (st, _) = call(&url, "PATCH", &format!("/api/v1/flows/{id}"), &token, Some(json!({"name": "renamed"})));
    assert_eq!(st, 200);
    let (st, project) = call(&url, "POST", "/api/v1/projects/", &token, Some(json!({"name": "kept"})));
    assert_eq!(st, 201);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");

    let (mut child, url) = spawn();
    let token = login(&url);
    let (st, read) = call(&url, "GET", &format!("/api/v1/flows/{id}"), &token, None);
    assert_eq!(st, 200);
    assert_eq!(read["name"], "renamed");
    assert_eq!(read["data"], doc["data"]);
    let (st, _) = call(&url, "GET", &format!("/api/v1/projects/{}", project["id"].as_str().unwrap()), &token, None);
    assert_eq!(st, 200);
    let _ = child.kill();
    let _ = child.wait();
}

/// The number literals of a JSON text (outside strings), sorted.
fn number_literals(text: &str) -> Vec<String> {
    let (mut out, mut cur) = (Vec::new(), String::new());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c.is_ascii_digit() || (cur.is_empty() && c == '-') || (!cur.is_empty() && "+-.eE".contains(c)) {
            cur.push(c);
            continue;
        }
        if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        in_string = c == '"';
    }
    out.sort();
    out
}

/// The text of the `data` member of a flow object, as written.
fn data_text(flow_text: &str) -> String {
    let map: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_str(flow_text).unwrap();
    map["data"].get().to_owned()
}

#[test]
fn flow_numbers_read_back_exactly() {
    let s = TestServer::start();
    let (_, t) = s.user("floats");
    // Numbers that a fast, inexact float parser rounds to a neighbour (441.59999999999997 read
    // back as 441.6), plus the extremes.
    let targeted = r#"{"name": "floats", "data": {"nodes": [], "edges": [], "viewport": {"x": 441.59999999999997,
        "y": -215.63964109627526, "zoom": 0.30000000000000004, "values": [1011.9999999999999, 436.79999999999995,
        2.220446049250313e-16, 0.0020353564437605998, 1.7976931348623157e+308, 5e-324, 1.0, 0, -0.0, 12345678901234567890]}}}"#;
    let mut docs = vec![("targeted".to_owned(), targeted.to_owned())];
    for name in
        ["knowledge_retrieval__lf1.13.0.json", "memory_chatbot__lf1.13.0.json", "seo_keyword_generator__lf1.13.0.json"]
    {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows").join(name);
        docs.push((name.to_owned(), std::fs::read_to_string(path).unwrap()));
    }
    for (name, text) in docs {
        let sent = number_literals(&data_text(&text));
        let r = s.request("POST", "/api/v1/flows/", Auth::Bearer(&t), Some("application/json"), Some(text.as_bytes()));
        r.expect(201);
        let created = number_literals(&data_text(&r.text));
        let read = s.get(&format!("/api/v1/flows/{}", id_of(&r)), Auth::Bearer(&t));
        read.expect(200);
        let up = s.upload("/api/v1/flows/upload/", Auth::Bearer(&t), "file", "f.json", text.as_bytes());
        up.expect(201);
        let uploaded = s.get(&format!("/api/v1/flows/{}", up.json[0]["id"].as_str().unwrap()), Auth::Bearer(&t));
        for (how, got) in [
            ("POST", created),
            ("GET", number_literals(&data_text(&read.text))),
            ("upload", number_literals(&data_text(&uploaded.text))),
        ] {
            let missing: Vec<&String> = sent.iter().filter(|n| !got.contains(n)).take(5).collect();
            assert!(missing.is_empty(), "{name} after {how}: numbers changed, e.g. {missing:?}");
            assert_eq!(got.len(), sent.len(), "{name} after {how}");
        }
    }
}
