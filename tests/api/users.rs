//! `/api/v1/users` rules and the two-user isolation matrix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Auth, TestServer, ADMIN};
use serde_json::json;

#[test]
fn signup_creates_inactive_ordinary_users_and_ignores_privilege_fields() {
    let s = TestServer::start();
    let r = s.post(
        "/api/v1/users/",
        Auth::None,
        &json!({"username": "mallory", "password": "pw-1", "is_superuser": true, "is_active": true}),
    );
    r.expect(201);
    assert_eq!(r.json["is_superuser"], false);
    assert_eq!(r.json["is_active"], false);
    assert!(r.json.get("password").is_none());
    assert_eq!(r.header("location"), Some(format!("/api/v1/users/{}", r.json["id"].as_str().unwrap()).as_str()));
    for key in [
        "id",
        "username",
        "profile_image",
        "store_api_key",
        "is_active",
        "is_superuser",
        "create_at",
        "updated_at",
        "last_login_at",
        "optins",
    ] {
        assert!(r.json.get(key).is_some(), "{key}");
    }
    s.post("/api/v1/users/", Auth::None, &json!({"username": "MALLORY", "password": "x"}))
        .expect_detail(400, "This username is unavailable.");
    s.post("/api/v1/users/", Auth::None, &json!({"username": "", "password": "x"})).expect(400);
    s.post("/api/v1/users/", Auth::None, &json!({"username": "a".repeat(65), "password": "x"})).expect(400);
    s.post("/api/v1/users/", Auth::None, &json!({"username": "ok", "password": "x".repeat(4097)})).expect(400);
    s.post("/api/v1/users/", Auth::None, &json!({"username": "ok"})).expect(422);
    let active = TestServer::start_with(&[("LANGFLOW_NEW_USER_IS_ACTIVE", "true")]);
    active.post("/api/v1/users/", Auth::None, &json!({"username": "u", "password": "pw"})).expect(201);
    active.token("u", "pw");
}

#[test]
fn signup_can_be_closed_but_superusers_still_create_users() {
    let s = TestServer::start_with(&[("LANGFLOW_ENABLE_SIGNUP", "false")]);
    s.post("/api/v1/users/", Auth::None, &json!({"username": "x", "password": "y"}))
        .expect_detail(403, "Public user registration is disabled.");
    let (_, token) = s.user("plain");
    s.post("/api/v1/users/", Auth::Bearer(&token), &json!({"username": "x", "password": "y"}))
        .expect_detail(403, "Public user registration is disabled.");
    let admin = s.admin_token();
    let r = s.post(
        "/api/v1/users/",
        Auth::Bearer(&admin),
        &json!({"username": "boss2", "password": "pw", "is_superuser": true, "is_active": true}),
    );
    r.expect(201);
    assert_eq!(r.json["is_superuser"], true);
    let boss = s.token("boss2", "pw");
    s.get("/api/v1/users/", Auth::Bearer(&boss)).expect(200);
}

#[test]
fn only_superusers_list_and_delete_users() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let (alice_id, alice) = s.user("alice");
    let (bob_id, _) = s.user("bob");
    s.user("Alicia");
    s.get("/api/v1/users/", Auth::Bearer(&alice)).expect_detail(403, "The user doesn't have enough privileges");
    // Langflow 1.13: a non-superuser deleting a user (another or itself) is "Permission denied".
    s.delete(&format!("/api/v1/users/{bob_id}"), Auth::Bearer(&alice)).expect_detail(403, "Permission denied");
    s.delete(&format!("/api/v1/users/{alice_id}"), Auth::Bearer(&alice)).expect_detail(403, "Permission denied");
    s.get("/api/v1/users/whoami", Auth::Bearer(&alice)).expect(200);
    let all = s.get("/api/v1/users/", Auth::Bearer(&admin));
    assert_eq!(all.json["total_count"], 4);
    assert_eq!(all.json["users"].as_array().unwrap().len(), 4);
    let found = s.get("/api/v1/users/?search=ALI&limit=1", Auth::Bearer(&admin));
    assert_eq!(found.json["total_count"], 2);
    assert_eq!(found.json["users"].as_array().unwrap().len(), 1);
    let page2 = s.get("/api/v1/users/?search=ali&limit=1&skip=1", Auth::Bearer(&admin));
    assert_ne!(page2.json["users"][0]["id"], found.json["users"][0]["id"]);
    s.get("/api/v1/users/?limit=0", Auth::Bearer(&admin)).expect(422);
    s.get("/api/v1/users/?limit=201", Auth::Bearer(&admin)).expect(422);
    s.get("/api/v1/users/?skip=-1", Auth::Bearer(&admin)).expect(422);
    s.get("/api/v1/users/?limit=abc", Auth::Bearer(&admin)).expect(422);
}

