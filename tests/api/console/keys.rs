//! The keys page in the browser: each key's totals, last use, last client address and access in
//! the list, the usage dialog with per-day counts and the recent uses, and a create dialog that
//! limits a key's scopes, flows and rate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Auth, TestServer, ADMIN, ADMIN_PASSWORD};

use super::browser::*;

#[test]
fn browser_keys_page_shows_each_keys_usage_and_its_recent_uses() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start();
    let admin = s.admin_token();
    let (_, key) = s.api_key(&admin, "audited key");
    let missing = uuid::Uuid::new_v4();
    for _ in 0..3 {
        s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    }
    s.get(&format!("/api/v1/flows/{missing}"), Auth::Key(&key)).expect(404);

    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.goto("/settings/api-keys");
    b.wait_text("audited key");
    // The list: total uses and the last client address in the key's row.
    let row = "//tr[td[normalize-space()='audited key']]";
    b.find(&format!("{row}/td[normalize-space()='4']"));
    b.find(&format!("{row}/td[normalize-space()='127.0.0.1']"));
    b.find("//th[normalize-space()='Last IP']");
    // A key created with only a name is Langflow's full-privilege key.
    b.find("//th[normalize-space()='Access']");
    b.find(&format!("{row}/td[normalize-space()='Full access']"));

    b.click("Usage of audited key");
    b.wait_text("Uses per day (UTC)");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    b.find(&format!("//dialog//tr[td[normalize-space()='{today}']]/td[normalize-space()='4']"));
    b.wait_text("Recent uses (last 4)");
    // Newest first: the 404 on the flow route, shown by its pattern, never the raw path.
    b.find("//dialog//tbody/tr[1][td[normalize-space()='/api/v1/flows/{flow_id}']][td[normalize-space()='404']]");
    assert_eq!(count(&b, "//dialog//td[normalize-space()='/api/v1/users/whoami']"), 3);
    assert!(!b.text().contains(&missing.to_string()));
    b.click("Close");
    assert_eq!(count(&b, "//dialog"), 0);
    b.assert_no_errors();
}

#[test]
fn browser_create_dialog_makes_a_scoped_flow_limited_rate_limited_key() {
    let Some(_one) = browser_session() else { return };
    let s = TestServer::start();
    let admin = s.admin_token();
    let flow = upload_flow(&s, &admin, "only this one", "chat_echo__lf1.13.0.json");
    let b = Browser::start(&s.url);
    b.sign_in(ADMIN, ADMIN_PASSWORD);
    b.goto("/settings/api-keys");
    b.wait_text("No API keys yet");
    b.click("Add New");
    b.type_into("Name", "chatbot backend");
    assert!(b.checked("Full access"));
    b.set_checked("Full access", false);
    b.set_checked("run: run and stream flows, webhooks", true);
    let option = b.find("//dialog//option[normalize-space()='only this one']");
    b.rt.block_on(option.click()).unwrap();
    b.type_into("Requests per minute (optional)", "30");
    b.click("Create API Key");
    b.wait_text("you won't be able to view it again");
    let key = b.value(&b.find("//input[@aria-label='API key']"));
    b.click("Done");
    b.wait_text("chatbot backend");

    let listed = s.get("/api/v1/api_key/", Auth::Bearer(&admin));
    let item = &listed.json["api_keys"][0];
    assert_eq!(item["scopes"], serde_json::json!(["run"]), "{}", listed.text);
    assert_eq!(item["flow_ids"], serde_json::json!([flow]));
    assert_eq!(item["rate_limit_per_minute"], 30);
    // The list shows the restrictions in its Access column.
    b.find("//th[normalize-space()='Access']");
    b.find(&format!(
        "//tr[td[normalize-space()='chatbot backend']]/td[normalize-space()='run · flows: {flow} · 30/min']"
    ));
    // And the key really is limited: it runs its flow, and may not list flows.
    s.post(&format!("/api/v1/run/{flow}"), Auth::Key(&key), &serde_json::json!({"input_value": "hi"})).expect(200);
    s.get("/api/v1/flows/", Auth::Key(&key)).expect(403);
    b.assert_no_errors();
}
