//! Test harness: starts the real HTTP app in-process on port 0 with a temporary config dir and
//! talks to it over loopback with a blocking client. Helpers return `(status, json)`-style
//! responses so tests read like the API.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct Resp {
    pub status: u16,
    pub json: Value,
    pub text: String,
    /// The raw body (gzip, ZIP).
    pub bytes: Vec<u8>,
    pub headers: HashMap<String, Vec<String>>,
}

impl Resp {
    pub fn detail(&self) -> &str {
        self.json.get("detail").and_then(Value::as_str).unwrap_or("")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_lowercase()).and_then(|v| v.first()).map(String::as_str)
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers.get(&name.to_lowercase()).cloned().unwrap_or_default()
    }
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        self
    }
    #[track_caller]
    pub fn expect_detail(&self, status: u16, detail: &str) -> &Self {
        self.expect(status);
        assert_eq!(self.detail(), detail, "body: {}", self.text);
        self
    }
}

#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    Key(&'a str),
    KeyQuery(&'a str),
    Cookie(&'a str),
}

pub struct TestServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    handle: Option<actix_web::dev::ServerHandle>,
    thread: Option<std::thread::JoinHandle<()>>,
    agent: ureq::Agent,
}

pub fn base_env(dir: &std::path::Path) -> Vec<(String, String)> {
    vec![
        ("LANGFLOW_CONFIG_DIR".into(), dir.display().to_string()),
        ("LANGFLOW_PORT".into(), "0".into()),
        ("LANGFLOW_SUPERUSER".into(), ADMIN.into()),
        ("LANGFLOW_SUPERUSER_PASSWORD".into(), ADMIN_PASSWORD.into()),
        ("LANGFLOW_RATE_LIMIT_ENABLED".into(), "false".into()),
        ("LANGFLOW_WORKERS".into(), "2".into()),
        ("LANGFLOW_LOG_LEVEL".into(), "warn".into()),
        // The Delay and Burn test components (off by default).
        ("FLOWACTOR_ENABLE_TEST_COMPONENTS".into(), "true".into()),
        // The mock model provider listens on loopback, which the outbound policy refuses by default.
        ("LANGFLOW_SSRF_ALLOWED_HOSTS".into(), "127.0.0.1".into()),
    ]
}

/// Is the suite running on PostgreSQL (`FLOWACTOR_TEST_DATABASE_URL` set)?
pub fn on_postgres() -> bool {
    std::env::var_os("FLOWACTOR_TEST_DATABASE_URL").is_some()
}

/// For a test that needs a property only the embedded database has: `false` (with a note) on
/// PostgreSQL, where it is skipped.
pub fn sled_only(test: &str) -> bool {
    if on_postgres() {
        eprintln!("skipping {test}: it needs the embedded database (the suite runs on PostgreSQL)");
        return false;
    }
    true
}

