//! Login, JWT, refresh, logout, session, auto-login and the 401/403 matrix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Auth, TestServer, ADMIN, ADMIN_PASSWORD};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;

fn secret(server: &TestServer) -> String {
    std::fs::read_to_string(server.dir.path().join("secret_key")).expect("secret file").trim().to_owned()
}

/// A token signed with the server's JWT key (derived from the secret, as the server does).
fn mint(server: &TestServer, claims: &serde_json::Value) -> String {
    let key = flowactor_actors::crypto::derive_jwt_key(&secret(server));
    encode(&Header::default(), claims, &EncodingKey::from_secret(&key)).expect("encode")
}

#[test]
fn login_returns_a_token_pair_and_safe_cookies() {
    let s = TestServer::start();
    let r = s.login(ADMIN, ADMIN_PASSWORD);
    r.expect(200);
    let mut keys: Vec<&str> = r.json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "refresh_token", "token_type"]);
    assert_eq!(r.json["token_type"], "bearer");
    let cookies = r.all("set-cookie");
    for name in ["access_token_lf=", "refresh_token_lf="] {
        let c = cookies.iter().find(|c| c.starts_with(name)).unwrap_or_else(|| panic!("{name} missing in {cookies:?}"));
        assert!(c.contains("HttpOnly"), "{c}");
        assert!(c.contains("SameSite=Lax"), "{c}");
        assert!(c.contains("Path=/"), "{c}");
        assert!(c.contains("Expires="), "{c}");
    }
    let token = r.json["access_token"].as_str().unwrap();
    s.get("/api/v1/users/whoami", Auth::Bearer(token)).expect(200);
    let cookie = format!("access_token_lf={token}");
    assert_eq!(s.get("/api/v1/users/whoami", Auth::Cookie(&cookie)).json["username"], ADMIN);
}

