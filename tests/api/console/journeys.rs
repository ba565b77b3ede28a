//! The documentation journeys and the flow pages, walked in the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::{fixture, Auth, TestServer, ADMIN, ADMIN_PASSWORD};
use fantoccini::Locator;
use serde_json::{json, Value};

use super::browser::*;

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
