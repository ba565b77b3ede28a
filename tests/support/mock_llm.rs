//! A scripted mock of OpenAI's Chat Completions and Anthropic's Messages APIs, served over real
//! HTTP/1.1 on 127.0.0.1, so provider clients are tested through sockets, chunked bodies and
//! TCP reads exactly as in production — without network access or keys.
//!
//! The behaviour is chosen by the request's model name, so one server serves every scenario:
//!
//! | model          | behaviour                                                              |
//! |----------------|------------------------------------------------------------------------|
//! | anything else  | a normal reply: "You said: <the user message>"                         |
//! | `split`        | the same stream cut at odd byte offsets (mid-event, mid-character) and |
//! |                | several events per write                                               |
//! | `slow`         | a pause of [`SLOW_DELAY`] before each stream event                     |
//! | `malformed`    | a stream event that is not JSON                                       |
//! | `rate-limited` | 429 (`Retry-After: 0`) for the first [`MockLlm::set_rate_limits`]     |
//! |                | requests, then a normal reply                                          |
//! | `unauthorized` | 401 whose message echoes the key it was given (as real providers do)   |
//! | `server-error` | 500 forever                                                            |
//! | `hang`         | reads the request and never answers                                    |
//! | `redirect`     | 307 back to the same path on this server                               |
//! | `internal-page`| 400 with an HTML body holding [`INTERNAL_CANARY`]                      |
//!
//! An Anthropic request that forces a tool (`tool_choice` `{"type": "tool"}`, not streamed) is
//! answered with one `tool_use` of it, its input filled from the tool's schema as below.
//!
//! A *script* ([`MockLlm::set_script`]) overrides the model name for OpenAI requests, the way
//! the mock behind `shared/spec/agent-traces` was driven (each trace's `script` field):
//!
//! | `mode`         | answer                                                                 |
//! |----------------|------------------------------------------------------------------------|
//! | `text`         | "mock reply to: <last user turn>", streamed word by word               |
//! | `tool`         | a call of `tool` with `args` (after optional `narration` text) until a |
//! |                | tool result follows the last user turn, then [`FINAL_PREFIX`]…         |
//! | `loop`         | a call of `tool` with `args` every round                               |
//! | `offered_tool` | `tool` where the request offers a tool of that name, else `text`       |
//! | `parallel`     | calls of `tool` with `args` and `args2` in one turn, then the final    |
//! | `unknown_tool` | a call of `no_such_tool`, then the final text                          |
//! | `bad_args`     | a call of `tool` whose arguments are `args_raw` verbatim               |
//! | `http_error`   | HTTP `status` with `message`                                           |
//! | `hang_tools`   | like `tool`, for a tool that never returns (the mock answers normally) |
//! | `structured`   | like `tool` when the script names a `tool`, else like `text`; and any  |
//! |                | request that forces a function (`tool_choice`) or asks for a           |
//! |                | `json_schema` `response_format` gets `{"objects": [<mock record>]}` as |
//! |                | the call's arguments or as the text, the record filled from the schema |
//! |                | (`"mock <title in lower case>"`, `true`, `1`, `1.5`, `["mock value"]`)  |
//!
//! `final` (any tool mode) replaces the final text after tool results (`{{`/`}}` read as
//! braces, as in the traces' scripts). `structured_replies` (a list, used in order, the last
//! one repeated) replaces the structured answers: a string is sent verbatim (as the arguments
//! of the forced call, or as the text), `{"text": …}` is a plain text answer without any call.
//!
//! Each scripted streamed answer reports usage 11/7/18, as in the traces.
//!
//! Every request is recorded (path, headers, JSON body), every accepted connection is counted
//! (so a test can see that a refused destination was never contacted), and every connection the
//! client closes before the answer is complete is counted, which is how tests see a cancelled
//! call abort.
//! Used from `actors/tests` (via `#[path]`) and from the root crate's HTTP tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value as Json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Pause before each event of the `slow` stream.
pub const SLOW_DELAY: Duration = Duration::from_millis(150);
/// The reply text's prefix; the user's message follows.
pub const REPLY_PREFIX: &str = "You said: ";
/// Text in the `internal-page` model's error body; it must never reach a run error.
pub const INTERNAL_CANARY: &str = "internal-canary-7d1e";
/// A scripted text answer's prefix; the last user turn follows.
pub const MOCK_REPLY_PREFIX: &str = "mock reply to: ";
/// A scripted final answer after tool results.
pub const FINAL_PREFIX: &str = "FINAL ANSWER. Tool results seen: ";

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    /// Lower-cased header names.
    pub headers: HashMap<String, String>,
    pub body: Json,
}

