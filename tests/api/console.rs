//! The web console: its pages and assets over HTTP (CSP, hashed asset names, redirects,
//! `--backend-only`), and the documentation journeys walked in real headless Chromium through
//! chromedriver, by the words a person sees. JavaScript errors (console errors, uncaught
//! exceptions, failed requests) fail a browser test.
//!
//! The browser comes from `scripts/install-browser.sh` (Debian's `chromium` and
//! `chromium-driver`). Without it the browser tests fail when `CI` is set and are skipped with a
//! loud message otherwise. `FLOWACTOR_UPDATE_SCREENSHOTS=1` writes the pages' screenshots to
//! `docs/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::{fixture, Auth, TestServer, ADMIN, ADMIN_PASSWORD};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

// ---------- over HTTP ----------

fn asset_urls(html: &str) -> Vec<String> {
    html.split('"').filter(|p| p.starts_with("/assets/")).map(str::to_owned).collect()
}

#[test]
fn pages_carry_a_strict_content_security_policy_and_hashed_asset_urls() {
    let s = TestServer::start();
    for path in ["/login", "/signup"] {
        let r = s.get(path, Auth::None);
        r.expect(200);
        assert!(r.header("content-type").unwrap().starts_with("text/html"), "{path}");
        let csp = r.header("content-security-policy").expect("CSP");
        for part in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe") && !csp.contains("http"), "{csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        // No inline script or style, nothing from another origin.
        assert!(!r.text.contains("style=") && !r.text.contains("<style"), "{}", r.text);
        assert!(!r.text.contains("://"), "external reference in {}", r.text);
        for script in r.text.split("<script").skip(1) {
            assert!(script.contains("src=\"/assets/"), "inline script: {script}");
        }
    }
    let html = s.get("/login", Auth::None).text;
    let assets = asset_urls(&html);
    assert_eq!(assets.len(), 3, "{html}");
    for url in &assets {
        // `/assets/<name>.<16 hex>.<ext>`
        let name = url.trim_start_matches("/assets/");
        let parts: Vec<&str> = name.split('.').collect();
        assert_eq!(parts.len(), 3, "{url}");
        assert!(parts[1].len() == 16 && parts[1].chars().all(|c| c.is_ascii_hexdigit()), "{url}");
        let r = s.get(url, Auth::None);
        r.expect(200);
        assert_eq!(r.header("cache-control"), Some("public, max-age=31536000, immutable"), "{url}");
        assert!(!r.bytes.is_empty());
        // The hash names the content: any other name is unknown.
        let stale = format!("/assets/{}.0000000000000000.{}", parts[0], parts[2]);
        s.get(&stale, Auth::None).expect_detail(404, "Not Found");
        s.get(&format!("/assets/{}.{}", parts[0], parts[2]), Auth::None).expect_detail(404, "Not Found");
    }
    let js = assets.iter().find(|u| u.ends_with(".js")).unwrap();
    assert!(s.get(js, Auth::None).header("content-type").unwrap().starts_with("text/javascript"));
}

#[test]
fn the_root_redirects_to_login_when_signed_out_and_to_the_flows_when_signed_in() {
    let s = TestServer::start();
    let r = s.get("/", Auth::None);
    r.expect(302);
    assert_eq!(r.header("location"), Some("/login"));
    // A stale or forged cookie counts as signed out.
    let r = s.get("/", Auth::Cookie("access_token_lf=not-a-token"));
    assert_eq!(r.header("location"), Some("/login"));
    let token = s.admin_token();
    let cookie = format!("access_token_lf={token}");
    let r = s.get("/", Auth::Cookie(&cookie));
    r.expect(302);
    assert_eq!(r.header("location"), Some("/flows"));
    // Signed in, the login page sends you on too.
    assert_eq!(s.get("/login", Auth::Cookie(&cookie)).header("location"), Some("/flows"));
}

#[test]
fn the_admin_page_is_for_superusers_and_sends_others_to_their_flows() {
    let s = TestServer::start();
    let r = s.get("/admin", Auth::None);
    r.expect(302);
    assert_eq!(r.header("location"), Some("/login"));
    let (_, user_token) = s.user("alice");
    let r = s.get("/admin", Auth::Cookie(&format!("access_token_lf={user_token}")));
    r.expect(302);
    assert_eq!(r.header("location"), Some("/flows"));
    let admin = s.admin_token();
    s.get("/admin", Auth::Cookie(&format!("access_token_lf={admin}"))).expect(200);
}

#[test]
fn backend_only_turns_the_console_off_and_leaves_the_api() {
    let s = TestServer::start_with(&[("LANGFLOW_BACKEND_ONLY", "true")]);
    let assets = asset_urls(&TestServer::start().get("/login", Auth::None).text);
    let mut paths = vec!["/", "/login", "/signup", "/flows", "/settings/api-keys", "/admin"];
    paths.extend(assets.iter().map(String::as_str));
    for path in paths {
        s.get(path, Auth::None).expect_detail(404, "Not Found");
    }
    s.get("/health", Auth::None).expect(200);
    let token = s.admin_token();
    s.get("/api/v1/users/whoami", Auth::Bearer(&token)).expect(200);
}

#[test]
fn paths_outside_the_console_and_the_api_stay_default_deny() {
    let s = TestServer::start();
    for path in ["/api/v1/no/such/route", "/no-such-page", "/settings/no-such-tab"] {
        let r = s.get(path, Auth::None);
        assert!(r.status == 401 || r.status == 403, "{path}: {} {}", r.status, r.text);
    }
}

// ---------- in the browser ----------

/// One browser at a time: the machine is small and each test starts its own.
static BROWSER_LOCK: Mutex<()> = Mutex::new(());

/// One browser test at a time; `None` (the test returns) where no browser can run outside CI.
fn browser_session() -> Option<std::sync::MutexGuard<'static, ()>> {
    browser_available().then(|| BROWSER_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(15);

/// `false` (after a loud message) when no browser is installed outside CI; panics in CI.
fn browser_available() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    let message = format!(
        "\n\n*** BROWSER TESTS NOT RUN: {CHROMIUM} / {CHROMEDRIVER} missing; run scripts/install-browser.sh ***\n"
    );
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("{message}");
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver + headless Chromium with a fresh profile, driven over WebDriver.
struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    driver_url: String,
    session: String,
    base: String,
    /// Where downloads (flow exports) land.
    downloads: tempfile::TempDir,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start(base: &str) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver_url = format!("http://127.0.0.1:{port}");
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(5)).build();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready =
                agent.get(&format!("{driver_url}/status")).call().ok().and_then(|r| r.into_json::<Value>().ok());
            if ready.is_some_and(|v| v["value"]["ready"] == json!(true)) {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-extensions".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-proxy-server".to_owned(),
            "--window-size=1280,800".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": CHROMIUM, "args": args, "prefs": {
                "download.default_directory": downloads.path().display().to_string(),
                "download.prompt_for_download": false,
            }}),
        );
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let client = rt.block_on(async {
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps)
                .connect(&driver_url)
                .await
                .expect("WebDriver session")
        });
        let session = rt.block_on(client.session_id()).unwrap().expect("session id");
        let mut b = Self {
            rt,
            client: Some(client),
            driver,
            driver_url,
            session,
            base: base.to_owned(),
            downloads,
            _profile: profile,
        };
        b.viewport(1280, 800);
        b
    }

    fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// chromedriver's own endpoints (logs, DevTools commands) under this session.
    fn driver_cmd(&self, path: &str, body: &Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.driver_url, self.session);
        ureq::post(&url).send_json(body.clone()).expect(path).into_json().unwrap()
    }

    /// The page's viewport (device metrics, so media queries see a phone's width).
    fn viewport(&mut self, width: u32, height: u32) {
        self.driver_cmd(
            "goog/cdp/execute",
            &json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}}),
        );
    }

    /// Browser log entries at error level since the last call.
    fn errors(&self) -> Vec<String> {
        let logs = self.driver_cmd("se/log", &json!({"type": "browser"}));
        logs["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    #[track_caller]
    fn assert_no_errors(&self) {
        let errors = self.errors();
        assert!(errors.is_empty(), "JavaScript errors: {errors:#?}");
    }

    fn goto(&self, path: &str) {
        self.rt.block_on(self.c().goto(&format!("{}{path}", self.base))).expect("goto");
    }

    fn path(&self) -> String {
        self.rt.block_on(self.c().current_url()).expect("url").path().to_owned()
    }

    fn wait_path(&self, path: &str) {
        let deadline = Instant::now() + WAIT;
        while self.path() != path {
            assert!(Instant::now() < deadline, "still at {} instead of {path}", self.path());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first visible element `xpath` matches, waiting for it.
    fn find(&self, xpath: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = self.rt.block_on(async {
                for el in self.c().find_all(Locator::XPath(xpath)).await.unwrap_or_default() {
                    if el.is_displayed().await.unwrap_or(false) {
                        return Some(el);
                    }
                }
                None
            });
            if let Some(el) = found {
                return el;
            }
            assert!(Instant::now() < deadline, "nothing visible matches {xpath}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A button or link by its visible words (or its accessible name).
    fn click(&self, words: &str) {
        let xpath = format!("//*[self::button or self::a][normalize-space()='{words}' or @aria-label='{words}']");
        let el = self.find(&xpath);
        self.rt.block_on(el.click()).expect("click");
    }

    /// The input a `<label>` with these words names.
    fn input(&self, label: &str) -> Element {
        let label_el = self.find(&format!("//label[normalize-space()='{label}']"));
        let id = self.rt.block_on(label_el.attr("for")).unwrap();
        match id {
            Some(id) => self.find(&format!("//*[@id='{id}']")),
            None => self.find(&format!("//label[normalize-space()='{label}']//input")),
        }
    }

    fn type_into(&self, label: &str, text: &str) {
        let el = self.input(label);
        self.rt.block_on(async {
            el.clear().await.unwrap();
            el.send_keys(text).await.unwrap();
        });
    }

    fn checked(&self, label: &str) -> bool {
        let el = self.input(label);
        self.rt.block_on(el.prop("checked")).unwrap().as_deref() == Some("true")
    }

    /// Clicks a checkbox's label until it has the wanted state.
    fn set_checked(&self, label: &str, on: bool) {
        if self.checked(label) != on {
            let el = self.find(&format!("//label[normalize-space()='{label}']"));
            self.rt.block_on(el.click()).unwrap();
        }
        assert_eq!(self.checked(label), on, "{label}");
    }

    fn value(&self, el: &Element) -> String {
        self.rt.block_on(el.prop("value")).unwrap().unwrap_or_default()
    }

    fn text(&self) -> String {
        self.rt.block_on(async { self.c().find(Locator::Css("body")).await.unwrap().text().await.unwrap() })
    }

    fn wait_text(&self, words: &str) {
        let deadline = Instant::now() + WAIT;
        while !self.text().contains(words) {
            assert!(Instant::now() < deadline, "page never showed {words:?}; it shows:\n{}", self.text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn sign_in(&self, username: &str, password: &str) {
        self.goto("/login");
        self.type_into("Username", username);
        self.type_into("Password", password);
        self.click("Sign In");
        self.wait_path("/flows");
    }

    /// A PNG of the page, written under `docs/screenshots/` with FLOWACTOR_UPDATE_SCREENSHOTS=1.
    fn screenshot(&self, name: &str) -> Vec<u8> {
        let png = self.rt.block_on(self.c().screenshot()).expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        if std::env::var("FLOWACTOR_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        }
        png
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.rt.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn upload_flow(s: &TestServer, token: &str, name: &str, file: &str) -> String {
    let mut flow = fixture(file);
    flow["name"] = json!(name);
    let r = s.post("/api/v1/flows/", Auth::Bearer(token), &flow);
    r.expect(201);
    r.json["id"].as_str().unwrap().to_owned()
}

/// Langflow's "API keys and authentication" journey: profile icon → Settings → Langflow API Keys
/// → Add New → name → Create API Key → copy the key, then run a flow with it.
#[test]
fn browser_journey_create_an_api_key_and_run_a_flow_with_it() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start();
    let b = Browser::start(&s.url);
    b.goto("/");
    b.wait_path("/login");
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.click("Profile");
    b.click("Settings");
    b.wait_path("/settings");
    b.click("Langflow API Keys");
    b.wait_path("/settings/api-keys");
    b.wait_text("No API keys yet");
    b.click("Add New");
    b.type_into("Name", "docs journey key");
    b.click("Create API Key");
    b.wait_text("you won't be able to view it again");
    let key_box = b.find("//input[@aria-label='API key']");
    let key = b.value(&key_box);
    assert!(key.starts_with("sk-") && key.len() == 46, "{key}");
    b.find("//button[normalize-space()='Copy']");
    b.click("Done");
    // The list shows the key masked, never in full.
    b.wait_text("docs journey key");
    let page = b.text();
    assert!(page.contains(&key[..8]) && !page.contains(&key), "{page}");
    b.assert_no_errors();

    // The key works from outside the browser: run a flow with it.
    let admin = s.admin_token();
    let flow = upload_flow(&s, &admin, "echo", "chat_echo__lf1.13.0.json");
    let r = s.post(&format!("/api/v1/run/{flow}"), Auth::Key(&key), &json!({"input_value": "hello from the docs"}));
    r.expect(200);
    assert!(r.text.contains("hello from the docs"), "{}", r.text);
    let listed = s.get("/api/v1/api_key/", Auth::Bearer(&admin));
    assert_eq!(listed.json["api_keys"][0]["total_uses"], json!(1), "{}", listed.text);

    // Delete it, with confirmation: the next request with it is refused.
    b.goto("/settings/api-keys");
    b.wait_text("docs journey key");
    b.click("Delete docs journey key");
    b.wait_text("This can't be undone");
    b.find("//dialog//button[normalize-space()='Delete']");
    let confirm = b.find("//dialog//button[normalize-space()='Delete']");
    b.rt.block_on(confirm.click()).unwrap();
    b.wait_text("No API keys yet");
    s.post(&format!("/api/v1/run/{flow}"), Auth::Key(&key), &json!({"input_value": "x"})).expect(403);
    b.assert_no_errors();
}

/// Langflow's "add users" journey: /login as the superuser → /admin → New User → username and
/// password, Active on, Superuser off → Save; the new user signs in and is kept out of /admin.
#[test]
fn browser_journey_a_superuser_adds_a_user_who_can_sign_in_but_not_administer() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start();
    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.goto("/admin");
    b.wait_text("Admin Page");
    b.click("New User");
    b.type_into("Username", "newcomer");
    b.type_into("Password", "newcomer-password-1");
    b.type_into("Confirm Password", "newcomer-password-1");
    b.set_checked("Active", true);
    b.set_checked("Superuser", false);
    b.click("Save");
    b.wait_text("newcomer");
    b.assert_no_errors();

    // As the API sees it: active, not a superuser, and able to log in.
    s.login("newcomer", "newcomer-password-1").expect(200);
    let admin = s.admin_token();
    let users = s.get("/api/v1/users/?search=newcomer", Auth::Bearer(&admin));
    assert_eq!(users.json["users"][0]["is_active"], json!(true), "{}", users.text);
    assert_eq!(users.json["users"][0]["is_superuser"], json!(false), "{}", users.text);

    // Sign out, sign in as the new user: /admin sends them to their flows.
    b.click("Profile");
    b.click("Logout");
    b.wait_path("/login");
    b.sign_in("newcomer", "newcomer-password-1");
    b.goto("/admin");
    b.wait_path("/flows");
    assert!(!b.text().contains("Admin Page"), "{}", b.text());
    b.assert_no_errors();
}

/// A flow whose Language Model streams its answer from the mock provider, slowly.
fn streaming_flow(mock: &crate::mock_llm::MockLlm) -> Value {
    crate::common::basic_prompting_on_mock(&mock.url(), "slow")
}

fn count(b: &Browser, xpath: &str) -> usize {
    b.rt.block_on(b.c().find_all(Locator::XPath(xpath))).unwrap().len()
}

/// Flows: import a Langflow file with the file picker, set an endpoint name and read the filled-in
/// snippets, export it, delete it with confirmation.
#[test]
fn browser_flows_import_endpoint_snippets_export_and_delete() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start();
    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.wait_text("No flows yet");
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows/chat_echo__lf1.13.0.json");
    let picker = b.input("Import a Langflow JSON file");
    b.rt.block_on(picker.send_keys(&file.display().to_string())).unwrap();
    let admin = s.admin_token();
    let deadline = Instant::now() + WAIT;
    let flows = loop {
        let flows = s.get("/api/v1/flows/", Auth::Bearer(&admin)).json;
        if flows.as_array().is_some_and(|f| !f.is_empty()) {
            break flows;
        }
        assert!(Instant::now() < deadline, "the import never arrived");
        std::thread::sleep(Duration::from_millis(50));
    };
    let name = flows[0]["name"].as_str().unwrap().to_owned();
    let id = flows[0]["id"].as_str().unwrap().to_owned();
    b.wait_text(&name);

    b.click(&format!("API snippets for {name}"));
    b.type_into("Endpoint name", "echo-endpoint");
    b.click("Save endpoint name");
    b.wait_text("/api/v1/run/echo-endpoint");
    assert_eq!(s.get(&format!("/api/v1/flows/{id}"), Auth::Bearer(&admin)).json["endpoint_name"], "echo-endpoint");
    assert!(b.text().contains("x-api-key: $LANGFLOW_API_KEY"), "{}", b.text());
    // The cURL snippet, copied from the page, runs the flow with a key (as the docs' users do).
    let snippet = b.rt.block_on(b.find("//pre").text()).unwrap();
    let (_, key) = s.api_key(&admin, "snippet");
    let out = std::process::Command::new("bash")
        .args(["-c", &snippet])
        .env("LANGFLOW_API_KEY", &key)
        .output()
        .expect("curl (installed by scripts/install-browser.sh)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("the snippet's answer is JSON");
    assert_eq!(answer["outputs"][0]["outputs"][0]["results"]["message"]["text"], "hello world!", "{answer}");
    b.click("Python");
    b.wait_text("requests.request(\"POST\", url, json=payload, headers=headers)");
    b.click("Close");

    b.click(&format!("Export {name}"));
    let deadline = Instant::now() + WAIT;
    let exported = loop {
        let done = std::fs::read_dir(b.downloads.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "json"));
        if let Some(p) = done {
            if let Ok(v) = serde_json::from_str::<Value>(&std::fs::read_to_string(&p).unwrap_or_default()) {
                break v;
            }
        }
        assert!(Instant::now() < deadline, "no export downloaded");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(exported["id"], json!(id));
    assert_eq!(
        exported["data"]["nodes"].as_array().map(Vec::len),
        fixture("chat_echo__lf1.13.0.json")["data"]["nodes"].as_array().map(Vec::len)
    );

    b.click(&format!("Delete {name}"));
    let confirm = b.find("//dialog//button[normalize-space()='Delete']");
    b.rt.block_on(confirm.click()).unwrap();
    b.wait_text("No flows yet");
    s.get(&format!("/api/v1/flows/{id}"), Auth::Bearer(&admin)).expect(404);
    b.assert_no_errors();
}

/// Playground: the answer appears token by token while the model streams it, the session is
/// listed with its history, and Stop cancels a running build.
#[test]
fn browser_playground_streams_tokens_keeps_history_and_stops() {
    let Some(_one) = browser_session() else { return };
    let mock = crate::mock_llm::MockLlm::start();
    let s = TestServer::start();
    let admin = s.admin_token();
    let mut flow = streaming_flow(&mock);
    flow["name"] = json!("streaming");
    let r = s.post("/api/v1/flows/", Auth::Bearer(&admin), &flow);
    r.expect(201);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.click("Playground");
    b.wait_path(&format!("/playground/{id}"));
    b.wait_text("No messages in this session yet");
    b.type_into("Message", "tell me");
    b.click("Send");
    let expected = format!("{}tell me", crate::mock_llm::REPLY_PREFIX);
    let bot = "//div[contains(@class,'msg') and contains(@class,'bot')]/span[@class='body']";
    // Seen part-way: a non-empty prefix of the answer, before the whole answer.
    let deadline = Instant::now() + WAIT;
    let mut partial = None;
    loop {
        let texts: Vec<String> = b.rt.block_on(async {
            let mut out = Vec::new();
            for el in b.c().find_all(Locator::XPath(bot)).await.unwrap() {
                out.push(el.text().await.unwrap_or_default());
            }
            out
        });
        if let Some(t) = texts.iter().find(|t| !t.is_empty() && **t != expected && expected.starts_with(t.as_str())) {
            partial.get_or_insert(t.clone());
        }
        if texts.contains(&expected) {
            break;
        }
        assert!(Instant::now() < deadline, "the answer never completed: {texts:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(partial.is_some(), "the answer appeared all at once, not streamed");
    b.wait_text("Default Session");

    // History comes back from the monitor routes (once the message store has the final text:
    // it is written behind the stream).
    let deadline = Instant::now() + WAIT;
    while !s
        .get(&format!("/api/v1/monitor/messages?flow_id={id}&session_id={id}"), Auth::Bearer(&admin))
        .text
        .contains(&expected)
    {
        assert!(Instant::now() < deadline, "the answer was never stored");
        std::thread::sleep(Duration::from_millis(50));
    }
    b.goto(&format!("/playground/{id}"));
    b.wait_text(&expected);
    assert!(b.text().contains("tell me"));

    // A new session starts empty; Stop cancels its build.
    b.click("New Chat");
    b.wait_text("No messages in this session yet");
    b.type_into("Message", "a long story");
    b.click("Send");
    b.find("//button[normalize-space()='Stop' and not(@disabled)]");
    b.click("Stop");
    b.wait_text("Stopped.");
    let final_answer = format!("{}a long story", crate::mock_llm::REPLY_PREFIX);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!b.text().contains(&final_answer), "the stopped build kept streaming: {}", b.text());
    b.assert_no_errors();
}

/// Build view: wide_16 drawn from its stored positions, each of its 33 vertices reaching the
/// finished state from the live build events, with a timeline of their runs.
#[test]
fn browser_build_view_lights_up_all_33_vertices_of_wide_16() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start();
    let admin = s.admin_token();
    let id = upload_flow(&s, &admin, "wide_16", "wide_16__lf1.13.0.json");
    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.click("Build view");
    b.wait_path(&format!("/flow/{id}"));
    b.wait_text("33 vertices");
    assert_eq!(count(&b, "//*[local-name()='g' and @data-state='waiting']"), 33);
    assert_eq!(count(&b, "//*[local-name()='path' and contains(@class,'edge')]"), 47);
    b.click("Run");
    b.wait_text("33 of 33 vertices finished.");
    assert_eq!(count(&b, "//*[local-name()='g' and @data-state='built']"), 33);
    let timeline = b.find("//*[local-name()='svg' and starts-with(@aria-label,'Timeline: 33 components')]");
    let label = b.rt.block_on(timeline.attr("aria-label")).unwrap().unwrap();
    // One lane per engine thread that ran a vertex: wide_16's fan-out spreads over both.
    let lanes: usize =
        label.rsplit(" on ").next().and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    assert!(label.ends_with("engine threads") && (2..=cores.max(2)).contains(&lanes), "{label}");
    b.assert_no_errors();
}

/// Every page at a laptop's and a phone's size: renders without JavaScript errors and without
/// horizontal overflow of the page; FLOWACTOR_UPDATE_SCREENSHOTS=1 saves them for the README.
#[test]
fn browser_every_page_renders_at_laptop_and_phone_width() {
    let Some(_one) = browser_session() else { return };
    let mock = crate::mock_llm::MockLlm::start();
    let s = TestServer::start();
    let admin = s.admin_token();
    let wide = upload_flow(&s, &admin, "wide_16", "wide_16__lf1.13.0.json");
    let mut flow = streaming_flow(&mock);
    flow["name"] = json!("Basic Prompting");
    let chat = s.post("/api/v1/flows/", Auth::Bearer(&admin), &flow).json["id"].as_str().unwrap().to_owned();
    s.api_key(&admin, "ci");
    s.post(
        "/api/v1/variables/",
        Auth::Bearer(&admin),
        &json!({"name": "OPENAI_API_KEY", "value": "sk-x", "type": "Credential"}),
    )
    .expect(201);
    s.post(
        "/api/v1/variables/",
        Auth::Bearer(&admin),
        &json!({"name": "REGION", "value": "eu-west", "type": "Generic"}),
    )
    .expect(201);
    s.user("alice");
    let mut b = Browser::start(&s.url);
    for (w, h, size) in [(1280, 800, "1280x800"), (390, 844, "390x844")] {
        b.viewport(w, h);
        b.goto("/login");
        b.wait_text("Sign in to flowactor");
        b.screenshot(&format!("login-{size}"));
        b.sign_in(ADMIN, ADMIN_PASSWORD);
        let pages: [(&str, &str, &str); 6] = [
            ("flows", "/flows", "wide_16"),
            ("api-keys", "/settings/api-keys", "ci"),
            ("global-variables", "/settings/global-variables", "REGION"),
            ("admin", "/admin", "alice"),
            ("playground", &format!("/playground/{chat}"), "Sessions"),
            ("build-view", &format!("/flow/{wide}"), "33 vertices"),
        ]
        .map(|(n, p, t)| (n, Box::leak(p.to_owned().into_boxed_str()) as &str, t));
        for (name, path, words) in pages {
            b.goto(path);
            b.wait_text(words);
            if name == "playground" {
                b.type_into("Message", "hello");
                b.click("Send");
                b.find("//button[normalize-space()='Send' and not(@disabled)]");
            }
            if name == "build-view" {
                b.click("Run");
                b.wait_text("33 of 33 vertices finished.");
            }
            let overflow: Value = b
                .rt
                .block_on(b.c().execute("return document.documentElement.scrollWidth - window.innerWidth;", vec![]))
                .unwrap();
            assert!(overflow.as_i64().unwrap_or(0) <= 0, "{name} at {size} overflows by {overflow}px");
            b.screenshot(&format!("{name}-{size}"));
        }
        b.click("Profile");
        b.click("Logout");
        b.wait_path("/login");
    }
    b.assert_no_errors();
}

#[test]
fn the_login_page_offers_sign_up_only_while_it_is_open() {
    let open = TestServer::start();
    assert!(open.get("/login", Auth::None).text.contains("data-signup=\"true\""));
    let closed = TestServer::start_with(&[("LANGFLOW_ENABLE_SIGNUP", "false")]);
    assert!(closed.get("/login", Auth::None).text.contains("data-signup=\"false\""));
    let auto = TestServer::start_with(&[("LANGFLOW_AUTO_LOGIN", "true")]);
    assert!(auto.get("/login", Auth::None).text.contains("data-signup=\"false\""));
}

/// Sign up from the login page, then the login page's explanations: "Waiting for approval" for
/// the inactive new account, and the rate-limit message after too many attempts. The refused
/// requests themselves are the only errors the browser may log.
#[test]
fn browser_sign_up_then_waiting_for_approval_then_rate_limited() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start_with(&[("LANGFLOW_RATE_LIMIT_ENABLED", "true"), ("LANGFLOW_RATE_LIMIT_PER_MINUTE", "4")]);
    let b = Browser::start(&s.url);
    b.goto("/login");
    b.click("Sign Up");
    b.wait_path("/signup");
    b.type_into("Username", "hopeful");
    b.type_into("Password", "hopeful-password-1");
    b.type_into("Confirm your password", "hopeful-password-1");
    b.click("Sign Up");
    b.wait_text("Account created. Waiting for approval");
    b.assert_no_errors();
    b.click("Sign In");
    b.wait_path("/login");
    b.type_into("Username", "hopeful");
    b.type_into("Password", "hopeful-password-1");
    b.click("Sign In");
    b.wait_text("Waiting for approval: an administrator has to activate your account");
    let mut limited = false;
    for _ in 0..6 {
        b.type_into("Password", "wrong-password");
        b.click("Sign In");
        let deadline = Instant::now() + WAIT;
        // Each answer re-enables the button.
        b.find("//button[normalize-space()='Sign In' and not(@disabled)]");
        while Instant::now() < deadline
            && !b.text().contains("Too many login attempts")
            && !b.text().contains("Incorrect")
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        if b.text().contains("Too many login attempts. Please wait a minute and try again.") {
            limited = true;
            break;
        }
    }
    assert!(limited, "never rate-limited: {}", b.text());
    assert_eq!(b.path(), "/login");
    for e in b.errors() {
        assert!(
            e.contains("/api/v1/login") && ["400", "401", "429"].iter().any(|c| e.contains(&format!("status of {c}"))),
            "unexpected browser error: {e}"
        );
    }
}

/// The Playground's tweaks editor overrides component values for a chat, as `/run`'s tweaks do:
/// the stored flow knows no model provider, the tweaks point it at the mock one.
#[test]
fn browser_playground_tweaks_editor_overrides_component_values() {
    let Some(_one) = browser_session() else { return };
    let mock = crate::mock_llm::MockLlm::start();
    let s = TestServer::start();
    let admin = s.admin_token();
    let id = upload_flow(&s, &admin, "plain", "basic_prompting__lf1.13.0.json");
    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.goto(&format!("/playground/{id}"));
    b.wait_text("No messages in this session yet");
    // Not JSON: refused before anything runs.
    b.rt.block_on(b.find("//summary[normalize-space()='Tweaks']").click()).unwrap();
    b.type_into("Tweaks (JSON)", "{not json");
    b.type_into("Message", "hi");
    b.click("Send");
    b.wait_text("Tweaks are not valid JSON");
    let tweaks = json!({"LanguageModelComponent-FLeYF": {
        "provider": "Ollama", "model_name": "split", "ollama_base_url": mock.url(), "stream": true}});
    b.type_into("Tweaks (JSON)", &tweaks.to_string());
    b.click("Send");
    b.wait_text(&format!("{}hi", crate::mock_llm::REPLY_PREFIX));
    assert_eq!(mock.requests().len(), 1);
    // The stored flow is unchanged.
    let stored = s.get(&format!("/api/v1/flows/{id}"), Auth::Bearer(&admin)).text;
    assert!(!stored.contains(&mock.url()), "the tweaks were saved into the flow");
    b.assert_no_errors();
}

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";

impl Browser {
    /// Types into whatever has the focus (WebDriver key codes for Tab, Enter, Escape).
    fn keys(&self, keys: &str) {
        self.rt.block_on(async { self.c().active_element().await.unwrap().send_keys(keys).await.unwrap() });
    }

    fn focused_text(&self) -> String {
        self.rt.block_on(async { self.c().active_element().await.unwrap().text().await.unwrap() })
    }
}

/// The console without a mouse: sign in from the keyboard, reach Settings through the profile
/// menu with Tab and Enter, close a dialog with Escape.
#[test]
fn browser_the_console_works_from_the_keyboard() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start();
    let b = Browser::start(&s.url);
    b.goto("/login");
    b.wait_text("Sign in to flowactor");
    // The username field has the focus.
    b.keys(&format!("{ADMIN}{TAB}{ADMIN_PASSWORD}{ENTER}"));
    b.wait_path("/flows");
    b.wait_text("No flows yet");
    b.keys(TAB);
    assert_eq!(b.focused_text(), "Skip to content");
    // Brand, Flows, Settings, Admin Page, then the profile icon.
    b.keys(&TAB.repeat(5));
    let label = b.rt.block_on(async { b.c().active_element().await.unwrap().attr("aria-label").await.unwrap() });
    assert_eq!(label.as_deref(), Some("Profile"));
    b.keys(ENTER);
    assert_eq!(b.focused_text(), "Settings");
    b.keys(ENTER);
    b.wait_path("/settings");
    b.goto("/settings/api-keys");
    b.click("Add New");
    b.find("//dialog[@open]");
    b.keys(ESCAPE);
    let deadline = Instant::now() + WAIT;
    while count(&b, "//dialog[@open]") > 0 {
        assert!(Instant::now() < deadline, "Escape did not close the dialog");
        std::thread::sleep(Duration::from_millis(50));
    }
    b.assert_no_errors();
}

/// The Admin Page's table: paging, search, deactivate/activate, reset password, delete with
/// confirmation, each checked through the API.
#[test]
fn browser_admin_page_pages_searches_and_manages_users() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start();
    let admin = s.admin_token();
    for i in 0..12 {
        let body = json!({"username": format!("user-{i:02}"), "password": "initial-password-1", "is_active": true});
        s.post("/api/v1/users/", Auth::Bearer(&admin), &body).expect(201);
    }
    let find_user = |name: &str| {
        let r = s.get(&format!("/api/v1/users/?search={name}"), Auth::Bearer(&admin));
        r.json["users"].as_array().unwrap().iter().find(|u| u["username"] == name).cloned()
    };
    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.goto("/admin");
    b.wait_text("1–10 of 13");
    b.click("Next");
    b.wait_text("11–13 of 13");
    b.click("Previous");
    b.wait_text("1–10 of 13");
    b.type_into("Search users", "user-07");
    b.wait_text("1–1 of 1");

    b.click("Deactivate user-07");
    b.wait_text("User deactivated");
    assert_eq!(find_user("user-07").unwrap()["is_active"], json!(false));
    b.click("Activate user-07");
    b.wait_text("User activated");
    assert_eq!(find_user("user-07").unwrap()["is_active"], json!(true));

    b.click("Reset password of user-07");
    b.type_into("New Password", "replaced-password-1");
    b.type_into("Confirm Password", "replaced-password-1");
    let reset = b.find("//dialog//button[normalize-space()='Reset Password']");
    b.rt.block_on(reset.click()).unwrap();
    b.wait_text("Password reset");
    s.login("user-07", "replaced-password-1").expect(200);
    s.login("user-07", "initial-password-1").expect(401);

    b.click("Delete user-07");
    b.wait_text("This can't be undone");
    let confirm = b.find("//dialog//button[normalize-space()='Delete']");
    b.rt.block_on(confirm.click()).unwrap();
    b.wait_text("No users found.");
    assert!(find_user("user-07").is_none());
    b.assert_no_errors();
}

/// Settings → Global Variables (a Credential's value is never shown, a Generic one is) and
/// Langflow API Keys → Rotate with a grace period (both keys work meanwhile).
#[test]
fn browser_global_variables_and_key_rotation() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start();
    let admin = s.admin_token();
    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.goto("/settings");
    b.click("Global Variables");
    b.wait_path("/settings/global-variables");
    b.wait_text("No global variables yet");
    b.click("Add New");
    b.type_into("Variable Name", "OPENAI_API_KEY");
    b.type_into("Value", "sk-very-secret-value");
    b.click("Save Variable");
    b.wait_text("OPENAI_API_KEY");
    b.click("Add New");
    b.type_into("Variable Name", "REGION");
    let kind = b.input("Type");
    b.rt.block_on(kind.select_by_value("Generic")).unwrap();
    b.type_into("Value", "eu-west-1");
    b.click("Save Variable");
    b.wait_text("eu-west-1");
    let page = b.text();
    assert!(page.contains("Credential") && page.contains("Generic"), "{page}");
    assert!(!page.contains("sk-very-secret-value"), "a Credential value is displayed: {page}");
    let vars = s.get("/api/v1/variables/", Auth::Bearer(&admin)).json;
    assert_eq!(vars.as_array().map(Vec::len), Some(2), "{vars}");

    let (_, old_key) = s.api_key(&admin, "to rotate");
    b.goto("/settings/api-keys");
    b.click("Rotate to rotate");
    b.type_into("Grace period (seconds)", "300");
    let rotate = b.find("//dialog//button[normalize-space()='Rotate']");
    b.rt.block_on(rotate.click()).unwrap();
    b.wait_text("you won't be able to view it again");
    let new_key = b.value(&b.find("//input[@aria-label='API key']"));
    assert!(new_key.starts_with("sk-") && new_key != old_key);
    b.click("Done");
    s.get("/api/v1/users/whoami", Auth::Key(&new_key)).expect(200);
    s.get("/api/v1/users/whoami", Auth::Key(&old_key)).expect(200);
    b.assert_no_errors();
}

/// Flows per project: choosing a project lists only its flows, and a file dropped on the import
/// area lands in the chosen project.
#[test]
fn browser_flows_per_project_and_drag_and_drop_import() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start();
    let admin = s.admin_token();
    upload_flow(&s, &admin, "in the default project", "chat_echo__lf1.13.0.json");
    let r = s.post("/api/v1/projects/", Auth::Bearer(&admin), &json!({"name": "Research", "description": ""}));
    r.expect(201);
    let project = r.json["id"].as_str().unwrap().to_owned();
    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.wait_text("in the default project");
    let select = b.input("Project");
    b.rt.block_on(select.select_by_value(&project)).unwrap();
    b.wait_text("No flows yet");
    // Drop a Langflow file on the import area, as a file dragged from the desktop arrives.
    let mut flow = fixture("prompt__lf1.13.0.json");
    flow["name"] = json!("dropped flow");
    let script = "const [text] = arguments;
        const dt = new DataTransfer();
        dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
        const zone = document.getElementById('drop-zone');
        zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));";
    b.rt.block_on(b.c().execute(script, vec![json!(flow.to_string())])).unwrap();
    b.wait_text("dropped flow");
    assert!(!b.text().contains("in the default project"), "{}", b.text());
    let in_project = s.get(&format!("/api/v1/flows/?folder_id={project}"), Auth::Bearer(&admin)).json;
    let names: Vec<&str> = in_project.as_array().unwrap().iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names, ["dropped flow"]);
    b.assert_no_errors();
}

#[test]
fn pages_tell_the_script_when_an_expired_session_can_be_renewed() {
    let s = TestServer::start();
    let login = s.login(ADMIN, ADMIN_PASSWORD);
    login.expect(200);
    let refresh = format!("refresh_token_lf={}", login.json["refresh_token"].as_str().unwrap());
    // Only the refresh cookie left (the access cookie expired): the console renews the session.
    let r = s.get("/", Auth::Cookie(&refresh));
    assert_eq!(r.header("location"), Some("/flows"));
    let page = s.get("/admin", Auth::Cookie(&refresh));
    page.expect(200);
    assert!(page.text.contains("data-refresh=\"true\""), "{}", page.text);
    // A forged refresh cookie renews nothing.
    let forged = s.get("/admin", Auth::Cookie("refresh_token_lf=forged"));
    assert_eq!(forged.header("location"), Some("/login"));
    assert!(s.get("/flows", Auth::Cookie("refresh_token_lf=forged")).text.contains("data-refresh=\"false\""));
}

/// An access token that expired while the refresh token is valid: the page renews the session
/// instead of sending the user back to the login page.
#[test]
fn browser_an_expired_access_token_is_renewed_in_place() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start_with(&[("LANGFLOW_ACCESS_TOKEN_EXPIRE_SECONDS", "2")]);
    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    std::thread::sleep(Duration::from_secs(3));
    b.goto("/settings/api-keys");
    b.wait_text("No API keys yet");
    assert_eq!(b.path(), "/settings/api-keys");
    b.assert_no_errors();
}
