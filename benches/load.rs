//! HTTP load tool: starts the real `flowactor` binary (release build) on loopback with a fresh
//! config dir, then drives it with N keep-alive connections and prints throughput and latency
//! percentiles per scenario. Every scenario is measured next to a bare baseline route
//! (`GET /health`) in the same invocation, so results also read as a fraction of what this
//! machine's HTTP stack can do at all.
//!
//! ```sh
//! cargo bench --bench load                      # every scenario, 5 s each
//! cargo bench --bench load -- --seconds 2 --only run_echo
//! LOAD_PEER_URL=http://127.0.0.1:7860 LOAD_PEER_API_KEY=sk-… cargo bench --bench load -- --only peer
//! ```
//!
//! With `LOAD_PEER_URL` and `LOAD_PEER_API_KEY` (a Langflow server, or anything speaking its API,
//! on this machine's loopback), the `peer` scenario uploads the same fixture flows to it and
//! drives both servers with the same client in the same run, printing the ratio.
//!
//! The client is deliberately minimal (blocking sockets, one thread per connection, prebuilt
//! requests) because it shares the machine's cores with the server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowactor_actors::graph::FlowBuilder;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_flowactor");
const PASSWORD: &str = "load-password-1";

/// One blocking HTTP/1.1 keep-alive connection.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

/// A parsed response: status, body, and when its first body byte arrived.
struct Response {
    status: u16,
    body: Vec<u8>,
    first_byte: Instant,
}

impl Conn {
    fn open(addr: &str) -> Self {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).unwrap();
        Self { reader: BufReader::new(s.try_clone().unwrap()), writer: s }
    }

    fn send(&mut self, request: &[u8]) -> Response {
        self.writer.write_all(request).expect("write");
        let r = self.read_response(|_| false);
        assert!(
            r.status != 0,
            "the server closed the connection on {:?}",
            String::from_utf8_lossy(&request[..request.len().min(120)])
        );
        r
    }

    /// Reads one response; `stop` may end a chunked body early (returns what was read).
    fn read_response(&mut self, stop: impl Fn(&[u8]) -> bool) -> Response {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let Some(status) = line.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok()) else {
            eprintln!("unexpected status line {line:?}");
            return Response { status: 0, body: Vec::new(), first_byte: Instant::now() };
        };
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header");
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut body = Vec::new();
        let mut first_byte = None;
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line).expect("chunk size");
                let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
                if size == 0 {
                    line.clear();
                    self.reader.read_line(&mut line).expect("trailer");
                    break;
                }
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).expect("chunk");
                chunk.truncate(size);
                if first_byte.is_none() && chunk.iter().any(|b| !b.is_ascii_whitespace()) {
                    first_byte = Some(Instant::now());
                }
                body.extend_from_slice(&chunk);
                if stop(&body) {
                    break;
                }
            }
        } else {
            let mut buf = vec![0; length.unwrap_or(0)];
            self.reader.read_exact(&mut buf).expect("body");
            first_byte = Some(Instant::now());
            body = buf;
        }
        Response { status, body, first_byte: first_byte.unwrap_or_else(Instant::now) }
    }
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        r.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}", b.len()));
    } else {
        r.push_str("\r\n");
    }
    r.into_bytes()
}