impl Recorded {
    /// The text of the message with `role` (OpenAI) or the `system` field (Anthropic).
    pub fn message(&self, role: &str) -> Option<String> {
        if role == "system" {
            if let Some(s) = self.body.get("system").and_then(Json::as_str) {
                return Some(s.to_owned());
            }
        }
        self.body["messages"]
            .as_array()?
            .iter()
            .find(|m| m["role"] == role)
            .and_then(|m| m["content"].as_str())
            .map(str::to_owned)
    }
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<Recorded>>,
    rate_limits: AtomicUsize,
    aborted: AtomicUsize,
    aborted_notify: Notify,
    connections: AtomicUsize,
    script: Mutex<Option<Json>>,
    calls: AtomicUsize,
    structured: AtomicUsize,
}

/// A running mock provider. Dropping it stops the server.
pub struct MockLlm {
    addr: std::net::SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl MockLlm {
    /// Starts the server on its own thread (its own runtime), so it serves whatever runtime the
    /// test and the code under test use.
    pub fn start() -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the mock provider");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let state = Arc::new(State { rate_limits: AtomicUsize::new(1), ..State::default() });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                let accept = async {
                    loop {
                        let Ok((socket, _)) = listener.accept().await else { continue };
                        served.connections.fetch_add(1, Ordering::SeqCst);
                        let state = served.clone();
                        tokio::spawn(async move {
                            let _ = serve(socket, state).await;
                        });
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Self { addr, state, stop: Some(stop) }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The OpenAI-style base URL (`…/v1`).
    pub fn openai_base(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// How many requests of the `rate-limited` model get a 429 before one succeeds.
    pub fn set_rate_limits(&self, n: usize) {
        self.state.rate_limits.store(n, Ordering::SeqCst);
    }

    /// Scripts every following OpenAI request (see the table above); `Json::Null` clears it.
    pub fn set_script(&self, script: Json) {
        *self.state.script.lock().unwrap() = (!script.is_null()).then_some(script);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Connections the client closed before the answer was complete.
    pub fn aborted(&self) -> usize {
        self.state.aborted.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` connections were aborted by the client, or `timeout` passes.
    pub async fn wait_aborted(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.state.aborted_notify.notified();
            if self.aborted() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.aborted() >= n;
            }
        }
    }
}

impl Drop for MockLlm {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Reads one request: head up to the blank line, then `Content-Length` bytes of body.
async fn read_request(socket: &mut TcpStream) -> std::io::Result<Option<Recorded>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next().unwrap_or_default().split(' ').nth(1).unwrap_or_default().to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&body).unwrap_or(Json::Null);
    Ok(Some(Recorded { path, headers, body }))
}

async fn respond_json(socket: &mut TcpStream, status: &str, extra: &str, body: &Json) -> std::io::Result<()> {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body.as_bytes()).await?;
    socket.flush().await
}

/// Writes one chunk of a chunked body; `false` when the client has gone away.
async fn write_chunk(socket: &mut TcpStream, data: &[u8]) -> bool {
    let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
    framed.extend_from_slice(data);
    framed.extend_from_slice(b"\r\n");
    socket.write_all(&framed).await.is_ok() && socket.flush().await.is_ok()
}

/// Waits `delay`, or returns `false` early if the client closes the connection meanwhile.
async fn pause_unless_closed(socket: &mut TcpStream, delay: Duration) -> bool {
    let mut probe = [0u8; 64];
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        read = socket.read(&mut probe) => !matches!(read, Ok(0) | Err(_)),
    }
}

fn aborted(state: &State) {
    state.aborted.fetch_add(1, Ordering::SeqCst);
    state.aborted_notify.notify_waiters();
}

fn user_text(req: &Recorded) -> String {
    req.message("user").unwrap_or_default()
}

/// The reply's pieces: a few words, then the user's text in one piece.
fn reply_tokens(req: &Recorded) -> Vec<String> {
    vec!["You".into(), " said".into(), ":".into(), " ".into(), user_text(req)]
}

fn openai_events(req: &Recorded, model: &str) -> Vec<String> {
    let chunk = |delta: Json, finish: Json| {
        json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), Json::Null)];
    for t in reply_tokens(req) {
        events.push(chunk(json!({"content": t}), Json::Null));
    }
    events.push(chunk(json!({}), json!("stop")));
    if req.body["stream_options"]["include_usage"] == true {
        events.push(json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "choices": [],
                           "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}}));
    }
    let mut out: Vec<String> = events.into_iter().map(|e| format!("data: {e}\n\n")).collect();
    out.push("data: [DONE]\n\n".into());
    out
}

fn anthropic_events(req: &Recorded) -> Vec<String> {
    let mut events = vec![
        json!({"type": "message_start", "message": {"id": "msg_mock", "type": "message", "role": "assistant",
               "content": [], "usage": {"input_tokens": 11, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
    ];
    for t in reply_tokens(req) {
        events.push(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}));
    }
    events.push(json!({"type": "content_block_stop", "index": 0}));
    events.push(json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}}));
    events.push(json!({"type": "message_stop"}));
    events.into_iter().map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("x"))).collect()
}

fn whole_reply(req: &Recorded, anthropic: bool) -> Json {
    let text = reply_tokens(req).concat();
    if anthropic {
        json!({"id": "msg_mock", "type": "message", "role": "assistant", "model": req.body["model"],
               "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
               "usage": {"input_tokens": 11, "output_tokens": 5}})
    } else {
        json!({"id": "chatcmpl-mock", "object": "chat.completion", "model": req.body["model"],
               "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}})
    }
}

fn error_body(message: &str, anthropic: bool, kind: &str) -> Json {
    if anthropic {
        json!({"type": "error", "error": {"type": kind, "message": message}})
    } else {
        json!({"error": {"message": message, "type": kind, "code": null}})
    }
}

async fn serve(mut socket: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let Some(req) = read_request(&mut socket).await? else { return Ok(()) };
    state.requests.lock().unwrap().push(req.clone());
    let anthropic = req.path.ends_with("/messages");
    let known = anthropic || req.path.ends_with("/chat/completions");
    if !known {
        return respond_json(&mut socket, "404 Not Found", "", &error_body("no such route", anthropic, "not_found"))
            .await;
    }
    let script = state.script.lock().unwrap().clone();
    if let (Some(script), false) = (script, anthropic) {
        return scripted(&mut socket, &state, &req, &script).await;
    }
    let model = req.body["model"].as_str().unwrap_or_default().to_owned();
    let stream = req.body["stream"] == true;
    match model.as_str() {
        "unauthorized" => {
            let key = req
                .headers
                .get("authorization")
                .map(|v| v.trim_start_matches("Bearer ").to_owned())
                .or_else(|| req.headers.get("x-api-key").cloned())
                .unwrap_or_default();
            let body = error_body(&format!("Incorrect API key provided: {key}"), anthropic, "authentication_error");
            return respond_json(&mut socket, "401 Unauthorized", "", &body).await;
        }
        "redirect" => {
            // Points back at this server: a client that follows it would be seen twice.
            let extra = format!("location: {}?redirected=1\r\n", req.path);
            return respond_json(&mut socket, "307 Temporary Redirect", &extra, &json!({})).await;
        }
        "internal-page" => {
            let body = format!("<html><body>{INTERNAL_CANARY}: internal admin console</body></html>");
            let head = format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(body.as_bytes()).await?;
            return socket.flush().await;
        }
        "server-error" => {
            let body = error_body("The server had an error while processing your request", anthropic, "api_error");
            return respond_json(&mut socket, "500 Internal Server Error", "", &body).await;
        }
        "rate-limited" => {
            let limited = state.rate_limits.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
            if limited.is_ok() {
                let body = error_body("Rate limit reached", anthropic, "rate_limit_error");
                return respond_json(&mut socket, "429 Too Many Requests", "retry-after: 0\r\n", &body).await;
            }
        }
        "hang" => {
            let mut probe = [0u8; 64];
            loop {
                match socket.read(&mut probe).await {
                    Ok(0) | Err(_) => {
                        aborted(&state);
                        return Ok(());
                    }
                    Ok(_) => {}
                }
            }
        }
        _ => {}
    }
    if anthropic && req.body["tool_choice"]["type"] == "tool" && !stream {
        // A forced tool: one `tool_use` block filled from the tool's input schema.
        let name = req.body["tool_choice"]["name"].clone();
        let tool = req.body["tools"].as_array().and_then(|t| t.iter().find(|t| t["name"] == name)).cloned();
        let schema = tool.map(|t| t["input_schema"].clone()).unwrap_or(Json::Null);
        let input = mock_record(&schema, &schema["$defs"]);
        let body = json!({"id": "msg_mock", "type": "message", "role": "assistant", "model": req.body["model"],
                          "content": [{"type": "tool_use", "id": "toolu_mock", "name": name, "input": input}],
                          "stop_reason": "tool_use", "usage": {"input_tokens": 11, "output_tokens": 5}});
        return respond_json(&mut socket, "200 OK", "", &body).await;
    }
    if !stream {
        return respond_json(&mut socket, "200 OK", "", &whole_reply(&req, anthropic)).await;
    }

    let mut events = if anthropic { anthropic_events(&req) } else { openai_events(&req, &model) };
    if model == "malformed" {
        events.insert(2, "data: {\"choices\": [{\"delta\": {\"content\": \"oops\"\n\n".into());
    }
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
                transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    socket.write_all(head.as_bytes()).await?;
    socket.flush().await?;
    let writes: Vec<Vec<u8>> = if model == "split" {
        // Odd cut sizes: some writes end mid-event or mid-character, some carry several events.
        let all = events.concat().into_bytes();
        let sizes = [7usize, 300, 3, 1, 120, 41];
        let mut out = Vec::new();
        let mut at = 0;
        for size in sizes.iter().cycle() {
            if at >= all.len() {
                break;
            }
            let end = (at + size).min(all.len());
            out.push(all[at..end].to_vec());
            at = end;
        }
        out
    } else {
        events.into_iter().map(String::into_bytes).collect()
    };
    for w in writes {
        let pause = if model == "slow" { SLOW_DELAY } else { Duration::from_millis(2) };
        if !pause_unless_closed(&mut socket, pause).await || !write_chunk(&mut socket, &w).await {
            aborted(&state);
            return Ok(());
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    socket.flush().await
}

/// The messages after the last user turn.
fn since_last_user(req: &Recorded) -> Vec<Json> {
    let msgs = req.body["messages"].as_array().cloned().unwrap_or_default();
    let last_user = msgs.iter().rposition(|m| m["role"] == "user").map_or(0, |i| i + 1);
    msgs[last_user..].to_vec()
}

fn last_user_text(req: &Recorded) -> String {
    let msgs = req.body["messages"].as_array().cloned().unwrap_or_default();
    msgs.iter().rev().find(|m| m["role"] == "user").and_then(|m| m["content"].as_str()).unwrap_or_default().to_owned()
}

/// What a scripted turn answers: text pieces, then tool calls `(name, raw arguments)`.
fn scripted_turn(req: &Recorded, script: &Json) -> (Vec<String>, Vec<(String, String)>) {
    let mode = script["mode"].as_str().unwrap_or("text");
    let tool = script["tool"].as_str().unwrap_or_default().to_owned();
    let args = script["args"].to_string();
    let results: Vec<String> = since_last_user(req)
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect();
    let words = |text: &str| -> Vec<String> {
        let mut out = Vec::new();
        for (i, w) in text.split(' ').enumerate() {
            out.push(if i == 0 { w.to_owned() } else { format!(" {w}") });
        }
        out
    };
    let final_text = || {
        if let Some(f) = script["final"].as_str() {
            return words(&f.replace("{{", "{").replace("}}", "}"));
        }
        let last = results.last().map(|r| r.chars().take(60).collect::<String>()).unwrap_or_default();
        words(&format!("{FINAL_PREFIX}{}. Last tool result starts: {last}", results.len()))
    };
    let mode = if mode == "structured" && !tool.is_empty() { "tool" } else { mode };
    let narration = script["narration"].as_str().map(words).unwrap_or_default();
    let offered = req.body["tools"]
        .as_array()
        .is_some_and(|ts| ts.iter().any(|t| t["function"]["name"].as_str() == Some(tool.as_str())));
    let mode = match mode {
        "offered_tool" if offered => "tool",
        "offered_tool" => "text",
        other => other,
    };
    match mode {
        "loop" => (Vec::new(), vec![(tool, args)]),
        "tool" | "hang_tools" if results.is_empty() => (narration, vec![(tool, args)]),
        "parallel" if results.is_empty() => {
            (Vec::new(), vec![(tool.clone(), args), (tool, script["args2"].to_string())])
        }
        "unknown_tool" if results.is_empty() => (Vec::new(), vec![("no_such_tool".into(), args)]),
        "bad_args" if results.is_empty() => {
            (Vec::new(), vec![(tool, script["args_raw"].as_str().unwrap_or_default().to_owned())])
        }
        "tool" | "hang_tools" | "parallel" | "unknown_tool" | "bad_args" => (final_text(), Vec::new()),
        _ => (words(&format!("{MOCK_REPLY_PREFIX}{}", last_user_text(req))), Vec::new()),
    }
}

async fn scripted(socket: &mut TcpStream, state: &State, req: &Recorded, script: &Json) -> std::io::Result<()> {
    if script["mode"] == "http_error" {
        let status = script["status"].as_u64().unwrap_or(500);
        let reason = if status == 401 { "Unauthorized" } else { "Internal Server Error" };
        let kind = if status == 401 { "invalid_request_error" } else { "server_error" };
        let body = error_body(script["message"].as_str().unwrap_or("mock failure"), false, kind);
        return respond_json(socket, &format!("{status} {reason}"), "", &body).await;
    }
    if let Some(reply) = structured_request(req, state, script) {
        return structured_answer(socket, state, req, reply).await;
    }
    let (texts, calls) = scripted_turn(req, script);
    let n = state.calls.fetch_add(1, Ordering::SeqCst);
    let chunk = |delta: Json, finish: Json| {
        json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "model": req.body["model"],
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), Json::Null)];
    for t in &texts {
        events.push(chunk(json!({"content": t}), Json::Null));
    }
    for (k, (name, args)) in calls.iter().enumerate() {
        events.push(chunk(
            json!({"tool_calls": [{"index": k, "id": format!("call_mock_{n}_{k}"), "type": "function",
                                   "function": {"name": name, "arguments": ""}}]}),
            Json::Null,
        ));
        events.push(chunk(json!({"tool_calls": [{"index": k, "function": {"arguments": args}}]}), Json::Null));
    }
    let finish = if calls.is_empty() { "stop" } else { "tool_calls" };
    events.push(chunk(json!({}), json!(finish)));
    events.push(json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "choices": [],
                       "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}));
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
                transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    socket.write_all(head.as_bytes()).await?;
    for e in events {
        if !write_chunk(socket, format!("data: {e}\n\n").as_bytes()).await {
            aborted(state);
            return Ok(());
        }
    }
    let _ = write_chunk(socket, b"data: [DONE]\n\n").await;
    let _ = socket.write_all(b"0\r\n\r\n").await;
    socket.flush().await
}

/// A mock value for a property schema (resolving `$ref`s into `defs`).
fn mock_value(prop: &Json, name: &str, defs: &Json) -> Json {
    if let Some(r) = prop["$ref"].as_str() {
        let def = &defs[r.rsplit('/').next().unwrap_or_default()];
        return mock_record(def, defs);
    }
    match prop["type"].as_str().unwrap_or("string") {
        "boolean" => json!(true),
        "integer" => json!(1),
        "number" => json!(1.5),
        "object" => json!({}),
        "array" => {
            let items = &prop["items"];
            let item = if items["type"] == "string" { json!("mock value") } else { mock_value(items, name, defs) };
            json!([item])
        }
        _ => {
            let title = prop["title"].as_str().map_or_else(|| name.to_lowercase(), str::to_lowercase);
            json!(format!("mock {title}"))
        }
    }
}

fn mock_record(schema: &Json, defs: &Json) -> Json {
    let mut out = serde_json::Map::new();
    if let Some(props) = schema["properties"].as_object() {
        for (k, p) in props {
            out.insert(k.clone(), mock_value(p, k, defs));
        }
    }
    Json::Object(out)
}

/// What a structured request is answered with.
enum StructuredReply {
    /// The forced call's arguments, or the JSON text.
    Raw(String),
    /// A text answer without a call.
    Text(String),
}

/// `Some` for a request that forces a function or asks for a `json_schema` answer.
fn structured_request(req: &Recorded, state: &State, script: &Json) -> Option<StructuredReply> {
    let forced = req.body["tool_choice"]["function"]["name"].as_str();
    let schema = match forced {
        Some(name) => req.body["tools"]
            .as_array()?
            .iter()
            .find(|t| t["function"]["name"] == name)
            .map(|t| t["function"]["parameters"].clone())?,
        None if req.body["response_format"]["type"] == "json_schema" => {
            req.body["response_format"]["json_schema"]["schema"].clone()
        }
        None => return None,
    };
    let n = state.structured.fetch_add(1, Ordering::SeqCst);
    if let Some(replies) = script["structured_replies"].as_array().filter(|r| !r.is_empty()) {
        let r = &replies[n.min(replies.len() - 1)];
        return Some(match r {
            Json::String(s) => StructuredReply::Raw(s.clone()),
            other => StructuredReply::Text(other["text"].as_str().unwrap_or_default().to_owned()),
        });
    }
    Some(StructuredReply::Raw(mock_record(&schema, &schema["$defs"]).to_string()))
}

async fn structured_answer(
    socket: &mut TcpStream,
    state: &State,
    req: &Recorded,
    reply: StructuredReply,
) -> std::io::Result<()> {
    let forced = req.body["tool_choice"]["function"]["name"].as_str().map(str::to_owned);
    let n = state.calls.fetch_add(1, Ordering::SeqCst);
    let (text, call) = match (reply, forced) {
        (StructuredReply::Raw(args), Some(name)) => (Json::Null, Some((name, args))),
        (StructuredReply::Raw(text) | StructuredReply::Text(text), _) => (json!(text), None),
    };
    let usage = json!({"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18});
    if req.body["stream"] != true {
        let mut message = json!({"role": "assistant", "content": text});
        if let Some((name, args)) = &call {
            message["tool_calls"] = json!([{"id": format!("call_mock_{n}_0"), "type": "function",
                                            "function": {"name": name, "arguments": args}}]);
        }
        let finish = if call.is_some() { "tool_calls" } else { "stop" };
        let body = json!({"id": "chatcmpl-mock", "object": "chat.completion", "created": 0, "model": req.body["model"],
                          "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage});
        return respond_json(socket, "200 OK", "", &body).await;
    }
    let chunk = |delta: Json, finish: Json| {
        json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "model": req.body["model"],
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), Json::Null)];
    if let Some(t) = text.as_str() {
        // Cut mid-token, as a model streams JSON.
        let chars: Vec<char> = t.chars().collect();
        for piece in chars.chunks(11) {
            events.push(chunk(json!({"content": piece.iter().collect::<String>()}), Json::Null));
        }
    }
    if let Some((name, args)) = &call {
        events.push(chunk(
            json!({"tool_calls": [{"index": 0, "id": format!("call_mock_{n}_0"), "type": "function",
                                   "function": {"name": name, "arguments": ""}}]}),
            Json::Null,
        ));
        events.push(chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": args}}]}), Json::Null));
    }
    events.push(chunk(json!({}), json!(if call.is_some() { "tool_calls" } else { "stop" })));
    events.push(json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "choices": [], "usage": usage}));
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
                transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    socket.write_all(head.as_bytes()).await?;
    for e in events {
        if !write_chunk(socket, format!("data: {e}\n\n").as_bytes()).await {
            aborted(state);
            return Ok(());
        }
    }
    let _ = write_chunk(socket, b"data: [DONE]\n\n").await;
    let _ = socket.write_all(b"0\r\n\r\n").await;
    socket.flush().await
}