/// With `FLOWACTOR_TEST_DATABASE_URL` set, every config dir gets its own fresh PostgreSQL
/// database, remembered in the dir so a restarted server finds its data again.
fn test_database_for(dir: &std::path::Path) -> Option<String> {
    let admin = std::env::var("FLOWACTOR_TEST_DATABASE_URL").ok()?;
    let marker = dir.join("test-database-url");
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return Some(url);
    }
    let name = format!("flowactor_test_{}", uuid::Uuid::new_v4().simple());
    let url = flowactor_actors::pg::create_database(&admin, &name).expect("create a test database");
    std::fs::write(&marker, &url).expect("remember the test database");
    Some(url)
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server; `overrides` replace or extend the base environment ("" removes a name).
    pub fn start_with(overrides: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir, overrides)
    }

    pub fn start_in(dir: tempfile::TempDir, overrides: &[(&str, &str)]) -> Self {
        let mut env: HashMap<String, String> = base_env(dir.path()).into_iter().collect();
        if let Some(url) = test_database_for(dir.path()) {
            env.insert("LANGFLOW_DATABASE_URL".into(), url);
            env.insert("LANGFLOW_POOL_SIZE".into(), "4".into());
        }
        for (k, v) in overrides {
            if v.is_empty() {
                env.remove(*k);
            } else {
                env.insert((*k).to_owned(), (*v).to_owned());
            }
        }
        let sources = flowactor::settings::Sources { env: env.clone(), ..Default::default() };
        let settings = flowactor::settings::Settings::load(&sources).expect("settings");
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                match flowactor::server::start(settings, env).await {
                    Ok(server) => {
                        let _ = tx.send(Ok((server.addr, server.handle.clone())));
                        let _ = server.wait().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(format!("{e:#}")));
                    }
                }
            });
        });
        let (addr, handle) =
            rx.recv_timeout(Duration::from_secs(60)).expect("server start timed out").expect("server start");
        // No connection pool: the server closes idle keep-alive connections after 5 s, and a POST sent
        // on one that is being closed would fail with a reset instead of being retried.
        let agent =
            ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(60)).max_idle_connections(0).build();
        Self { url: format!("http://{addr}"), dir, handle: Some(handle), thread: Some(thread), agent }
    }

    /// Stops the server and waits until its database is closed; returns the config dir.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.shutdown();
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }

    fn shutdown(&mut self) {
        if let Some(handle) = self.handle.take() {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
            rt.block_on(handle.stop(true));
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Resp {
        self.request_with(method, path, auth, &[], content_type, body)
    }

    /// [`TestServer::request`] with extra request headers.
    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Resp {
        let mut url = format!("{}{}", self.url, path);
        if let Auth::KeyQuery(k) = auth {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("x-api-key={k}"));
        }
        let mut req = self.agent.request(method, &url);
        match auth {
            Auth::Bearer(t) => req = req.set("Authorization", &format!("Bearer {t}")),
            Auth::Key(k) => req = req.set("x-api-key", k),
            Auth::Cookie(c) => req = req.set("Cookie", c),
            Auth::None | Auth::KeyQuery(_) => {}
        }
        if let Some(ct) = content_type {
            req = req.set("Content-Type", ct);
        }
        for (name, value) in headers {
            req = req.set(name, value);
        }
        let result = match body {
            Some(b) => req.send_bytes(b),
            None => req.call(),
        };
        let response = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("transport error on {method} {path}: {e}"),
        };
        let status = response.status();
        let mut headers: HashMap<String, Vec<String>> = HashMap::new();
        for name in response.headers_names() {
            headers.insert(name.to_lowercase(), response.all(&name).into_iter().map(str::to_owned).collect());
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut bytes).expect("read body");
        let text = String::from_utf8(bytes.clone()).unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, json, text, bytes, headers }
    }

    pub fn get(&self, path: &str, auth: Auth<'_>) -> Resp {
        self.request("GET", path, auth, None, None)
    }
    pub fn delete(&self, path: &str, auth: Auth<'_>) -> Resp {
        self.request("DELETE", path, auth, None, None)
    }
    pub fn send(&self, method: &str, path: &str, auth: Auth<'_>, body: &Value) -> Resp {
        self.request(method, path, auth, Some("application/json"), Some(body.to_string().as_bytes()))
    }
    pub fn post(&self, path: &str, auth: Auth<'_>, body: &Value) -> Resp {
        self.send("POST", path, auth, body)
    }
    pub fn patch(&self, path: &str, auth: Auth<'_>, body: &Value) -> Resp {
        self.send("PATCH", path, auth, body)
    }
    pub fn put(&self, path: &str, auth: Auth<'_>, body: &Value) -> Resp {
        self.send("PUT", path, auth, body)
    }
    /// A JSON request with extra headers (`If-Match`, `Accept-Encoding`).
    pub fn send_with(&self, method: &str, path: &str, auth: Auth<'_>, headers: &[(&str, &str)], body: &Value) -> Resp {
        let body = body.to_string();
        self.request_with(method, path, auth, headers, Some("application/json"), Some(body.as_bytes()))
    }
    /// A `multipart/form-data` POST with one file part named `field`.
    pub fn upload(&self, path: &str, auth: Auth<'_>, field: &str, filename: &str, contents: &[u8]) -> Resp {
        let boundary = "flowactor-test-boundary-7f3a";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(contents);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.request("POST", path, auth, Some(&content_type), Some(&body))
    }
    pub fn form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).expect("form");
        self.request("POST", path, Auth::None, Some("application/x-www-form-urlencoded"), Some(body.as_bytes()))
    }

    pub fn login(&self, username: &str, password: &str) -> Resp {
        self.form("/api/v1/login", &[("username", username), ("password", password)])
    }

    /// An access token, asserting the login works.
    pub fn token(&self, username: &str, password: &str) -> String {
        let r = self.login(username, password);
        r.expect(200);
        r.json["access_token"].as_str().expect("token").to_owned()
    }

    pub fn admin_token(&self) -> String {
        self.token(ADMIN, ADMIN_PASSWORD)
    }

    /// Creates an active ordinary user through the superuser; answers (id, access token).
    pub fn user(&self, name: &str) -> (String, String) {
        let admin = self.admin_token();
        let password = format!("{name}-password");
        let r = self.post(
            "/api/v1/users/",
            Auth::Bearer(&admin),
            &json!({"username": name, "password": password, "is_active": true}),
        );
        r.expect(201);
        let id = r.json["id"].as_str().expect("id").to_owned();
        (id, self.token(name, &password))
    }

    /// Stores `flow` (a Langflow export) under `name`; answers its id.
    pub fn create_flow(&self, auth: Auth<'_>, flow: &Value, name: &str) -> String {
        let mut body = flow.clone();
        body["name"] = json!(name);
        let r = self.post("/api/v1/flows/", auth, &body);
        r.expect(201);
        r.json["id"].as_str().expect("flow id").to_owned()
    }

    /// Creates an API key for the holder of `token`; answers (key id, key).
    pub fn api_key(&self, token: &str, name: &str) -> (String, String) {
        let r = self.post("/api/v1/api_key/", Auth::Bearer(token), &json!({"name": name}));
        r.expect(200);
        (r.json["id"].as_str().expect("id").to_owned(), r.json["api_key"].as_str().expect("key").to_owned())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl TestServer {
    /// Sends both a bearer token and an API key; answers the status.
    pub fn agent_get_with_both(&self, path: &str, token: &str, key: &str) -> u16 {
        let r = self
            .agent
            .get(&format!("{}{}", self.url, path))
            .set("Authorization", &format!("Bearer {token}"))
            .set("x-api-key", key)
            .call();
        match r {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r.status(),
            Err(e) => panic!("{e}"),
        }
    }

    /// A CORS preflight; answers (Access-Control-Allow-Origin, Access-Control-Allow-Credentials).
    pub fn agent_options(&self, path: &str, origin: &str) -> (Option<String>, Option<String>) {
        let r = self
            .agent
            .request("OPTIONS", &format!("{}{}", self.url, path))
            .set("Origin", origin)
            .set("Access-Control-Request-Method", "POST")
            .call();
        let r = match r {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        (
            r.header("access-control-allow-origin").map(str::to_owned),
            r.header("access-control-allow-credentials").map(str::to_owned),
        )
    }
}

/// Every Langflow export in `tests/fixtures/flows/`.
pub const FIXTURES: &[&str] = &[
    "basic_prompt_chaining__lf1.4.3.json",
    "basic_prompting__lf1.13.0.json",
    "chat_echo__lf1.13.0.json",
    "memory_chatbot__lf1.4.3.json",
    "prompt__lf1.13.0.json",
    "research_translation_loop__lf1.13.0.json",
    "twitter_thread_generator__lf1.4.3.json",
    "wide_16__lf1.13.0.json",
];

/// Basic Prompting with its Language Model pointed at the mock provider at `url`, streaming,
/// answering as the mock's `model` (`split`, `slow`, ...).
pub fn basic_prompting_on_mock(url: &str, model: &str) -> Value {
    let mut flow = fixture("basic_prompting__lf1.13.0.json");
    for node in flow["data"]["nodes"].as_array_mut().expect("nodes") {
        if node["data"]["type"] == "LanguageModelComponent" {
            let template = &mut node["data"]["node"]["template"];
            template["provider"]["value"] = json!("Ollama");
            template["model_name"]["value"] = json!(model);
            template["ollama_base_url"]["value"] = json!(url);
            template["ollama_base_url"]["show"] = json!(true);
            template["stream"]["value"] = json!(true);
        }
    }
    flow
}

/// A Langflow flow export from `tests/fixtures/flows/`.
pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture JSON")
}

/// Splits a Langflow event stream: JSON objects separated by blank lines (heartbeat newlines
/// are skipped).
pub fn events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| serde_json::from_str(c).expect("event JSON"))
        .collect()
}

/// A validator for one of the JSON Schemas in `schemas/`.
pub fn schema(name: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas").join(name);
    jsonschema::validator_for(
        &serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("schema JSON"),
    )
    .expect("valid schema")
}

/// Asserts `instance` satisfies `validator`, listing every violation.
#[track_caller]
pub fn assert_valid(validator: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "schema violations: {errors:?}\n{instance}");
}