struct Server {
    child: Option<Child>,
    addr: String,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(BIN)
            .args(["run", "--port", "0"])
            .env("LANGFLOW_CONFIG_DIR", dir.path())
            .env("LANGFLOW_SUPERUSER", "bench")
            .env("LANGFLOW_SUPERUSER_PASSWORD", PASSWORD)
            .env("LANGFLOW_RATE_LIMIT_ENABLED", "false")
            .env(
                "LANGFLOW_LOG_LEVEL",
                std::env::var("LOAD_LOG").unwrap_or_else(|_| "warn,flowactor=info,flowactor::access=warn".into()),
            )
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start flowactor");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines.next().expect("server exited").unwrap();
            if let Some(pos) = line.find("listening on http://") {
                break line[pos + "listening on http://".len()..].split_whitespace().next().unwrap().to_owned();
            }
        };
        let echo = std::env::var_os("LOAD_LOG").is_some();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if echo {
                    eprintln!("server: {line}");
                }
            }
        });
        Self { child: Some(child), addr, _dir: Some(dir) }
    }

    /// A server someone else started (`LOAD_PEER_URL`); loopback only, as every benchmark here.
    fn peer(url: &str) -> Self {
        let addr = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
        assert!(
            matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
            "LOAD_PEER_URL must be a plain http:// loopback address, got {url}"
        );
        Self { child: None, addr, _dir: None }
    }

    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> (u16, Value) {
        let mut c = Conn::open(&self.addr);
        let text = body.map(Value::to_string);
        let r = c.send(&request(method, path, headers, text.as_deref()));
        (r.status, serde_json::from_slice(&r.body).unwrap_or(Value::Null))
    }

    fn login_key(&self) -> String {
        let mut c = Conn::open(&self.addr);
        let form = format!("username=bench&password={PASSWORD}");
        let req = format!(
            "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        );
        let r = c.send(req.as_bytes());
        let token: Value = serde_json::from_slice(&r.body).unwrap();
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
        let (_, key) =
            self.call("POST", "/api/v1/api_key/", &[("Authorization", &bearer)], Some(&json!({"name": "load"})));
        key["api_key"].as_str().unwrap().to_owned()
    }

    fn upload(&self, key: &str, name: &str, flow: &Value) -> String {
        let mut body = flow.clone();
        body["name"] = json!(name);
        let (status, created) = self.call("POST", "/api/v1/flows/", &[("x-api-key", key)], Some(&body));
        assert!(status == 201 || status == 200, "{status} {created}");
        created["id"].as_str().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// ChatInput → `width` Prompt templates → binary tree of CombineText → ChatOutput.
fn fan_flow(width: usize) -> Value {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}));
    let mut level: Vec<String> = Vec::new();
    for i in 0..width {
        let id = format!("Prompt-p{i}");
        b.node(&id, "Prompt", json!({"template": format!("branch {i}: {{question}}"), "question": ""}));
        b.edge("ChatInput-in", "message", &id, "question");
        level.push(id);
    }
    let mut n = 0;
    while level.len() > 1 {
        let mut next = Vec::new();
        for pair in level.chunks(2) {
            if let [a, c] = pair {
                let id = format!("CombineText-c{n}");
                n += 1;
                b.node(&id, "CombineText", json!({"text1": "", "text2": "", "delimiter": " "}));
                b.edge(a, if a.starts_with("Prompt") { "prompt" } else { "combined_text" }, &id, "text1");
                b.edge(c, if c.starts_with("Prompt") { "prompt" } else { "combined_text" }, &id, "text2");
                next.push(id);
            } else {
                next.push(pair[0].clone());
            }
        }
        level = next;
    }
    b.node("ChatOutput-out", "ChatOutput", json!({"input_value": ""}));
    let last = &level[0];
    b.edge(last, if last.starts_with("Prompt") { "prompt" } else { "combined_text" }, "ChatOutput-out", "input_value");
    b.build()
}

/// ChatInput → Memory(session history) → Prompt → ChatOutput: one chat turn.
fn memory_flow() -> Value {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}));
    // The user's turns only: an echoed history would grow with every turn.
    b.node("Memory-m", "Memory", json!({"n_messages": 10, "sender": "User", "template": "{sender_name}: {text}"}));
    b.node(
        "Prompt-p",
        "Prompt",
        json!({"template": "History:\n{history}\nUser: {question}", "history": "", "question": ""}),
    );
    b.edge("Memory-m", "messages_text", "Prompt-p", "history");
    b.edge("ChatInput-in", "message", "Prompt-p", "question");
    b.node("ChatOutput-out", "ChatOutput", json!({"input_value": ""}));
    b.edge("Prompt-p", "prompt", "ChatOutput-out", "input_value");
    b.build()
}

struct Stats {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
}

