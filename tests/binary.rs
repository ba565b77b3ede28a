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
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(pos) = line.find("listening on http://") {
                    let url: String =
                        line[pos + "listening on ".len()..].chars().take_while(|c| !c.is_whitespace()).collect();
                    let _ = tx.send(url);
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(60)).expect("server did not report its address");
        Self { child, url }
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
