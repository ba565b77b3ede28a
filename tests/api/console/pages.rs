//! Every page at two sizes, sign-up, tweaks, the keyboard, the admin table, variables and keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::common::{fixture, Auth, TestServer, ADMIN, ADMIN_PASSWORD};
use serde_json::{json, Value};

use super::browser::*;

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
