//! Storage reliability over real HTTP: concurrent writes of every kind (users, logins, API keys,
//! flows, chat messages, variables) never wedge the database, anonymous sign-ups are rate limited
//! per client address, and a full disk answers 507 to writes while reads keep working and the
//! server recovers when space returns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::{fixture, Auth, TestServer, ADMIN, ADMIN_PASSWORD};
use serde_json::json;

/// Runs `work` on its own thread; fails the test (without joining or stopping a wedged server)
/// when it has not finished within `limit`.
fn within<T: Send + 'static>(limit: Duration, what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what} failed"),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            eprintln!("{what} did not finish within {limit:?}: the server is wedged");
            // A wedged server never stops: end the whole test binary instead of hanging in Drop.
            std::process::exit(101);
        }
    }
}

#[test]
fn concurrent_signups_logins_keys_flows_and_runs_never_wedge_the_database() {
    const THREADS: usize = 128;
    const ROUNDS: usize = 5;
    let s = std::sync::Arc::new(TestServer::start());
    let admin = s.admin_token();
    let (_, key) = s.api_key(&admin, "stress");
    let echo = s.create_flow(Auth::Key(&key), &fixture("chat_echo__lf1.13.0.json"), "echo");
    let started = Instant::now();
    for round in 0..ROUNDS {
        let (s2, admin2, key2, echo2) = (s.clone(), admin.clone(), key.clone(), echo.clone());
        let failures = within(Duration::from_secs(120), &format!("round {round}"), move || {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..THREADS)
                    .map(|i| {
                        let (s, admin, key, echo) = (&s2, &admin2, &key2, &echo2);
                        scope.spawn(move || {
                            let name = format!("user-{round}-{i}");
                            let mut bad = Vec::new();
                            let r = s.post(
                                "/api/v1/users/",
                                Auth::None,
                                &json!({"username": name, "password": "a-long-password"}),
                            );
                            if r.status != 201 {
                                bad.push(format!("sign-up {name}: {} {}", r.status, r.text));
                            }
                            let r = match i % 5 {
                                0 => s.login(ADMIN, ADMIN_PASSWORD),
                                1 => s.post("/api/v1/api_key/", Auth::Bearer(admin), &json!({"name": name})),
                                2 => s.post(
                                    "/api/v1/flows/",
                                    Auth::Key(key),
                                    &json!({"name": name, "data": {"nodes": [], "edges": []}}),
                                ),
                                3 => s.post(
                                    &format!("/api/v1/run/{echo}"),
                                    Auth::Key(key),
                                    &json!({"input_value": name}),
                                ),
                                _ => s.post(
                                    "/api/v1/variables/",
                                    Auth::Key(key),
                                    &json!({"name": name, "value": "v", "type": "Credential", "default_fields": []}),
                                ),
                            };
                            if !(200..300).contains(&r.status) {
                                bad.push(format!("action {} of {name}: {} {}", i % 5, r.status, r.text));
                            }
                            bad
                        })
                    })
                    .collect();
                handles.into_iter().flat_map(|h| h.join().expect("client thread")).collect::<Vec<_>>()
            })
        });
        assert!(failures.is_empty(), "round {round}: {failures:#?}");
    }
    eprintln!("{ROUNDS} rounds of {THREADS} concurrent clients in {:?}", started.elapsed());
    // Everything acknowledged is there, and the server still stops and reopens its database.
    let r = s.get("/api/v1/users/?limit=1", Auth::Bearer(&admin));
    r.expect(200);
    assert_eq!(r.json["total_count"], json!(1 + THREADS * ROUNDS));
    let s = std::sync::Arc::into_inner(s).expect("sole owner");
    let dir = within(Duration::from_secs(60), "shutdown", move || s.stop());
    let s = TestServer::start_in(dir, &[]);
    let admin = s.admin_token();
    let r = s.get("/api/v1/users/?limit=1", Auth::Bearer(&admin));
    assert_eq!(r.json["total_count"], json!(1 + THREADS * ROUNDS));
}

#[test]
fn anonymous_signups_are_rate_limited_per_client_address() {
    let s = TestServer::start_with(&[
        ("LANGFLOW_RATE_LIMIT_ENABLED", "true"),
        ("FLOWACTOR_SIGNUP_RATE_LIMIT_PER_MINUTE", "3"),
    ]);
    for i in 0..3 {
        s.post("/api/v1/users/", Auth::None, &json!({"username": format!("u{i}"), "password": "a-long-password"}))
            .expect(201);
    }
    let r = s.post("/api/v1/users/", Auth::None, &json!({"username": "u3", "password": "a-long-password"}));
    r.expect_detail(429, "Too many requests. Please try again later.");
    let wait: u64 = r.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&wait));
    // A failed sign-up counts too, and the superuser is never limited.
    let admin = s.admin_token();
    s.post("/api/v1/users/", Auth::Bearer(&admin), &json!({"username": "u4", "password": "a-long-password"}))
        .expect(201);
    let r = s.get("/api/v1/users/?limit=1", Auth::Bearer(&admin));
    assert_eq!(r.json["total_count"], json!(5));
}

/// A small tmpfs mounted for one test (unmounted on drop), or `None` where mounting is refused.
struct SmallDisk {
    mount: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mb: u64) -> Option<Self> {
        let mount = tempfile::tempdir().expect("mount point");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(mount.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { mount })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.mount.path()).status();
    }
}

/// Takes free space away and gives it back: a filler file on a real small file system, or an
/// injected free-space figure where no file system can be mounted.
enum Filler {
    File { path: std::path::PathBuf, disk: std::path::PathBuf },
    Injected { dir: std::path::PathBuf },
}

