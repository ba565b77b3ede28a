//! The keys page's usage audit, in the browser: each key's totals, last use and last client
//! address in the list, and the usage dialog with per-day counts and the recent uses.

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
    // No key reports scopes here, so there is no Access column.
    assert_eq!(count(&b, "//th[normalize-space()='Access']"), 0);

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
