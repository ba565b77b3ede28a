//! PostgreSQL (`LANGFLOW_DATABASE_URL`): several instances on one database, start-up refusal
//! of other schemes, `flowactor migrate`. The tests that need a server skip (with a note) unless
//! `FLOWACTOR_TEST_DATABASE_URL` names a cluster (`scripts/install-postgres.sh` starts one).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Auth, TestServer, ADMIN, ADMIN_PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_flowactor");
const SECRET: &str = "a-shared-secret-for-every-instance-0123456789";

/// Two instances (own config dirs, one database, one secret), A first so it bootstraps the
/// superuser.
fn two_instances(test: &str) -> Option<(TestServer, TestServer)> {
    let url = flowactor_actors::pg::test_database(test)?;
    let env = [("LANGFLOW_DATABASE_URL", url.as_str()), ("LANGFLOW_SECRET_KEY", SECRET)];
    let a = TestServer::start_with(&env);
    let b = TestServer::start_with(&env);
    Some((a, b))
}

#[test]
fn pg_a_key_revoked_or_user_deactivated_on_one_instance_is_refused_by_the_other_at_once() {
    let Some((a, b)) =
        two_instances("pg_a_key_revoked_or_user_deactivated_on_one_instance_is_refused_by_the_other_at_once")
    else {
        return;
    };
    let (user_id, token) = a.user("carol");
    let (key_id, key) = a.api_key(&token, "ci");
    let (_, other_key) = a.api_key(&token, "other");
    // B knows the key, and answers it repeatedly (whatever it may cache).
    for _ in 0..20 {
        b.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    }
    b.get("/api/v1/users/whoami", Auth::Bearer(&token)).expect(200);
    let started = Instant::now();
    let mut requests = 0u32;
    while started.elapsed() < Duration::from_millis(300) {
        b.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
        requests += 1;
    }
    eprintln!(
        "authenticated requests through instance B: {:.0} µs each",
        started.elapsed().as_secs_f64() * 1e6 / f64::from(requests)
    );
    // Revoked through A: the very next request through B is refused.
    a.delete(&format!("/api/v1/api_key/{key_id}"), Auth::Bearer(&token)).expect(200);
    let r = b.get("/api/v1/users/whoami", Auth::Key(&key));
    assert!(matches!(r.status, 401 | 403), "revoked key accepted by B: {}", r.status);
    b.get("/api/v1/users/whoami", Auth::Key(&other_key)).expect(200);
    // Deactivated through A: B refuses the user's remaining key and token on the next request.
    let admin = a.admin_token();
    a.patch(&format!("/api/v1/users/{user_id}"), Auth::Bearer(&admin), &json!({"is_active": false})).expect(200);
    let r = b.get("/api/v1/users/whoami", Auth::Key(&other_key));
    assert!(matches!(r.status, 401 | 403), "deactivated user's key accepted by B: {}", r.status);
    let r = b.get("/api/v1/users/whoami", Auth::Bearer(&token));
    assert!(matches!(r.status, 401 | 403), "deactivated user's token accepted by B: {}", r.status);
}

