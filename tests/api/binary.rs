//! The real `flowactor` binary: durability across SIGKILL, start-up refusal on bad settings, and
//! the CLI both with and without a running server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_flowactor");

fn command(dir: &Path, extra: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("LANGFLOW_CONFIG_DIR", dir)
        .env("LANGFLOW_RATE_LIMIT_ENABLED", "false")
        .env("NO_COLOR", "1");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

struct Server {
    child: Child,
    url: String,
    /// Every line the server logged so far.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    fn start(dir: &Path, extra: &[(&str, &str)]) -> Self {
        let mut child = command(dir, extra)
            .args(["run", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn flowactor");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line.clone());
                if let Some(pos) = line.find("listening on http://") {
                    let url: String =
                        line[pos + "listening on ".len()..].chars().take_while(|c| !c.is_whitespace()).collect();
                    let _ = tx.send(url);
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(60)).expect("server did not report its address");
        Self { child, url, log }
    }

    fn terminate(&self) {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill -TERM failed");
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> (u16, Value) {
        let mut req = ureq::request(method, &format!("{}{}", self.url, path));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let res = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        let r = match res {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        let status = r.status();
        (status, r.into_json().unwrap_or(Value::Null))
    }

    fn login(&self, user: &str, pw: &str) -> Option<String> {
        let r = ureq::post(&format!("{}/api/v1/login", self.url)).send_form(&[("username", user), ("password", pw)]);
        r.ok().and_then(|r| r.into_json::<Value>().ok()).and_then(|v| v["access_token"].as_str().map(str::to_owned))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SU: [(&str, &str); 2] = [("LANGFLOW_SUPERUSER", "root"), ("LANGFLOW_SUPERUSER_PASSWORD", "root-password-1")];

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &SU);
    let token = s.login("root", "root-password-1").expect("login");
    let bearer = format!("Bearer {token}");
    let (st, key) = s.call("POST", "/api/v1/api_key/", &[("Authorization", &bearer)], Some(json!({"name": "durable"})));
    assert_eq!(st, 200);
    let key = key["api_key"].as_str().unwrap().to_owned();
    let (st, _) = s.call(
        "POST",
        "/api/v1/users/",
        &[("Authorization", &bearer)],
        Some(json!({"username": "kept", "password": "kept-pw", "is_active": true})),
    );
    assert_eq!(st, 201);
    let (st, var) =
        s.call("POST", "/api/v1/variables/", &[("x-api-key", &key)], Some(json!({"name": "K", "value": "v"})));
    assert_eq!(st, 201);
    s.kill();

    let s = Server::start(dir.path(), &SU);
    assert_eq!(s.call("GET", "/api/v1/users/whoami", &[("x-api-key", &key)], None).0, 200);
    assert!(s.login("kept", "kept-pw").is_some());
    let (_, vars) = s.call("GET", "/api/v1/variables/", &[("x-api-key", &key)], None);
    assert_eq!(vars[0]["id"], var["id"]);
    let (_, keys) = s.call("GET", "/api/v1/api_key/", &[("x-api-key", &key)], None);
    let key_id = keys["api_keys"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.call("DELETE", &format!("/api/v1/api_key/{key_id}"), &[("Authorization", &bearer)], None).0, 200);
    s.kill();

    let s = Server::start(dir.path(), &SU);
    assert_eq!(s.call("GET", "/api/v1/users/whoami", &[("x-api-key", &key)], None).0, 403);
}

#[test]
fn malformed_settings_refuse_start_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path(), &[("LANGFLOW_AUTO_LOGIN", "maybe")]).args(["run", "--port", "0"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("LANGFLOW_AUTO_LOGIN"));
    let out = command(dir.path(), &[("LANGFLOW_SUPERUSER_PASSWORD", "langflow")])
        .args(["run", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("LANGFLOW_SUPERUSER_PASSWORD"));
}

#[test]
fn a_short_secret_key_refuses_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path(), &[("LANGFLOW_SECRET_KEY", "only-20-bytes-secret")])
        .args(["run", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LANGFLOW_SECRET_KEY") && stderr.contains("at least 32 bytes"), "{stderr}");
    assert!(!stderr.contains("only-20-bytes-secret"), "{stderr}");
    // A hand-edited secret file that is too short is refused the same way.
    std::fs::write(dir.path().join("secret_key"), "short").unwrap();
    let out = command(dir.path(), &[]).args(["run", "--port", "0"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
}

#[test]
fn env_file_settings_apply() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("custom.env");
    std::fs::write(&env_file, "LANGFLOW_AUTO_LOGIN=true\nLANGFLOW_SOMETHING_UNKNOWN=1\n").unwrap();
    let mut child = command(dir.path(), &[])
        .args(["run", "--port", "0", "--env-file"])
        .arg(&env_file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut url = None;
    let mut warned = false;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        warned |= line.contains("LANGFLOW_SOMETHING_UNKNOWN");
        if let Some(pos) = line.find("listening on http://") {
            url = Some(line[pos + "listening on ".len()..].trim().to_owned());
            break;
        }
    }
    let url = url.expect("address");
    let r = ureq::get(&format!("{url}/api/v1/auto_login")).call().expect("auto login");
    assert_eq!(r.status(), 200);
    assert!(warned, "unknown variables are reported");
    let _ = child.kill();
    let _ = child.wait();
}

fn cli(dir: &Path, extra: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let out = command(dir, extra).args(args).stdin(Stdio::null()).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn superuser_cli_works_with_and_without_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    // Directly on the database: the first superuser needs no token.
    let (ok, out) = cli(dir.path(), &[], &["superuser", "--username", "first", "--password", "first-pw"]);
    assert!(ok, "{out}");
    assert!(out.contains("Superuser created successfully."), "{out}");
    let s = Server::start(dir.path(), &[]);
    let token = s.login("first", "first-pw").expect("login");
    // Through the running server (the database is locked).
    let (ok, out) = cli(dir.path(), &[], &["superuser", "--username", "second", "--password", "second-pw"]);
    assert!(!ok);
    assert!(out.contains("Creating a superuser requires authentication."), "{out}");
    let (ok, out) = cli(
        dir.path(),
        &[],
        &["superuser", "--username", "second", "--password", "second-pw", "--auth-token", "sk-wrong"],
    );
    assert!(!ok);
    assert!(out.contains("Only superusers can create other superusers."), "{out}");
    let (ok, out) =
        cli(dir.path(), &[], &["superuser", "--username", "second", "--password", "second-pw", "--auth-token", &token]);
    assert!(ok, "{out}");
    let second = s.login("second", "second-pw").expect("second logs in");
    let (_, me) = s.call("GET", "/api/v1/users/whoami", &[("Authorization", &format!("Bearer {second}"))], None);
    assert_eq!(me["is_superuser"], true);
    let (ok, out) = cli(
        dir.path(),
        &[("LANGFLOW_ENABLE_SUPERUSER_CLI", "false")],
        &["superuser", "--username", "x", "--password", "y"],
    );
    assert!(!ok);
    assert!(out.contains("Superuser creation via CLI is disabled."), "{out}");
}

#[test]
fn api_key_cli_follows_auto_login() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = cli(dir.path(), &[], &["api-key"]);
    assert!(ok);
    assert!(out.contains("Auto login is disabled. API keys cannot be created through the CLI."), "{out}");
    let auto = [("LANGFLOW_AUTO_LOGIN", "true")];
    let s = Server::start(dir.path(), &auto);
    let (ok, out) = cli(dir.path(), &auto, &["api-key"]);
    assert!(ok, "{out}");
    assert!(out.contains("This is the only time the API key will be displayed."), "{out}");
    let key = out.split_whitespace().find(|w| w.starts_with("sk-")).expect("key in banner").to_owned();
    let (st, me) = s.call("GET", "/api/v1/users/whoami", &[("x-api-key", &key)], None);
    assert_eq!(st, 200);
    assert_eq!(me["username"], "langflow");
    drop(s);
    // Without a server, directly on the database; the previous key is replaced.
    let (ok, out) = cli(dir.path(), &auto, &["api-key"]);
    assert!(ok, "{out}");
    let s = Server::start(dir.path(), &auto);
    assert_eq!(s.call("GET", "/api/v1/users/whoami", &[("x-api-key", &key)], None).0, 403);
}

#[test]
fn api_key_cli_scoped_key_runs_only_its_flow() {
    let dir = tempfile::tempdir().unwrap();
    let auto = [("LANGFLOW_AUTO_LOGIN", "true")];
    let flow = uuid::Uuid::new_v4().to_string();
    let (ok, out) = cli(dir.path(), &auto, &["api-key", "--scope", "run", "--scope", "fly"]);
    assert!(!ok, "{out}");
    assert!(out.contains("Error: invalid API key options: scopes: unknown scope 'fly'"), "{out}");
    let (ok, out) = cli(dir.path(), &auto, &["api-key", "--rate-limit", "0"]);
    assert!(!ok && out.contains("rate_limit_per_minute"), "{out}");
    // The first start creates the auto-login superuser; then without a server, on the database.
    drop(Server::start(dir.path(), &auto));
    let (ok, out) = cli(
        dir.path(),
        &auto,
        &["api-key", "--scope", "run", "--flow", &flow, "--endpoint", "bot", "--rate-limit", "30"],
    );
    assert!(ok, "{out}");
    let offline = out.split_whitespace().find(|w| w.starts_with("sk-")).expect("key in banner").to_owned();
    let s = Server::start(dir.path(), &auto);
    let (st, me) = s.call("GET", "/api/v1/users/whoami", &[("x-api-key", &offline)], None);
    assert_eq!(st, 403);
    assert_eq!(me["detail"], "This API key lacks the 'read' scope");
    let (st, body) = s.call("POST", "/api/v1/run/anything", &[("x-api-key", &offline)], None);
    assert_eq!(st, 403, "{body}");
    let (_, login) = s.call("GET", "/api/v1/auto_login", &[], None);
    let bearer = format!("Bearer {}", login["access_token"].as_str().expect("auto-login token"));
    let (st, list) = s.call("GET", "/api/v1/api_key/", &[("Authorization", &bearer)], None);
    assert_eq!(st, 200);
    let scoped = &list["api_keys"][0];
    assert_eq!(scoped["scopes"], serde_json::json!(["run"]));
    assert_eq!(scoped["flow_ids"], serde_json::json!([flow]));
    assert_eq!(scoped["endpoint_names"], serde_json::json!(["bot"]));
    assert_eq!(scoped["rate_limit_per_minute"], 30);
    // Through the running server (it replaces that key).
    let (ok, out) = cli(dir.path(), &auto, &["api-key", "--scope", "read", "--scope", "keys"]);
    assert!(ok, "{out}");
    let online = out.split_whitespace().find(|w| w.starts_with("sk-")).expect("key in banner").to_owned();
    assert_eq!(s.call("GET", "/api/v1/users/whoami", &[("x-api-key", &online)], None).0, 200);
    let (st, list) = s.call("GET", "/api/v1/api_key/", &[("x-api-key", &online)], None);
    assert_eq!(st, 200);
    assert_eq!(list["api_keys"][0]["scopes"], serde_json::json!(["read", "keys"]));
    assert_eq!(s.call("POST", "/api/v1/run/anything", &[("x-api-key", &online)], None).0, 403);
    let (ok, out) = cli(dir.path(), &auto, &["api-key", "--scope", "nope"]);
    assert!(!ok && out.contains("unknown scope 'nope'"), "{out}");
}

#[test]
fn log_lines_cannot_be_forged_through_request_data() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &SU);
    let forged = "nobody\r\n2026-01-01T00:00:00Z  INFO forged: admin logged in\u{1b}[2J";
    assert!(s.login(forged, "wrong-password").is_none());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !s.log.lock().unwrap().iter().any(|l| l.contains("login refused")) {
        assert!(std::time::Instant::now() < deadline, "no log line for the refused login");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = s.log.lock().unwrap().clone();
    let line = log.iter().find(|l| l.contains("login refused")).unwrap();
    assert!(line.contains("nobody\\r\\n2026"), "{line}");
    assert!(!log.iter().any(|l| l.starts_with("2026-01-01T00:00:00Z")), "{log:?}");
    assert!(!log.iter().any(|l| l.contains('\u{1b}')), "{log:?}");
}

#[test]
fn each_request_gets_one_access_line_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &SU);
    let token = s.login("root", "root-password-1").expect("login");
    let (_, me) = s.call("GET", "/api/v1/users/whoami", &[("Authorization", &format!("Bearer {token}"))], None);
    let secret_key = "sk-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let (status, _) = s.call("GET", &format!("/api/v1/%75sers/whoami?x-api-key={secret_key}"), &[], None);
    assert_eq!(status, 403);
    let wanted = [
        "GET /api/v1/users/whoami 200".to_owned(),
        "GET /api/v1/users/whoami 403".to_owned(),
        "POST /api/v1/login 200".to_owned(),
    ];
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log = s.log.lock().unwrap().clone();
        if wanted.iter().all(|w| log.iter().any(|l| l.contains(w.as_str()))) {
            let ok = log.iter().find(|l| l.contains(&wanted[0])).unwrap();
            assert!(ok.contains(&format!("user={}", me["id"].as_str().unwrap())), "{ok}");
            assert!(!log.iter().any(|l| l.contains(secret_key) || l.contains(&token)), "{log:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "access lines missing: {log:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn delay_flow(ms: u64) -> Value {
    let mut b = flowactor_actors::graph::FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}));
    b.node("Delay-d", "Delay", json!({"milliseconds": ms, "input_value": ""}));
    b.edge("ChatInput-in", "message", "Delay-d", "input_value");
    b.node("ChatOutput-out", "ChatOutput", json!({}));
    b.edge("Delay-d", "output", "ChatOutput-out", "input_value");
    let mut flow = b.build();
    flow["name"] = json!(format!("delay {ms}"));
    flow
}

#[test]
fn sigterm_drains_then_answers_what_is_still_running() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        SU[0],
        SU[1],
        ("FLOWACTOR_SHUTDOWN_GRACE_SECONDS", "2"),
        ("FLOWACTOR_ENABLE_TEST_COMPONENTS", "true"),
        ("FLOWACTOR_HEARTBEAT_MS", "200"),
    ];
    let s = Server::start(dir.path(), &env);
    let token = s.login("root", "root-password-1").expect("login");
    let bearer = format!("Bearer {token}");
    let (_, key) = s.call("POST", "/api/v1/api_key/", &[("Authorization", &bearer)], Some(json!({"name": "k"})));
    let key = key["api_key"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for ms in [60_000, 500] {
        let (st, flow) = s.call("POST", "/api/v1/flows/", &[("x-api-key", &key)], Some(delay_flow(ms)));
        assert_eq!(st, 201, "{flow}");
        ids.push(flow["id"].as_str().unwrap().to_owned());
    }
    let call = |path: String| {
        let (url, key) = (s.url.clone(), key.clone());
        std::thread::spawn(move || {
            let r = ureq::post(&format!("{url}{path}")).set("x-api-key", &key).send_json(json!({"input_value": "hi"}));
            let r = match r {
                Ok(r) | Err(ureq::Error::Status(_, r)) => r,
                Err(e) => panic!("{e}"),
            };
            (r.status(), r.into_string().unwrap_or_default())
        })
    };
    let slow = call(format!("/api/v1/run/{}", ids[0]));
    let slow_stream = call(format!("/api/v1/run/{}?stream=true", ids[0]));
    std::thread::sleep(Duration::from_millis(300));
    let quick = call(format!("/api/v1/run/{}", ids[1]));
    std::thread::sleep(Duration::from_millis(100));
    let started = std::time::Instant::now();
    s.terminate();
    // Within the grace period a request finishes normally.
    let (status, body) = quick.join().unwrap();
    assert_eq!(status, 200, "{body}");
    // After it, what still runs is answered: 503 JSON, and an error event on the stream.
    let (status, body) = slow.join().unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["detail"], "Server is shutting down");
    let (status, body) = slow_stream.join().unwrap();
    assert_eq!(status, 200);
    let last = body.split("\n\n").filter(|f| !f.trim().is_empty()).last().unwrap_or_default();
    let last: Value = serde_json::from_str(last.trim()).unwrap_or(Value::Null);
    assert_eq!(last["event"], "error", "{body}");
    assert_eq!(last["data"]["error"], "Server is shutting down");
    let mut s = s;
    let status = loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() >= Duration::from_secs(2), "cut before the grace period");
}

