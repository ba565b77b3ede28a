//! A scripted model provider on 127.0.0.1: each request gets the next reply of its script
//! (OpenAI SSE chunks, Anthropic SSE events, a JSON body with a status, or no answer at all),
//! and every request body is recorded. Replies are written over real HTTP/1.1 with a chunked
//! body, so the client under test parses real SSE.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value as Json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// OpenAI stream chunks; `data: [DONE]` is appended.
    OpenAiSse(Vec<Json>),
    /// Anthropic stream events (`event:` lines are derived from each event's `type`).
    AnthropicSse(Vec<Json>),
    /// A whole JSON body with this status.
    Json(u16, Json),
    /// Read the request and never answer (until the client goes away).
    Hang,
}

#[derive(Default)]
struct State {
    script: Mutex<VecDeque<Reply>>,
    last: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Json>>,
    paths: Mutex<Vec<String>>,
    closed_early: AtomicUsize,
}

pub struct ScriptedLlm {
    addr: std::net::SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ScriptedLlm {
    /// Serves `script` in order; once it is used up the last reply repeats.
    pub fn start(script: Vec<Reply>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State { script: Mutex::new(script.into()), ..State::default() });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                let accept = async {
                    loop {
                        let Ok((socket, _)) = listener.accept().await else { continue };
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

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn openai_base(&self) -> String {
        format!("{}/v1", self.url())
    }

    pub fn requests(&self) -> Vec<Json> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn paths(&self) -> Vec<String> {
        self.state.paths.lock().unwrap().clone()
    }

    /// Connections the client closed before a `Hang` reply's end.
    pub fn closed_early(&self) -> usize {
        self.state.closed_early.load(Ordering::SeqCst)
    }
}

impl Drop for ScriptedLlm {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn read_request(socket: &mut TcpStream) -> std::io::Result<Option<(String, Json)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
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
    let path = head.lines().next().unwrap_or_default().split(' ').nth(1).unwrap_or_default().to_owned();
    let len: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((path, serde_json::from_slice(&body).unwrap_or(Json::Null))))
}

async fn write_chunk(socket: &mut TcpStream, data: &[u8]) -> std::io::Result<()> {
    let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
    framed.extend_from_slice(data);
    framed.extend_from_slice(b"\r\n");
    socket.write_all(&framed).await?;
    socket.flush().await
}

async fn serve(mut socket: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let Some((path, body)) = read_request(&mut socket).await? else { return Ok(()) };
    state.requests.lock().unwrap().push(body);
    state.paths.lock().unwrap().push(path);
    let reply = {
        let next = state.script.lock().unwrap().pop_front();
        let mut last = state.last.lock().unwrap();
        if let Some(r) = next {
            *last = Some(r);
        }
        last.clone().unwrap_or(Reply::Json(500, json!({"error": {"message": "script exhausted"}})))
    };
    let events: Vec<String> = match reply {
        Reply::Json(status, body) => {
            let body = body.to_string();
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(body.as_bytes()).await?;
            return socket.flush().await;
        }
        Reply::Hang => {
            let mut probe = [0u8; 64];
            loop {
                match socket.read(&mut probe).await {
                    Ok(0) | Err(_) => {
                        state.closed_early.fetch_add(1, Ordering::SeqCst);
                        return Ok(());
                    }
                    Ok(_) => {}
                }
            }
        }
        Reply::OpenAiSse(chunks) => {
            let mut e: Vec<String> = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
            e.push("data: [DONE]\n\n".into());
            e
        }
        Reply::AnthropicSse(events) => {
            events.iter().map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("x"))).collect()
        }
    };
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    socket.write_all(head.as_bytes()).await?;
    for e in events {
        write_chunk(&mut socket, e.as_bytes()).await?;
    }
    socket.write_all(b"0\r\n\r\n").await?;
    socket.flush().await
}

fn chunk(delta: Json, finish: Json) -> Json {
    json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn usage_chunk() -> Json {
    json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o-mini",
           "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}})
}

/// A streamed text answer, one chunk per word (spaces kept).
pub fn openai_text(text: &str) -> Reply {
    let mut chunks = vec![chunk(json!({"role": "assistant", "content": ""}), Json::Null)];
    let mut word = String::new();
    for c in text.chars() {
        if c == ' ' && !word.is_empty() {
            chunks.push(chunk(json!({"content": word}), Json::Null));
            word = String::new();
        }
        word.push(c);
    }
    if !word.is_empty() {
        chunks.push(chunk(json!({"content": word}), Json::Null));
    }
    chunks.push(chunk(json!({}), json!("stop")));
    chunks.push(usage_chunk());
    Reply::OpenAiSse(chunks)
}

/// A streamed tool-call answer: optional narration, then each call's first delta (id, name,
/// empty arguments) and its arguments in two halves, interleaved by index.
pub fn openai_tool_calls(narration: Option<&str>, calls: &[(&str, &str, &str)]) -> Reply {
    let mut chunks = vec![chunk(json!({"role": "assistant", "content": narration.map(|_| "")}), Json::Null)];
    if let Some(n) = narration {
        for w in n.split_inclusive(' ') {
            chunks.push(chunk(json!({"content": w}), Json::Null));
        }
    }
    for (i, (id, name, _)) in calls.iter().enumerate() {
        chunks.push(chunk(
            json!({"tool_calls": [{"index": i, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
            Json::Null,
        ));
    }
    for half in 0..2 {
        for (i, (_, _, args)) in calls.iter().enumerate() {
            let mid = args.char_indices().nth(args.chars().count() / 2).map_or(0, |(p, _)| p);
            let part = if half == 0 { &args[..mid] } else { &args[mid..] };
            chunks.push(chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": part}}]}), Json::Null));
        }
    }
    chunks.push(chunk(json!({}), json!("tool_calls")));
    chunks.push(usage_chunk());
    Reply::OpenAiSse(chunks)
}
