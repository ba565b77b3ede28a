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

use crate::common::{Auth, TestServer};

mod browser;
mod journeys;
mod keys;
mod pages;

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
    // Every file of `console/` but the shell itself is linked from the shell, once.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/console"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "index.html")
        .count();
    assert_eq!(assets.len(), files, "{html}");
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