/// Runs `connections` loops of `request` for `seconds`; every response must have `expect` status.
/// Sends `total` copies of `request` over `connections` keep-alive connections; returns the
/// number of answers that were not `expect`.
fn send_n(addr: &str, request: &[u8], connections: usize, total: usize, expect: u16) -> usize {
    let handles: Vec<_> = (0..connections)
        .map(|c| {
            let (addr, req) = (addr.to_owned(), request.to_vec());
            let n = total / connections + usize::from(c < total % connections);
            std::thread::spawn(move || {
                let mut conn = Conn::open(&addr);
                (0..n).filter(|_| conn.send(&req).status != expect).count()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

/// Resident set size of a process in KiB (`VmRSS` in `/proc/<pid>/status`).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn drive(addr: &str, request: &[u8], connections: usize, seconds: f64, expect: u16) -> Stats {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let handles: Vec<_> = (0..connections)
        .map(|_| {
            let (addr, req, stop) = (addr.to_owned(), request.to_vec(), stop.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::open(&addr);
                let mut lat = Vec::new();
                let mut errors = 0;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let r = conn.send(&req);
                    lat.push(t.elapsed());
                    if r.status != expect {
                        errors += 1;
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.join().unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Stats { requests: latencies.len(), errors, elapsed, latencies }
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

struct Args {
    seconds: f64,
    only: Option<String>,
    turns: usize,
}

fn args() -> Args {
    let mut a = Args { seconds: 5.0, only: None, turns: 10_000 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => a.seconds = it.next().and_then(|s| s.parse().ok()).unwrap_or(5.0),
            "--only" => a.only = it.next(),
            "--turns" => a.turns = it.next().and_then(|s| s.parse().ok()).unwrap_or(10_000),
            _ => {}
        }
    }
    a
}

fn main() {
    let args = args();
    let want = |name: &str| args.only.as_deref().is_none_or(|o| name.starts_with(o));
    let server = Server::start();
    let key = server.login_key();
    let kh = [("x-api-key", key.as_str())];
    println!(
        "flowactor load test against {} ({} s per scenario, {} cores)",
        server.addr,
        args.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!("| scenario | connections | requests/s | p50 | p99 | baseline /health requests/s | ratio | errors |");
    println!("|---|---|---|---|---|---|---|---|");

    let health = request("GET", "/health", &[], None);
    let mut baselines = std::collections::HashMap::new();
    let mut baseline = |conns: usize| -> f64 {
        *baselines.entry(conns).or_insert_with(|| drive(&server.addr, &health, conns, args.seconds, 200).rps())
    };

    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows");
    let load =
        |f: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(fixtures.join(f)).unwrap()).unwrap() };
    let flows = [
        ("run_echo", server.upload(&key, "echo", &load("chat_echo__lf1.13.0.json"))),
        ("run_prompt", server.upload(&key, "prompt", &load("prompt__lf1.13.0.json"))),
        ("run_fan64", server.upload(&key, "fan64", &fan_flow(64))),
    ];
    let body = json!({"input_value": "hello load", "input_type": "chat", "output_type": "chat"}).to_string();
    for (name, id) in &flows {
        if !want(name) {
            continue;
        }
        let req = request("POST", &format!("/api/v1/run/{id}"), &kh, Some(&body));
        for conns in [1, 8, 64] {
            let s = drive(&server.addr, &req, conns, args.seconds, 200);
            let b = baseline(conns);
            println!(
                "| {name} | {conns} | {:.0} | {} | {} | {b:.0} | {:.1}% | {} |",
                s.rps(),
                us(s.pct(0.5)),
                us(s.pct(0.99)),
                100.0 * s.rps() / b,
                s.errors
            );
        }
    }
    if want("run_stream") {
        let req = request("POST", &format!("/api/v1/run/{}?stream=true", flows[1].1), &kh, Some(&body));
        for conns in [1, 8] {
            let s = drive(&server.addr, &req, conns, args.seconds, 200);
            let b = baseline(conns);
            println!(
                "| run_stream (prompt) | {conns} | {:.0} | {} | {} | {b:.0} | {:.1}% | {} |",
                s.rps(),
                us(s.pct(0.5)),
                us(s.pct(0.99)),
                100.0 * s.rps() / b,
                s.errors
            );
        }
    }
    if want("run_fan256") {
        let id = server.upload(&key, "fan256", &fan_flow(256));
        let req = request("POST", &format!("/api/v1/run/{id}"), &kh, Some(&body));
        let s = drive(&server.addr, &req, 1, args.seconds, 200);
        println!(
            "| run_fan256 (513 vertices) | 1 | {:.0} | {} | {} | {:.0} | {:.1}% | {} |",
            s.rps(),
            ms(s.pct(0.5)),
            ms(s.pct(0.99)),
            baseline(1),
            100.0 * s.rps() / baseline(1),
            s.errors
        );
    }
    if want("rss") {
        // Memory under a steady load: every fixture 100 times, then 10,000 times more each;
        // a bounded server ends near where it started.
        let fan256 = server.upload(&key, "rss-fan256", &fan_flow(256));
        let reqs: Vec<Vec<u8>> = flows
            .iter()
            .map(|(_, id)| id)
            .chain(std::iter::once(&fan256))
            .map(|id| request("POST", &format!("/api/v1/run/{id}"), &kh, Some(&body)))
            .collect();
        let pid = server.child.as_ref().map_or(0, Child::id);
        let mut errors = 0;
        let mut pass = |n: usize| {
            for req in &reqs {
                errors += send_n(&server.addr, req, 8, n, 200);
            }
            rss_kib(pid)
        };
        let after_100 = pass(100);
        let after_10k = pass(10_000);
        println!();
        println!("| memory (server RSS, 8 connections, fixtures echo, prompt, fan64, fan256) | after 100 runs of each | after 10,000 more of each | ratio | errors |");
        println!("|---|---|---|---|---|");
        println!(
            "| rss | {:.1} MiB | {:.1} MiB | {:.2}× | {errors} |",
            after_100 as f64 / 1024.0,
            after_10k as f64 / 1024.0,
            after_10k as f64 / after_100.max(1) as f64
        );
    }
    if want("peer") {
        if let (Ok(url), Ok(peer_key)) = (std::env::var("LOAD_PEER_URL"), std::env::var("LOAD_PEER_API_KEY")) {
            let peer = Server::peer(&url);
            let ph = [("x-api-key", peer_key.as_str())];
            println!();
            println!("| peer scenario ({url}) | connections | flowactor requests/s | peer requests/s | flowactor p50 | peer p50 | flowactor ÷ peer |");
            println!("|---|---|---|---|---|---|---|");
            for (name, ours) in &flows {
                let theirs = peer.upload(
                    &peer_key,
                    &format!("flowactor-load-{name}"),
                    &match *name {
                        "run_echo" => load("chat_echo__lf1.13.0.json"),
                        "run_prompt" => load("prompt__lf1.13.0.json"),
                        _ => fan_flow(64),
                    },
                );
                let mine = request("POST", &format!("/api/v1/run/{ours}"), &kh, Some(&body));
                let their = request("POST", &format!("/api/v1/run/{theirs}"), &ph, Some(&body));
                for conns in [1, 8] {
                    let a = drive(&server.addr, &mine, conns, args.seconds, 200);
                    let b = drive(&peer.addr, &their, conns, args.seconds, 200);
                    println!(
                        "| {name} | {conns} | {:.0} | {:.1} | {} | {} | {:.1}× |",
                        a.rps(),
                        b.rps(),
                        us(a.pct(0.5)),
                        ms(b.pct(0.5)),
                        a.rps() / b.rps().max(f64::MIN_POSITIVE)
                    );
                    if b.errors > 0 {
                        println!("|   ({} peer responses were not 200) |||||||", b.errors);
                    }
                }
            }
        } else {
            println!();
            println!(
                "(peer scenario skipped: set LOAD_PEER_URL and LOAD_PEER_API_KEY to compare with a Langflow server)"
            );
        }
    }
    println!();
    if want("build") {
        let build_req = request(
            "POST",
            &format!("/api/v1/build/{}/flow", flows[1].1),
            &kh,
            Some(&json!({"inputs": {"input_value": "hi"}}).to_string()),
        );
        let mut first = Vec::new();
        let mut end = Vec::new();
        let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
        let mut conn = Conn::open(&server.addr);
        while Instant::now() < deadline {
            let t = Instant::now();
            let r = conn.send(&build_req);
            let job: Value = serde_json::from_slice(&r.body).unwrap();
            let events =
                request("GET", &format!("/api/v1/build/{}/events", job["job_id"].as_str().unwrap()), &kh, None);
            conn.writer.write_all(&events).unwrap();
            let r = conn.read_response(|_| false);
            first.push(r.first_byte.duration_since(t));
            end.push(t.elapsed());
        }
        first.sort();
        end.sort();
        println!("| /build + events stream (prompt flow), 1 connection | {} builds | first event p50 {} / p99 {} | `end` p50 {} / p99 {} |", end.len(), us(first[first.len() / 2]), us(first[first.len() * 99 / 100]), us(end[end.len() / 2]), us(end[end.len() * 99 / 100]));
    }
    if want("memory") {
        let id = server.upload(&key, "memory", &memory_flow());
        let mut conn = Conn::open(&server.addr);
        // Median turn latency over windows of 100 turns ending at each mark (turn 100 stands
        // for the start of the session).
        let marks = [100usize, 1_000, 5_000, args.turns];
        let mut at = Vec::new();
        let mut window: Vec<Duration> = Vec::new();
        for turn in 1..=args.turns {
            let b = json!({"input_value": format!("turn {turn}"), "session_id": "long-session"}).to_string();
            let req = request("POST", &format!("/api/v1/run/{id}"), &kh, Some(&b));
            let t = Instant::now();
            let r = conn.send(&req);
            assert_eq!(r.status, 200);
            window.push(t.elapsed());
            if window.len() > 100 {
                window.remove(0);
            }
            if marks.contains(&turn) {
                let mut w = window.clone();
                w.sort();
                at.push((turn, w[w.len() / 2]));
            }
        }
        let line: Vec<String> = at.iter().map(|(t, d)| format!("turns {}–{t}: {}", t + 1 - 100, us(*d))).collect();
        println!("| memory chat session, median turn latency | {} |", line.join(" · "));
    }
}
