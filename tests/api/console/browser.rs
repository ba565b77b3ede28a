//! The browser harness: chromedriver + headless Chromium, one at a time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::{fixture, Auth, TestServer};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// One browser at a time: the machine is small and each test starts its own.
pub(crate) static BROWSER_LOCK: Mutex<()> = Mutex::new(());

/// One browser test at a time; `None` (the test returns) where no browser can run outside CI.
pub(crate) fn browser_session() -> Option<std::sync::MutexGuard<'static, ()>> {
    browser_available().then(|| BROWSER_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const WAIT: Duration = Duration::from_secs(15);

/// `false` (after a loud message) when no browser is installed outside CI; panics in CI.
pub(crate) fn browser_available() -> bool {
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

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver + headless Chromium with a fresh profile, driven over WebDriver.
pub(crate) struct Browser {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) client: Option<Client>,
    pub(crate) driver: Child,
    pub(crate) driver_url: String,
    pub(crate) session: String,
    pub(crate) base: String,
    /// Where downloads (flow exports) land.
    pub(crate) downloads: tempfile::TempDir,
    pub(crate) _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) fn start(base: &str) -> Self {
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

    pub(crate) fn c(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// chromedriver's own endpoints (logs, DevTools commands) under this session.
    pub(crate) fn driver_cmd(&self, path: &str, body: &Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.driver_url, self.session);
        ureq::post(&url).send_json(body.clone()).expect(path).into_json().unwrap()
    }

    /// The page's viewport (device metrics, so media queries see a phone's width).
    pub(crate) fn viewport(&mut self, width: u32, height: u32) {
        self.driver_cmd(
            "goog/cdp/execute",
            &json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}}),
        );
    }

    /// Browser log entries at error level since the last call.
    pub(crate) fn errors(&self) -> Vec<String> {
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
    pub(crate) fn assert_no_errors(&self) {
        let errors = self.errors();
        assert!(errors.is_empty(), "JavaScript errors: {errors:#?}");
    }

    pub(crate) fn goto(&self, path: &str) {
        self.rt.block_on(self.c().goto(&format!("{}{path}", self.base))).expect("goto");
    }

    pub(crate) fn path(&self) -> String {
        self.rt.block_on(self.c().current_url()).expect("url").path().to_owned()
    }

    pub(crate) fn wait_path(&self, path: &str) {
        let deadline = Instant::now() + WAIT;
        while self.path() != path {
            assert!(Instant::now() < deadline, "still at {} instead of {path}", self.path());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first visible element `xpath` matches, waiting for it.
    pub(crate) fn find(&self, xpath: &str) -> Element {
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
    pub(crate) fn click(&self, words: &str) {
        let xpath = format!("//*[self::button or self::a][normalize-space()='{words}' or @aria-label='{words}']");
        let el = self.find(&xpath);
        self.rt.block_on(el.click()).expect("click");
    }

    /// The input a `<label>` with these words names.
    pub(crate) fn input(&self, label: &str) -> Element {
        let label_el = self.find(&format!("//label[normalize-space()='{label}']"));
        let id = self.rt.block_on(label_el.attr("for")).unwrap();
        match id {
            Some(id) => self.find(&format!("//*[@id='{id}']")),
            None => self.find(&format!("//label[normalize-space()='{label}']//input")),
        }
    }

    pub(crate) fn type_into(&self, label: &str, text: &str) {
        let el = self.input(label);
        self.rt.block_on(async {
            el.clear().await.unwrap();
            el.send_keys(text).await.unwrap();
        });
    }

    pub(crate) fn checked(&self, label: &str) -> bool {
        let el = self.input(label);
        self.rt.block_on(el.prop("checked")).unwrap().as_deref() == Some("true")
    }

    /// Clicks a checkbox's label until it has the wanted state.
    pub(crate) fn set_checked(&self, label: &str, on: bool) {
        if self.checked(label) != on {
            let el = self.find(&format!("//label[normalize-space()='{label}']"));
            self.rt.block_on(el.click()).unwrap();
        }
        assert_eq!(self.checked(label), on, "{label}");
    }

    pub(crate) fn value(&self, el: &Element) -> String {
        self.rt.block_on(el.prop("value")).unwrap().unwrap_or_default()
    }

    pub(crate) fn text(&self) -> String {
        self.rt.block_on(async { self.c().find(Locator::Css("body")).await.unwrap().text().await.unwrap() })
    }

    pub(crate) fn wait_text(&self, words: &str) {
        let deadline = Instant::now() + WAIT;
        while !self.text().contains(words) {
            assert!(Instant::now() < deadline, "page never showed {words:?}; it shows:\n{}", self.text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn sign_in(&self, username: &str, password: &str) {
        self.goto("/login");
        self.type_into("Username", username);
        self.type_into("Password", password);
        self.click("Sign In");
        self.wait_path("/flows");
    }

    /// A PNG of the page, written under `docs/screenshots/` with FLOWACTOR_UPDATE_SCREENSHOTS=1.
    pub(crate) fn screenshot(&self, name: &str) -> Vec<u8> {
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

pub(crate) fn upload_flow(s: &TestServer, token: &str, name: &str, file: &str) -> String {
    let mut flow = fixture(file);
    flow["name"] = json!(name);
    let r = s.post("/api/v1/flows/", Auth::Bearer(token), &flow);
    r.expect(201);
    r.json["id"].as_str().unwrap().to_owned()
}

/// A flow whose Language Model streams its answer from the mock provider, slowly.
pub(crate) fn streaming_flow(mock: &crate::mock_llm::MockLlm) -> Value {
    crate::common::basic_prompting_on_mock(&mock.url(), "slow")
}

pub(crate) fn count(b: &Browser, xpath: &str) -> usize {
    b.rt.block_on(b.c().find_all(Locator::XPath(xpath))).unwrap().len()
}