#[test]
fn key_usage_survives_sigkill_after_the_flush_window() {
    const FLUSH_MS: u64 = 200;
    const USES: u64 = 50;
    let dir = tempfile::tempdir().unwrap();
    let flush = FLUSH_MS.to_string();
    let env = [SU[0], SU[1], ("FLOWACTOR_KEY_USAGE_FLUSH_MS", flush.as_str())];
    let s = Server::start(dir.path(), &env);
    let token = s.login("root", "root-password-1").expect("login");
    let bearer = format!("Bearer {token}");
    let (st, created) =
        s.call("POST", "/api/v1/api_key/", &[("Authorization", &bearer)], Some(json!({"name": "audited"})));
    assert_eq!(st, 200);
    let (key, key_id) = (created["api_key"].as_str().unwrap().to_owned(), created["id"].as_str().unwrap().to_owned());
    for _ in 0..USES {
        assert_eq!(s.call("GET", "/api/v1/users/whoami", &[("x-api-key", &key)], None).0, 200);
    }
    // The documented window: one flush interval plus the store's background flush (50 ms).
    std::thread::sleep(Duration::from_millis(FLUSH_MS + 50 + 500));
    s.kill();

    let s = Server::start(dir.path(), &env);
    let (st, usage) = s.call("GET", &format!("/api/v1/api_key/{key_id}/usage"), &[("Authorization", &bearer)], None);
    assert_eq!(st, 200);
    assert_eq!(usage["total_uses"], USES);
    assert_eq!(usage["days"][0]["count"], USES);
    assert_eq!(usage["recent"].as_array().unwrap().len(), 50);
    assert_eq!(usage["last_used_ip"], "127.0.0.1");
}
