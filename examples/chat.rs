//! A terminal chat client for a flow served by flowactor (or Langflow): every line typed is one
//! turn of the same session, sent to `/api/v1/run/{flow}?stream=true`, and the answer is
//! printed token by token as the server streams it.
//!
//! ```text
//! LANGFLOW_API_KEY=sk-... cargo run --example chat -- http://127.0.0.1:7860 <flow-id-or-endpoint-name>
//! ```
//!
//! The stream uses Langflow's framing: one JSON object `{"event": NAME, "data": {...}}` followed
//! by a blank line per event. `token` events carry `{chunk, id}`, `end` carries the whole run
//! result (used when no token came, e.g. a flow without streaming), `error` carries `{error}`.
//! This client speaks plain HTTP (a local or proxied server).

use std::io::{BufRead, BufReader, Write};

use serde_json::{json, Value as Json};

/// Environment variable holding the API key sent as `x-api-key`.
const API_KEY_VAR: &str = "LANGFLOW_API_KEY";

fn usage() -> ! {
    eprintln!("usage: chat <server-url> <flow-id-or-endpoint-name>   (API key in ${API_KEY_VAR})");
    std::process::exit(2);
}

/// The answer text inside an `end` event's `result` (a `/run` response).
fn final_text(result: &Json) -> Option<&str> {
    result.pointer("/outputs/0/outputs/0/results/message/text").and_then(Json::as_str)
}

/// What one turn printed.
#[derive(Default)]
struct Turn {
    printed_tokens: bool,
    failed: bool,
}

/// Handles one event; returns `false` once the stream is over.
fn on_event(event: &Json, turn: &mut Turn, out: &mut impl Write) -> std::io::Result<bool> {
    let data = &event["data"];
    match event["event"].as_str().unwrap_or_default() {
        "token" => {
            if let Some(chunk) = data["chunk"].as_str() {
                write!(out, "{chunk}")?;
                out.flush()?;
                turn.printed_tokens = true;
            }
        }
        "end" => {
            if !turn.printed_tokens {
                write!(out, "{}", final_text(&data["result"]).unwrap_or("(no text in the answer)"))?;
            }
            return Ok(false);
        }
        "error" => {
            let text = data["error"].as_str().or_else(|| data["text"].as_str()).unwrap_or("unknown error");
            eprintln!("\nerror: {text}");
            turn.failed = true;
            return Ok(false);
        }
        _ => {}
    }
    Ok(true)
}

fn ask(agent: &ureq::Agent, url: &str, key: Option<&str>, session: &str, text: &str) -> Result<(), String> {
    let mut req = agent.post(url).set("accept", "text/event-stream");
    if let Some(key) = key {
        req = req.set("x-api-key", key);
    }
    let body = json!({"input_value": text, "input_type": "chat", "output_type": "chat", "session_id": session});
    let resp = match req.send_json(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => {
            return Err(format!("HTTP {code}: {}", r.into_string().unwrap_or_default()));
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut reader = BufReader::new(resp.into_reader());
    let mut stdout = std::io::stdout();
    let mut turn = Turn::default();
    let mut pending = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            break;
        }
        if !line.trim().is_empty() {
            pending.push_str(&line);
        }
        // An event is complete once what was gathered parses; the blank line only separates.
        let Ok(event) = serde_json::from_str::<Json>(pending.trim()) else { continue };
        pending.clear();
        if !on_event(&event, &mut turn, &mut stdout).map_err(|e| e.to_string())? {
            break;
        }
    }
    println!();
    if turn.failed {
        Err("the run failed".into())
    } else {
        Ok(())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, flow] = args.as_slice() else { usage() };
    let key = std::env::var(API_KEY_VAR).ok().filter(|k| !k.is_empty());
    let url = format!("{}/api/v1/run/{flow}?stream=true", server.trim_end_matches('/'));
    let session = uuid::Uuid::new_v4().to_string();
    let agent = ureq::AgentBuilder::new().timeout_connect(std::time::Duration::from_secs(10)).build();
    eprintln!("session {session}; type a message, Ctrl-D to quit");
    let stdin = std::io::stdin();
    let mut input = String::new();
    loop {
        eprint!("> ");
        input.clear();
        match stdin.lock().read_line(&mut input) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = input.trim();
        if text.is_empty() {
            continue;
        }
        if let Err(e) = ask(&agent, &url, key.as_deref(), &session, text) {
            eprintln!("error: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_print_as_they_come_and_end_falls_back_to_the_text() {
        let mut out = Vec::new();
        let mut turn = Turn::default();
        let token = json!({"event": "token", "data": {"chunk": "Hel", "id": "1"}});
        assert!(on_event(&token, &mut turn, &mut out).unwrap_or(false));
        let end = json!({"event": "end", "data": {"result": {"outputs": [{"outputs": [
            {"results": {"message": {"text": "Hello"}}}]}]}}});
        assert!(!on_event(&end, &mut turn, &mut out).unwrap_or(true));
        assert_eq!(String::from_utf8_lossy(&out), "Hel");

        let mut out = Vec::new();
        let mut turn = Turn::default();
        assert!(!on_event(&end, &mut turn, &mut out).unwrap_or(true));
        assert_eq!(String::from_utf8_lossy(&out), "Hello");
    }
}