#[test]
fn patch_rules_follow_langflow() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let admin_id = s.get("/api/v1/users/whoami", Auth::Bearer(&admin)).json["id"].as_str().unwrap().to_owned();
    let (a_id, a) = s.user("anna");
    let (b_id, b) = s.user("ben");
    let patch = |id: &str, token: &str, body| s.patch(&format!("/api/v1/users/{id}"), Auth::Bearer(token), &body);
    patch(&a_id, &a, json!({"is_active": false})).expect_detail(403, "You can't deactivate your own user account");
    patch(&admin_id, &admin, json!({"is_active": false}))
        .expect_detail(403, "You can't deactivate your own user account");
    patch(&a_id, &a, json!({"is_superuser": true}))
        .expect_detail(403, "Only a superuser may promote or demote platform superusers");
    assert_eq!(s.get("/api/v1/users/whoami", Auth::Bearer(&a)).json["is_superuser"], false);
    patch(&b_id, &a, json!({"username": "hijack"})).expect_detail(403, "Permission denied");
    patch(&a_id, &a, json!({"password": "new"})).expect_detail(400, "You can't change your password here");
    s.token("anna", "anna-password");
    let r = patch(&a_id, &a, json!({"username": "anna2", "profile_image": "Space/046-rocket.svg"}));
    r.expect(200);
    assert_eq!(r.json["username"], "anna2");
    patch(&a_id, &a, json!({"username": "BEN"})).expect_detail(400, "This username is unavailable.");
    patch("wrong_id", &a, json!({})).expect(422);
    let bad = patch("wrong_id", &a, json!({}));
    assert_eq!(bad.json["detail"][0]["loc"], json!(["path", "user_id"]));
    assert_eq!(bad.json["detail"][0]["type"], "uuid_parsing");
    patch(&uuid::Uuid::new_v4().to_string(), &admin, json!({"username": "z"})).expect_detail(404, "User not found");
    // A superuser may set others' passwords and (de)activate them; effects are immediate.
    let (_, key) = s.api_key(&b, "ben-key");
    patch(&b_id, &admin, json!({"password": "reset-by-admin"})).expect(200);
    s.token("ben", "reset-by-admin");
    patch(&b_id, &admin, json!({"is_active": false})).expect(200);
    s.get("/api/v1/users/whoami", Auth::Bearer(&b)).expect_detail(401, "User account is inactive");
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(403);
    patch(&b_id, &admin, json!({"is_active": true})).expect(200);
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
}

#[test]
fn reset_password_checks_current_and_refuses_api_keys() {
    let s = TestServer::start();
    let (id, token) = s.user("rita");
    let (other_id, _) = s.user("other");
    let (_, key) = s.api_key(&token, "k");
    let url = format!("/api/v1/users/{id}/reset-password");
    s.patch(&url, Auth::Key(&key), &json!({"current_password": "rita-password", "password": "n"}))
        .expect_detail(403, "Sign in interactively to change your password");
    s.patch(
        &format!("/api/v1/users/{other_id}/reset-password"),
        Auth::Bearer(&token),
        &json!({"current_password": "x", "password": "y"}),
    )
    .expect_detail(404, "You can't change another user's password");
    s.patch(&url, Auth::Bearer(&token), &json!({"current_password": "rita-password"}))
        .expect_detail(400, "Password is required for password reset");
    s.patch(&url, Auth::Bearer(&token), &json!({"current_password": "wrong", "password": "new-pass"}))
        .expect_detail(400, "Current password is incorrect");
    s.patch(&url, Auth::Bearer(&token), &json!({"current_password": "rita-password", "password": "rita-password"}))
        .expect_detail(400, "You can't use your current password");
    s.patch(&url, Auth::Bearer(&token), &json!({"current_password": "rita-password", "password": "new-pass"}))
        .expect(200);
    s.token("rita", "new-pass");
    s.login("rita", "rita-password").expect(401);
}

#[test]
fn deleting_a_user_cascades_to_keys_and_variables() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let admin_id = s.get("/api/v1/users/whoami", Auth::Bearer(&admin)).json["id"].as_str().unwrap().to_owned();
    let (id, token) = s.user("doomed");
    let (_, key) = s.api_key(&token, "k");
    s.post("/api/v1/variables/", Auth::Bearer(&token), &json!({"name": "V", "value": "x", "type": "Generic"}))
        .expect(201);
    s.delete(&format!("/api/v1/users/{admin_id}"), Auth::Bearer(&admin))
        .expect_detail(400, "You can't delete your own user account");
    let r = s.delete(&format!("/api/v1/users/{id}"), Auth::Bearer(&admin));
    r.expect_detail(202, "User deletion started");
    assert!(r.json["request_id"].is_string());
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect_detail(403, "Invalid API key");
    s.get("/api/v1/users/whoami", Auth::Bearer(&token)).expect_detail(401, "Token authentication failed");
    s.delete(&format!("/api/v1/users/{id}"), Auth::Bearer(&admin)).expect_detail(404, "User not found");
    s.delete("/api/v1/users/wrong_id", Auth::Bearer(&admin)).expect(422);
    // The name is free again; nothing of the old account comes back.
    s.post("/api/v1/users/", Auth::Bearer(&admin), &json!({"username": "doomed", "password": "pw", "is_active": true}))
        .expect(201);
    let fresh = s.token("doomed", "pw");
    assert_eq!(s.get("/api/v1/variables/", Auth::Bearer(&fresh)).json, json!([]));
    assert_eq!(s.get("/api/v1/api_key/", Auth::Bearer(&fresh)).json["total_count"], 0);
}

#[test]
fn users_read_only_themselves() {
    let s = TestServer::start();
    let (a_id, a) = s.user("ua");
    let (b_id, _) = s.user("ub");
    assert_eq!(s.get("/api/v1/users/whoami", Auth::Bearer(&a)).json["id"], a_id.as_str());
    s.get(&format!("/api/v1/users/{a_id}"), Auth::Bearer(&a)).expect(200);
    s.get(&format!("/api/v1/users/{b_id}"), Auth::Bearer(&a)).expect_detail(404, "User not found");
    let admin = s.admin_token();
    assert_eq!(s.get(&format!("/api/v1/users/{b_id}"), Auth::Bearer(&admin)).json["username"], "ub");
    assert_eq!(s.get("/api/v1/users/whoami", Auth::Bearer(&admin)).json["username"], ADMIN);
}