impl Filler {
    /// Leaves `left_mb` free.
    fn fill(&self, left_mb: u64) {
        match self {
            Self::File { path, disk } => {
                let free = fs2::available_space(disk).expect("statvfs");
                let size = free.saturating_sub(left_mb << 20);
                let f = std::fs::File::create(path).expect("filler");
                let chunk = vec![0x5a_u8; 1 << 20];
                let mut written = 0;
                while written + (1 << 20) <= size {
                    std::io::Write::write_all(&mut &f, &chunk).expect("fill");
                    written += 1 << 20;
                }
                f.sync_all().expect("sync filler");
                assert!(fs2::available_space(disk).expect("statvfs") <= (left_mb + 1) << 20);
            }
            Self::Injected { dir } => {
                flowactor_actors::store::override_free_space(dir, Some(left_mb << 20));
            }
        }
    }

    fn free(&self) {
        match self {
            Self::File { path, .. } => std::fs::remove_file(path).expect("remove filler"),
            Self::Injected { dir } => flowactor_actors::store::override_free_space(dir, None),
        }
    }
}

#[test]
fn a_full_disk_refuses_writes_with_507_keeps_reads_and_recovers_on_sled() {
    // Identity writes go to PostgreSQL there, which the local disk does not govern.
    if !crate::common::sled_only("a_full_disk_refuses_writes_with_507_keeps_reads_and_recovers_on_sled") {
        return;
    }
    let disk = SmallDisk::mount(96);
    if disk.is_none() {
        eprintln!("cannot mount a tmpfs here: using an injected free-space figure instead");
    }
    full_disk(disk);
}

/// The same with an injected free-space figure, so both paths are always exercised.
#[test]
fn an_injected_full_disk_refuses_writes_with_507_keeps_reads_and_recovers_on_sled() {
    if !crate::common::sled_only("an_injected_full_disk_refuses_writes_with_507_keeps_reads_and_recovers_on_sled") {
        return;
    }
    full_disk(None);
}

fn full_disk(disk: Option<SmallDisk>) {
    let dir = match &disk {
        Some(d) => tempfile::tempdir_in(d.mount.path()).expect("config dir on the small disk"),
        None => tempfile::tempdir().expect("config dir"),
    };
    let filler = match &disk {
        Some(d) => Filler::File { path: d.mount.path().join("filler"), disk: d.mount.path().to_path_buf() },
        None => Filler::Injected { dir: dir.path().to_path_buf() },
    };
    let s = TestServer::start_in(dir, &[("FLOWACTOR_MIN_FREE_DISK_MB", "24")]);
    let admin = s.admin_token();
    let (_, key) = s.api_key(&admin, "disk");
    let echo = s.create_flow(Auth::Key(&key), &fixture("chat_echo__lf1.13.0.json"), "echo");
    s.post(&format!("/api/v1/run/{echo}"), Auth::Key(&key), &json!({"input_value": "before"})).expect(200);

    filler.fill(12);
    std::thread::sleep(Duration::from_millis(300));
    let s = std::sync::Arc::new(s);
    let (s2, key2, echo2) = (s.clone(), key.clone(), echo.clone());
    within(Duration::from_secs(60), "requests on a full disk", move || {
        let (s, key) = (&s2, key2.as_str());
        let started = Instant::now();
        let r =
            s.post("/api/v1/flows/", Auth::Key(key), &json!({"name": "refused", "data": {"nodes": [], "edges": []}}));
        r.expect(507);
        assert!(r.detail().contains("Insufficient storage"), "{}", r.text);
        let token = s.token(ADMIN, ADMIN_PASSWORD);
        s.post("/api/v1/users/", Auth::Bearer(&token), &json!({"username": "late", "password": "a-long-password"}))
            .expect(507);
        s.post("/api/v1/api_key/", Auth::Bearer(&token), &json!({"name": "late"})).expect(507);
        let r = s.post(&format!("/api/v1/run/{echo2}"), Auth::Key(key), &json!({"input_value": "during"}));
        assert_eq!(r.status, 507, "{}", r.text);
        assert!(started.elapsed() < Duration::from_secs(10), "writes must fail fast: {:?}", started.elapsed());
        // Reads keep working.
        s.get("/health", Auth::None).expect(200);
        s.get("/api/v1/users/whoami", Auth::Key(key)).expect(200);
        let r = s.get("/api/v1/flows/", Auth::Key(key));
        r.expect(200);
        assert!(r.text.contains(&echo2) && !r.text.contains("refused"));
        s.get(&format!("/api/v1/flows/{echo2}"), Auth::Key(key)).expect(200);
    });

    filler.free();
    std::thread::sleep(Duration::from_millis(300));
    let (s2, key2) = (s.clone(), key.clone());
    let made = within(Duration::from_secs(60), "requests after space returned", move || {
        let r =
            s2.post("/api/v1/flows/", Auth::Key(&key2), &json!({"name": "after", "data": {"nodes": [], "edges": []}}));
        r.expect(201);
        s2.post(&format!("/api/v1/run/{echo}"), Auth::Key(&key2), &json!({"input_value": "after"})).expect(200);
        r.json["id"].as_str().unwrap().to_owned()
    });

    let s = std::sync::Arc::into_inner(s).expect("sole owner");
    let dir = within(Duration::from_secs(60), "shutdown", move || s.stop());
    let s = TestServer::start_in(dir, &[("FLOWACTOR_MIN_FREE_DISK_MB", "24")]);
    s.get(&format!("/api/v1/flows/{made}"), Auth::Key(&key)).expect(200);
    drop(s);
    drop(disk);
}