#[test]
fn pg_concurrent_sign_ups_of_one_name_through_two_instances_have_exactly_one_winner() {
    let Some((a, b)) =
        two_instances("pg_concurrent_sign_ups_of_one_name_through_two_instances_have_exactly_one_winner")
    else {
        return;
    };
    let admin_a = a.admin_token();
    let admin_b = b.admin_token();
    for round in 0..10 {
        // Different case on each side: the names are one name to the database.
        let name = format!("Racer{round}");
        let one = |server: &TestServer, admin: &str, name: String| {
            server
                .post(
                    "/api/v1/users/",
                    Auth::Bearer(admin),
                    &json!({"username": name, "password": "pw-racer", "is_active": true}),
                )
                .status
        };
        let statuses = std::thread::scope(|s| {
            let ha = s.spawn(|| one(&a, &admin_a, name.clone()));
            let hb = s.spawn(|| one(&b, &admin_b, name.to_lowercase()));
            (ha.join().unwrap(), hb.join().unwrap())
        });
        let mut sorted = [statuses.0, statuses.1];
        sorted.sort_unstable();
        assert_eq!(sorted, [201, 400], "round {round}: {statuses:?}");
        let listed = a.get(&format!("/api/v1/users/?search={}", name.to_lowercase()), Auth::Bearer(&admin_a));
        listed.expect(200);
        let total = listed.json["total_count"].as_u64().unwrap();
        assert_eq!(total, 1, "{}", listed.json);
    }
    // Variable names are unique per user across instances too.
    let (_, token) = a.user("vars");
    let make = |server: &TestServer| {
        server
            .post(
                "/api/v1/variables/",
                Auth::Bearer(&token),
                &json!({"name": "SHARED", "value": "v", "type": "Generic", "default_fields": []}),
            )
            .status
    };
    let (sa, sb) = std::thread::scope(|s| {
        let ha = s.spawn(|| make(&a));
        let hb = s.spawn(|| make(&b));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    let mut sorted = [sa, sb];
    sorted.sort_unstable();
    assert_eq!(sorted[0], 201, "{sa} {sb}");
    assert_ne!(sorted[1], 201, "both instances created the variable: {sa} {sb}");
}

#[test]
fn pg_identity_survives_a_restart_and_is_seen_by_a_new_instance() {
    let Some(url) = flowactor_actors::pg::test_database("pg_identity_survives_a_restart_and_is_seen_by_a_new_instance")
    else {
        return;
    };
    let env = [("LANGFLOW_DATABASE_URL", url.as_str()), ("LANGFLOW_SECRET_KEY", SECRET)];
    let s = TestServer::start_with(&env);
    let (_, token) = s.user("dora");
    let (_, key) = s.api_key(&token, "persist");
    s.post(
        "/api/v1/variables/",
        Auth::Bearer(&token),
        &json!({"name": "OPENAI_API_KEY", "value": "sk-secret", "type": "Credential", "default_fields": []}),
    )
    .expect(201);
    let dir = s.stop();
    let s = TestServer::start_in(dir, &env);
    s.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    // A brand-new instance (its own empty config dir) sees the same users, keys and variables.
    let fresh = TestServer::start_with(&env);
    fresh.get("/api/v1/users/whoami", Auth::Key(&key)).expect(200);
    let token = fresh.token("dora", "dora-password");
    let vars = fresh.get("/api/v1/variables/", Auth::Bearer(&token));
    vars.expect(200);
    let names: Vec<&str> = vars.json.as_array().unwrap().iter().filter_map(|v| v["name"].as_str()).collect();
    assert!(names.contains(&"OPENAI_API_KEY"), "{names:?}");
    fresh.login(ADMIN, ADMIN_PASSWORD).expect(200);
}

fn run_binary(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("LANGFLOW_CONFIG_DIR", dir.path())
        .env("NO_COLOR", "1")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run flowactor");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn an_unsupported_database_url_refuses_start_naming_the_supported_schemes() {
    for url in ["sqlite:///./langflow.db", "mysql://127.0.0.1/langflow"] {
        let (ok, text) = run_binary(&["run", "--port", "0"], &[("LANGFLOW_DATABASE_URL", url)]);
        assert!(!ok, "started with {url}: {text}");
        assert!(text.contains("LANGFLOW_DATABASE_URL"), "{text}");
        assert!(text.contains("postgresql://") && text.contains("postgres://"), "{text}");
        assert!(!text.contains("listening on"), "{text}");
    }
    let (_, text) = run_binary(&["run", "--port", "0"], &[("LANGFLOW_DATABASE_URL", "sqlite:///./langflow.db")]);
    assert!(text.contains("SQLite is not supported"), "{text}");
}

#[test]
fn pg_migrate_applies_the_schema_once() {
    let Some(url) = flowactor_actors::pg::test_database("pg_migrate_applies_the_schema_once") else { return };
    let (ok, text) = run_binary(&["migrate"], &[("LANGFLOW_DATABASE_URL", &url)]);
    assert!(ok && text.contains("applied V1__identity"), "{text}");
    let (ok, text) = run_binary(&["migrate"], &[("LANGFLOW_DATABASE_URL", &url)]);
    assert!(ok && text.contains("up to date"), "{text}");
}

#[test]
fn an_unreachable_database_refuses_start_within_the_connect_timeout() {
    // A loopback port nothing listens on: bound and dropped, so the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgresql://flowactor@127.0.0.1:{port}/flowactor");
    let started = Instant::now();
    let (ok, text) =
        run_binary(&["run", "--port", "0"], &[("LANGFLOW_DATABASE_URL", &url), ("LANGFLOW_DB_CONNECT_TIMEOUT", "2")]);
    assert!(!ok, "{text}");
    assert!(text.contains("LANGFLOW_DATABASE_URL"), "{text}");
    assert!(!text.contains("listening on"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}