#[test]
fn wrong_credentials_are_one_generic_401() {
    let s = TestServer::start();
    for (user, pw) in [(ADMIN, "wrong"), ("nobody", "whatever"), (ADMIN, "langflow")] {
        let r = s.login(user, pw);
        r.expect_detail(401, "Incorrect username or password");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
    let r = s.post("/api/v1/login", Auth::None, &json!({"username": ADMIN, "password": ADMIN_PASSWORD}));
    r.expect(422);
    let r = s.form("/api/v1/login", &[("username", ADMIN)]);
    r.expect(422);
    assert_eq!(r.json["detail"][0]["loc"], json!(["body", "password"]));
}

#[test]
fn account_state_is_revealed_only_after_the_right_password() {
    let s = TestServer::start();
    s.post("/api/v1/users/", Auth::None, &json!({"username": "newbie", "password": "pw-123456"})).expect(201);
    s.login("newbie", "pw-123456").expect_detail(400, "Waiting for approval");
    s.login("newbie", "wrong").expect_detail(401, "Incorrect username or password");
    let admin = s.admin_token();
    let (id, token) = s.user("carol");
    s.patch(&format!("/api/v1/users/{id}"), Auth::Bearer(&admin), &json!({"is_active": false})).expect(200);
    s.login("carol", "carol-password").expect_detail(401, "Inactive user");
    s.login("carol", "nope").expect_detail(401, "Incorrect username or password");
    s.get("/api/v1/users/whoami", Auth::Bearer(&token)).expect_detail(401, "User account is inactive");
}

#[test]
fn jwt_failures_have_distinct_final_messages() {
    let s = TestServer::start();
    let (_, token) = s.user("dave");
    let (_, key) = s.api_key(&token, "k");
    let whoami = |auth| s.get("/api/v1/users/whoami", auth);
    whoami(Auth::Bearer("not-a-jwt")).expect_detail(401, "Invalid token");
    whoami(Auth::Bearer(&key)).expect_detail(401, "Invalid token");
    let refresh = s.login("dave", "dave-password").json["refresh_token"].as_str().unwrap().to_owned();
    whoami(Auth::Bearer(&refresh)).expect_detail(401, "Invalid token type");
    let me = whoami(Auth::Bearer(&token)).json["id"].as_str().unwrap().to_owned();
    let expired = mint(&s, &json!({"sub": me, "type": "access", "exp": 1}));
    whoami(Auth::Bearer(&expired)).expect_detail(401, "Token has expired");
    let no_type = mint(&s, &json!({"sub": me, "exp": 4_000_000_000_i64}));
    whoami(Auth::Bearer(&no_type)).expect_detail(401, "Invalid token payload");
    let ghost = mint(&s, &json!({"sub": uuid::Uuid::new_v4().to_string(), "type": "access", "exp": 4_000_000_000_i64}));
    whoami(Auth::Bearer(&ghost)).expect_detail(401, "Token authentication failed");
    // A bad token is final even with a good key alongside; an unknown user falls back to the key.
    let r = s.request("GET", "/api/v1/users/whoami", Auth::Key(&key), None, None);
    r.expect(200);
    let both = s.agent_get_with_both("/api/v1/users/whoami", "not-a-jwt", &key);
    assert_eq!(both, 401);
    assert_eq!(s.agent_get_with_both("/api/v1/users/whoami", &ghost, &key), 200);
    // Other secret → invalid.
    let forged = encode(
        &Header::default(),
        &json!({"sub": me, "type": "access", "exp": 4_000_000_000_i64}),
        &EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    whoami(Auth::Bearer(&forged)).expect_detail(401, "Invalid token");
}

#[test]
fn a_token_signed_with_the_raw_secret_key_is_refused() {
    let secret = "an-operator-chosen-secret-key-of-40-bytes";
    let s = TestServer::start_with(&[("LANGFLOW_SECRET_KEY", secret)]);
    let token = s.admin_token();
    let me = s.get("/api/v1/users/whoami", Auth::Bearer(&token));
    me.expect(200);
    let id = me.json["id"].as_str().unwrap();
    // Langflow signs with the raw secret: whoever learns it could mint a superuser token.
    let forged = encode(
        &Header::default(),
        &json!({"sub": id, "type": "access", "exp": 4_000_000_000_i64}),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    s.get("/api/v1/users/whoami", Auth::Bearer(&forged)).expect_detail(401, "Invalid token");
    let derived = encode(
        &Header::default(),
        &json!({"sub": id, "type": "access", "exp": 4_000_000_000_i64}),
        &EncodingKey::from_secret(&flowactor_actors::crypto::derive_jwt_key(secret)),
    )
    .unwrap();
    s.get("/api/v1/users/whoami", Auth::Bearer(&derived)).expect(200);
}

#[test]
fn missing_and_bad_credentials_are_403() {
    let s = TestServer::start();
    s.get("/api/v1/users/whoami", Auth::None).expect_detail(403, "No authentication credentials provided");
    s.get("/api/v1/users/whoami", Auth::Key("sk-invalid")).expect_detail(403, "Invalid API key");
    s.get("/api/v1/users/whoami", Auth::KeyQuery("sk-invalid")).expect_detail(403, "Invalid API key");
}

#[test]
fn refresh_reads_only_the_cookie() {
    let s = TestServer::start();
    let (id, _) = s.user("erin");
    let r = s.login("erin", "erin-password");
    let refresh = r.json["refresh_token"].as_str().unwrap().to_owned();
    let access = r.json["access_token"].as_str().unwrap().to_owned();
    s.request("POST", "/api/v1/refresh", Auth::Bearer(&refresh), None, None)
        .expect_detail(401, "Invalid refresh token");
    let cookie = format!("refresh_token_lf={refresh}");
    let ok = s.request("POST", "/api/v1/refresh", Auth::Cookie(&cookie), None, None);
    ok.expect(200);
    assert!(ok.all("set-cookie").iter().any(|c| c.starts_with("refresh_token_lf=")));
    s.get("/api/v1/users/whoami", Auth::Bearer(ok.json["access_token"].as_str().unwrap())).expect(200);
    let wrong = format!("refresh_token_lf={access}");
    s.request("POST", "/api/v1/refresh", Auth::Cookie(&wrong), None, None).expect_detail(401, "Invalid refresh token");
    let admin = s.admin_token();
    s.patch(&format!("/api/v1/users/{id}"), Auth::Bearer(&admin), &json!({"is_active": false})).expect(200);
    s.request("POST", "/api/v1/refresh", Auth::Cookie(&cookie), None, None)
        .expect_detail(401, "User account is inactive");
}

#[test]
fn logout_deletes_cookies_with_their_attributes_and_session_reports_state() {
    let s = TestServer::start();
    let r = s.request("POST", "/api/v1/logout", Auth::None, None, None);
    r.expect(200);
    assert_eq!(r.json["message"], "Logout successful");
    let cookies = r.all("set-cookie");
    for name in ["access_token_lf=", "refresh_token_lf="] {
        let c = cookies.iter().find(|c| c.starts_with(name)).expect("deletion cookie");
        assert!(
            c.contains("Max-Age=0") && c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/"),
            "{c}"
        );
    }
    let anon = s.get("/api/v1/session", Auth::None);
    anon.expect(200);
    assert_eq!(anon.json, json!({"authenticated": false, "user": null, "store_api_key": null}));
    let token = s.admin_token();
    let me = s.get("/api/v1/session", Auth::Bearer(&token));
    assert_eq!(me.json["authenticated"], true);
    assert_eq!(me.json["user"]["username"], ADMIN);
}

#[test]
fn auto_login_disabled_by_default() {
    let s = TestServer::start();
    let r = s.get("/api/v1/auto_login", Auth::None);
    r.expect(403);
    assert_eq!(r.json["detail"], json!({"message": "Auto login is disabled.", "auto_login": false}));
}

#[test]
fn auto_login_hands_out_superuser_tokens_and_skip_flag_admits_keyless_requests() {
    let s = TestServer::start_with(&[("LANGFLOW_AUTO_LOGIN", "true"), ("LANGFLOW_SUPERUSER_PASSWORD", "")]);
    let r = s.get("/api/v1/auto_login", Auth::None);
    r.expect(200);
    assert!(r.json["refresh_token"].is_string());
    let me = s.get("/api/v1/users/whoami", Auth::Bearer(r.json["access_token"].as_str().unwrap()));
    assert_eq!(me.json["is_superuser"], true);
    // 1.13: sign-up is closed under auto-login.
    s.post("/api/v1/users/", Auth::None, &json!({"username": "x", "password": "y"}))
        .expect_detail(403, "Public user registration is disabled.");
    s.get("/api/v1/users/whoami", Auth::None).expect_detail(403, "No authentication credentials provided");
    drop(s);
    let s = TestServer::start_with(&[("LANGFLOW_AUTO_LOGIN", "true"), ("LANGFLOW_SKIP_AUTH_AUTO_LOGIN", "true")]);
    assert_eq!(s.get("/api/v1/users/whoami", Auth::None).json["username"], ADMIN);
}

#[test]
fn login_is_rate_limited_per_ip() {
    let s = TestServer::start_with(&[("LANGFLOW_RATE_LIMIT_ENABLED", "true"), ("LANGFLOW_RATE_LIMIT_PER_MINUTE", "3")]);
    for _ in 0..3 {
        assert_ne!(s.login(ADMIN, "wrong").status, 429);
    }
    let r = s.login(ADMIN, ADMIN_PASSWORD);
    r.expect_detail(429, "Too many requests. Please try again later.");
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry));
    assert_eq!(r.json["retry_after"], retry.to_string());
}

#[test]
fn public_routes_answer_as_langflow() {
    let s = TestServer::start();
    assert_eq!(s.get("/health", Auth::None).json, json!({"status": "ok"}));
    assert_eq!(s.get("/health_check", Auth::None).json, json!({"status": "ok", "chat": "ok", "db": "ok"}));
    let v = s.get("/api/v1/version", Auth::None);
    assert_eq!(v.json["version"], "1.13.0");
    assert_eq!(v.json["package"], "Langflow");
    assert_eq!(s.get("/api/v1/config", Auth::None).json["type"], "public");
    let token = s.admin_token();
    let full = s.get("/api/v1/config", Auth::Bearer(&token));
    assert_eq!(full.json["type"], "full");
    assert_eq!(full.json["default_folder_name"], "Starter Project");
    // The secret is never served.
    let secret = secret(&s);
    for path in
        ["/api/v1/config", "/api/v1/files/profile_pictures/../secret_key", "/secret_key", "/api/v1/../secret_key"]
    {
        assert!(!s.get(path, Auth::Bearer(&token)).text.contains(&secret), "{path}");
    }
    s.get("/api/v1/nonexistent", Auth::Bearer(&token)).expect_detail(404, "Not Found");
}

#[test]
fn cors_never_combines_wildcard_with_credentials() {
    let s = TestServer::start();
    let r = s.agent_options("/api/v1/refresh", "https://evil.example");
    assert_ne!(r.0.as_deref(), Some("https://evil.example"));
    assert_ne!(r.1.as_deref(), Some("true"));
    drop(s);
    let s = TestServer::start_with(&[("LANGFLOW_CORS_ORIGINS", "https://app.example")]);
    let evil = s.agent_options("/api/v1/refresh", "https://evil.example");
    assert_eq!(evil.0, None);
    let good = s.agent_options("/api/v1/refresh", "https://app.example");
    assert_eq!(good.0.as_deref(), Some("https://app.example"));
    assert_eq!(good.1.as_deref(), Some("true"));
}

#[test]
fn secret_and_tokens_survive_a_restart() {
    let s = TestServer::start();
    let token = s.admin_token();
    let path = s.dir.path().join("secret_key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let dir = s.stop();
    let s = TestServer::start_in(dir, &[]);
    s.get("/api/v1/users/whoami", Auth::Bearer(&token)).expect(200);
}

#[test]
fn a_json_login_body_misses_both_form_fields() {
    let s = TestServer::start();
    let r = s.post("/api/v1/login", Auth::None, &json!({"username": ADMIN, "password": "x"}));
    r.expect(422);
    let locs: Vec<&serde_json::Value> = r.json["detail"].as_array().unwrap().iter().map(|d| &d["loc"]).collect();
    assert_eq!(locs, [&json!(["body", "username"]), &json!(["body", "password"])], "{}", r.text);
    assert!(r.json["detail"].as_array().unwrap().iter().all(|d| d["type"] == "missing"));
}

#[test]
fn the_legacy_password_refusal_costs_as_much_as_any_failed_login() {
    let s =
        TestServer::start_with(&[("LANGFLOW_SUPERUSER", "boss"), ("LANGFLOW_SUPERUSER_PASSWORD", "boss-password-1")]);
    let time = |user: &str, password: &str| {
        let started = std::time::Instant::now();
        s.login(user, password).expect_detail(401, "Incorrect username or password");
        started.elapsed()
    };
    // Warm up, then interleave the two kinds of attempts and compare medians (a ratio, not a
    // duration: a password check is tens of times slower than a string comparison).
    time("boss", "wrong");
    let (mut legacy, mut wrong) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        legacy.push(time("boss", "langflow"));
        wrong.push(time("boss", "not-the-password"));
    }
    legacy.sort();
    wrong.sort();
    let (legacy, wrong) = (legacy[3].as_secs_f64(), wrong[3].as_secs_f64());
    assert!(legacy > wrong * 0.4, "legacy refusal {legacy:.4}s vs failed login {wrong:.4}s");
}
