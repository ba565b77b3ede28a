//! The Agent's tool loop against scripted model providers on 127.0.0.1.
//!
//! The `replays_*` tests take a recording of Langflow 1.13 (`fixtures/agent/04-agent-case-*`),
//! script the mock with the model answers recorded there, and check that the loop sends the
//! recorded request bodies round by round (messages, tools, every other field) and ends with
//! the recorded answer text and "Agent Steps" content blocks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "agent/mock.rs"]
mod mock;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use flowactor_actors::agent::pyfmt::dataframe_repr;
use flowactor_actors::agent::{
    self, prompt, AgentConfig, AgentError, AgentObserver, AgentSteps, Calculator, CurrentDate, NoObserver, Step, Table,
    Tool, ToolError, ToolFuture, ToolOutput, ToolState,
};
use flowactor_actors::llm::address::OutboundPolicy;
use flowactor_actors::llm::{ApiKey, ChatMessage, ConversationRequest, LlmRuntime, LlmSettings, Protocol, ToolSpec};
use mock::{openai_text, openai_tool_calls, Reply, ScriptedLlm};
use serde_json::{json, Value as Json};

fn fixture(name: &str) -> Json {
    let path = format!("{}/tests/fixtures/agent/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn runtime() -> LlmRuntime {
    LlmRuntime::new(LlmSettings {
        timeout: Duration::from_secs(5),
        max_retries: 2,
        retry_base_delay: Duration::from_millis(5),
        outbound: OutboundPolicy::new(true, &["127.0.0.1".to_owned()]).unwrap(),
        ..LlmSettings::default()
    })
}

fn request(base: &str) -> ConversationRequest {
    let mut r = ConversationRequest::new("OpenAI", Protocol::OpenAi, base, ApiKey::new("sk-mock"), "gpt-4o-mini");
    // The OpenAI client Langflow uses retries twice.
    r.max_retries = Some(2);
    r
}

/// The instant the recordings were made at (2026-12-01 09:57:00 in Paris).
fn trace_clock() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 57, 0).unwrap()
}

/// A connected component tool of the recording (URL, Web Search): offered with its recorded
/// spec, answering with the recorded result when the case has one.
struct Recorded(ToolSpec, Option<Result<ToolOutput, ToolError>>);

impl Tool for Recorded {
    fn name(&self) -> &str {
        &self.0.name
    }
    fn description(&self) -> &str {
        &self.0.description
    }
    fn parameters(&self) -> &Json {
        &self.0.parameters
    }
    fn call(&self, _args: Json) -> ToolFuture<'_> {
        let out = self.1.clone();
        Box::pin(async move { out.unwrap_or_else(|| Err(ToolError::Failed("not expected to run".into()))) })
    }
}

fn spec_of(t: &Json) -> ToolSpec {
    let f = &t["function"];
    ToolSpec {
        name: f["name"].as_str().unwrap().into(),
        description: f["description"].as_str().unwrap().into(),
        parameters: f["parameters"].clone(),
    }
}

/// The tools as the Agent assembles them from the node's flags: the recorded connected tools,
/// then our built-ins (the date tool on the recording's clock).
fn tools_of(trace: &Json, results: &[(&str, Result<ToolOutput, ToolError>)]) -> Vec<Arc<dyn Tool>> {
    let tweak = &trace["request"]["body"]["tweaks"]["Agent-EXpSZ"];
    let flag = |k: &str| tweak[k].as_bool().unwrap_or(true);
    let recorded: Vec<ToolSpec> = trace["llm_requests"][0]["body"]["tools"]
        .as_array()
        .map(|t| t.iter().map(spec_of).collect())
        .unwrap_or_default();
    let connected: Vec<Arc<dyn Tool>> = recorded
        .iter()
        .filter(|s| s.name != CurrentDate::NAME && s.name != Calculator::NAME)
        .map(|s| {
            let out = results.iter().find(|(n, _)| *n == s.name).map(|(_, o)| o.clone());
            Arc::new(Recorded(s.clone(), out)) as Arc<dyn Tool>
        })
        .collect();
    let tools: Vec<Arc<dyn Tool>> =
        prompt::assemble_tools(connected, flag("add_current_date_tool"), flag("add_calculator_tool"))
            .into_iter()
            .map(|t| if t.name() == CurrentDate::NAME { Arc::new(CurrentDate::with_clock(trace_clock)) } else { t })
            .collect();
    let specs: Vec<ToolSpec> = tools.iter().map(|t| agent::tool_spec(t.as_ref())).collect();
    assert_eq!(specs, recorded, "the tools (built-in specs included) are Langflow's, in its order");
    tools
}

fn message_of(trace: &Json) -> Option<&Json> {
    trace["response"]["outputs"][0]["outputs"][0]["results"].get("message")
}

/// The model's answers as recorded; streams whose middle chunks the recording elided are
/// rebuilt from what the next request shows (the ids and arguments the loop sent back) and
/// from the recorded answer text.
fn script_of(trace: &Json) -> Vec<Reply> {
    let reqs = trace["llm_requests"].as_array().unwrap();
    let final_text = message_of(trace).and_then(|m| m["text"].as_str()).unwrap_or_default();
    let mut script = Vec::new();
    for (i, r) in reqs.iter().enumerate() {
        let resp = &r["response"];
        if let Some(status) = resp.get("status").and_then(Json::as_u64) {
            script.push(Reply::Json(u16::try_from(status).unwrap(), resp["body"].clone()));
            continue;
        }
        let chunks = resp["chunks"].as_array().unwrap();
        if !chunks.iter().any(|c| c.get("omitted_chunks").is_some()) {
            script.push(Reply::OpenAiSse(chunks.clone()));
        } else if resp["kind"] == "text" {
            let narration: String = r["body"]["messages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["role"] == "assistant")
                .filter_map(|m| m["content"].as_str())
                .collect();
            script.push(openai_text(final_text.strip_prefix(narration.as_str()).unwrap()));
        } else {
            let next = reqs[i + 1]["body"]["messages"].as_array().unwrap();
            let turn = next.iter().rev().find(|m| m["role"] == "assistant").unwrap();
            let calls: Vec<(&str, &str, &str)> = turn["tool_calls"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let f = &c["function"];
                    (c["id"].as_str().unwrap(), f["name"].as_str().unwrap(), f["arguments"].as_str().unwrap())
                })
                .collect();
            script.push(openai_tool_calls(turn["content"].as_str(), &calls));
        }
    }
    script
}

/// Durations and message ids differ from run to run.
fn normalise(v: &mut Json) {
    match v {
        Json::Object(m) => {
            if let Some(d) = m.get_mut("duration") {
                if !d.is_null() {
                    *d = json!(0);
                }
            }
            if m.get("type") == Some(&json!("tool")) && m.contains_key("tool_call_id") {
                m.insert("id".into(), Json::Null);
            }
            m.values_mut().for_each(normalise);
        }
        Json::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

/// Runs a recorded case; returns the outcome and the requests the mock received.
async fn replay(name: &str) -> (Json, Result<agent::AgentOutcome, AgentError>, Vec<Json>) {
    replay_with(name, &[]).await
}

/// [`replay`] with connected tools answering as recorded.
async fn replay_with(
    name: &str,
    results: &[(&str, Result<ToolOutput, ToolError>)],
) -> (Json, Result<agent::AgentOutcome, AgentError>, Vec<Json>) {
    let trace = fixture(name);
    let reqs = trace["llm_requests"].as_array().unwrap();
    let first = &reqs[0]["body"];
    let mock = ScriptedLlm::start(script_of(&trace));
    let tweak = &trace["request"]["body"]["tweaks"]["Agent-EXpSZ"];
    let mut req = request(&mock.openai_base());
    // The default template is recorded already substituted (and cut short); a tweaked one is
    // substituted here.
    let system = match tweak["system_prompt"].as_str() {
        Some(template) => prompt::system_prompt(template, "gpt-4o-mini", trace_clock().date_naive()),
        None => first["messages"][0]["content"].as_str().unwrap().to_owned(),
    };
    req.messages.push(ChatMessage::System(system));
    req.messages.push(prompt::user_turn(trace["request"]["body"]["input_value"].as_str().unwrap()));
    req.max_tokens = tweak["max_tokens"].as_u64().filter(|n| *n > 0);
    let tools = tools_of(&trace, results);
    let max_iterations = tweak["max_iterations"].as_u64().unwrap_or(15);
    let config = AgentConfig { max_iterations: u32::try_from(max_iterations).unwrap(), ..AgentConfig::default() };
    let rt = runtime();
    let outcome = agent::run(&rt, req, &tools, &config, &mut NoObserver, std::future::pending()).await;
    let sent = mock.requests();
    // Every request the recording shows, in order, with the same body.
    assert_eq!(sent.len(), reqs.len(), "{name}: model calls");
    for (i, (got, want)) in sent.iter().zip(reqs).enumerate() {
        let mut want = want["body"].clone();
        // The recording elides what repeats: the tools array and the system prompt.
        if want["tools"].is_string() {
            want["tools"] = first["tools"].clone();
        }
        if want["messages"][0]["content"].as_str().is_some_and(|c| c.contains("<same system prompt as in an earlier")) {
            want["messages"][0]["content"] = first["messages"][0]["content"].clone();
        }
        assert_eq!(got, &want, "{name}: request {i}");
    }
    (trace, outcome, sent)
}

/// Replays a case that ends in an answer and checks its text and content blocks.
async fn replay_answer(name: &str) -> agent::AgentOutcome {
    replay_answer_with(name, &[]).await
}

async fn replay_answer_with(name: &str, results: &[(&str, Result<ToolOutput, ToolError>)]) -> agent::AgentOutcome {
    let (trace, outcome, _) = replay_with(name, results).await;
    let outcome = outcome.unwrap();
    let message = message_of(&trace).unwrap();
    assert_eq!(outcome.text, message["text"].as_str().unwrap(), "{name}: text");
    let mut want = message["data"]["content_blocks"].clone();
    let mut got = outcome.steps.content_blocks(1);
    normalise(&mut want);
    normalise(&mut got);
    assert_eq!(got, want, "{name}: content_blocks (Output leaf once)");
    let mut want_top = message["content_blocks"].clone();
    let mut got_top = outcome.steps.content_blocks(2);
    normalise(&mut want_top);
    normalise(&mut got_top);
    assert_eq!(got_top, want_top, "{name}: top-level content_blocks (Output leaf twice)");
    outcome
}

#[tokio::test]
async fn replays_web_search_table_result_as_pandas_repr() {
    let trace = fixture("04-agent-case-web-search-tool.json");
    let block = &message_of(&trace).unwrap()["data"]["content_blocks"][0]["contents"][0];
    let columns: Vec<String> = ["title", "link", "snippet", "content"].iter().map(|s| (*s).to_owned()).collect();
    let rows = block["output"]["artifact"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| columns.iter().map(|c| r[c.as_str()].clone()).collect())
        .collect();
    let table = ToolOutput::Table(Table { columns, rows });
    replay_answer_with("04-agent-case-web-search-tool.json", &[("perform_search", Ok(table))]).await;
}

#[tokio::test]
async fn replays_a_failing_tool_as_an_error_result() {
    let text = "Error loading documents: SSRF Protection: Hostname localhost resolves to blocked IP address(es): 127.0.0.1. To allow this hostname, add it to LANGFLOW_SSRF_ALLOWED_HOSTS environment variable.";
    let failed = Err(ToolError::Failed(text.into()));
    let outcome = replay_answer_with("02-simple-agent-url-tool-run-nonstream.json", &[("fetch_content", failed)]).await;
    let Step::ToolUse(t) = &outcome.steps.steps[0] else { panic!("a tool_use step") };
    assert_eq!(t.output.as_ref().unwrap()["status"], "error");
}

#[tokio::test]
async fn replays_max_tokens_50() {
    replay_answer("04-agent-case-max-tokens-50.json").await;
}

#[tokio::test]
async fn replays_empty_input() {
    replay_answer("04-agent-case-empty-input.json").await;
}

#[tokio::test]
async fn replays_built_in_tools_off() {
    replay_answer("04-agent-case-no-tools-date-off.json").await;
}

#[tokio::test]
async fn replays_system_prompt_placeholders() {
    replay_answer("04-agent-case-system-prompt-placeholders.json").await;
}

#[tokio::test]
async fn replays_calc_ok() {
    let outcome = replay_answer("04-agent-case-calc-ok.json").await;
    assert_eq!(outcome.model_calls, 2);
    assert_eq!(outcome.usage.total_tokens, Some(36), "usage is summed over the model calls");
}

#[tokio::test]
async fn replays_calc_div_zero() {
    replay_answer("04-agent-case-calc-div-zero.json").await;
}

#[tokio::test]
async fn replays_calc_syntax() {
    replay_answer("04-agent-case-calc-syntax.json").await;
}

#[tokio::test]
async fn replays_calc_function() {
    replay_answer("04-agent-case-calc-function.json").await;
}

#[tokio::test]
async fn replays_current_date() {
    replay_answer("04-agent-case-current-date.json").await;
}

#[tokio::test]
async fn replays_current_date_bad_timezone() {
    replay_answer("04-agent-case-current-date-badtz.json").await;
}

#[tokio::test]
async fn replays_unknown_tool() {
    let outcome = replay_answer("04-agent-case-unknown-tool.json").await;
    assert_eq!(outcome.steps.content_blocks(1), json!([]), "no tool_use block for an unknown tool");
}

#[tokio::test]
async fn replays_truncated_json_arguments_repaired() {
    replay_answer("04-agent-case-invalid-json-args.json").await;
}

#[tokio::test]
async fn replays_garbage_arguments_ending_the_run() {
    let outcome = replay_answer("04-agent-case-garbage-json-args.json").await;
    assert_eq!((outcome.text.as_str(), outcome.model_calls), ("", 1));
    assert_eq!(outcome.steps.content_blocks(1), json!([]));
}

#[tokio::test]
async fn replays_schema_violation() {
    let outcome = replay_answer("04-agent-case-schema-invalid-args.json").await;
    let Step::ToolUse(t) = &outcome.steps.steps[0] else { panic!("a tool_use step") };
    assert_eq!(t.state, ToolState::Invalid);
}

#[tokio::test]
async fn replays_wrong_argument_type() {
    replay_answer("04-agent-case-wrong-type-args.json").await;
}

#[tokio::test]
async fn replays_parallel_calls() {
    replay_answer("04-agent-case-parallel-calls.json").await;
}

#[tokio::test]
async fn replays_max_iterations_3() {
    let outcome = replay_answer("04-agent-case-max-iterations-3.json").await;
    assert!(outcome.hit_limit);
    assert_eq!(outcome.model_calls, 3);
}

#[tokio::test]
async fn replays_narration_then_tool() {
    replay_answer("04-agent-case-narration-then-tool.json").await;
}

#[tokio::test]
async fn replays_llm_http_401_without_retrying() {
    let (_, outcome, sent) = replay("04-agent-case-llm-http-401.json").await;
    let Err(AgentError::Llm(e)) = outcome else { panic!("a model error, got {outcome:?}") };
    assert!(e.0.starts_with("OpenAI API error: 401 Unauthorized"), "{e}");
    assert!(!e.0.contains("sk-mock"));
    assert_eq!(sent.len(), 1);
}

#[tokio::test]
async fn replays_llm_http_500_after_two_retries() {
    let (_, outcome, sent) = replay("04-agent-case-llm-http-500.json").await;
    let Err(AgentError::Llm(e)) = outcome else { panic!("a model error, got {outcome:?}") };
    assert!(e.0.contains("500 Internal Server Error"), "{e}");
    assert_eq!(sent.len(), 3);
}

#[test]
fn calculator_matches_every_recorded_case() {
    let cases = fixture("17-calculator-inprocess.json");
    for case in cases["cases"].as_array().unwrap() {
        let expr = case["expression"].as_str().unwrap();
        assert_eq!(Json::Object(agent::calculator::evaluate(expr)), case["output_data"], "{expr:?}");
    }
}

#[test]
fn dataframe_results_render_as_recorded() {
    let cases = fixture("15-url-tool-inprocess.json");
    let columns: Vec<String> =
        ["text", "url", "title", "description", "content_type", "language"].iter().map(|s| (*s).to_owned()).collect();
    let mut checked = 0;
    for case in cases["cases"].as_array().unwrap() {
        let (Some(rows), Some(content)) =
            (case["tool_message_artifact"].as_array(), case["tool_message_content"].as_str())
        else {
            continue;
        };
        let rows: Vec<Vec<Json>> =
            rows.iter().map(|r| columns.iter().map(|c| r[c.as_str()].clone()).collect()).collect();
        assert_eq!(dataframe_repr(&columns, &rows), content);
        checked += 1;
    }
    assert!(checked >= 2);
}

/// Records what the loop reports.
#[derive(Default)]
struct Recording {
    tokens: Vec<String>,
    states: Vec<Vec<(String, Option<ToolState>)>>,
    started: Vec<String>,
    ended: Vec<String>,
}

impl AgentObserver for Recording {
    fn on_token(&mut self, chunk: &str) {
        self.tokens.push(chunk.to_owned());
    }
    fn on_steps(&mut self, steps: &AgentSteps) {
        self.states.push(
            steps
                .steps
                .iter()
                .map(|s| match s {
                    Step::Text { text, .. } => (text.clone(), None),
                    Step::ToolUse(t) => (t.name.clone(), Some(t.state)),
                })
                .collect(),
        );
    }
    fn on_tool_start(&mut self, tool: &str, _: &str) {
        self.started.push(tool.to_owned());
    }
    fn on_tool_end(&mut self, tool: &str, _: &str) {
        self.ended.push(tool.to_owned());
    }
}

/// A tool that waits until `n` calls are running at once, so sequential execution would hang.
struct Rendezvous {
    barrier: Arc<tokio::sync::Barrier>,
    schema: Json,
}

impl Tool for Rendezvous {
    fn name(&self) -> &str {
        "meet"
    }
    fn description(&self) -> &str {
        "Waits for its peers."
    }
    fn parameters(&self) -> &Json {
        &self.schema
    }
    fn call(&self, args: Json) -> ToolFuture<'_> {
        Box::pin(async move {
            self.barrier.wait().await;
            let n = args["n"].as_i64().unwrap_or(-1);
            Ok(ToolOutput::Table(Table {
                columns: vec!["n".into(), "label".into()],
                rows: vec![vec![json!(n), json!(format!("row {n}"))]],
            }))
        })
    }
}

#[tokio::test]
async fn parallel_calls_run_concurrently_and_results_keep_call_order() {
    let mock = ScriptedLlm::start(vec![
        openai_tool_calls(Some("Meeting. "), &[("c1", "meet", r#"{"n": 1}"#), ("c2", "meet", r#"{"n": "2"}"#)]),
        openai_text("Both met."),
    ]);
    let tool = Rendezvous {
        barrier: Arc::new(tokio::sync::Barrier::new(2)),
        schema: json!({"properties": {"n": {"type": "integer"}}, "required": ["n"], "type": "object"}),
    };
    let tools: Vec<Arc<dyn Tool>> = vec![Arc::new(tool)];
    let mut req = request(&mock.openai_base());
    req.messages.push(ChatMessage::User("go".into()));
    let mut seen = Recording::default();
    let (rt, config) = (runtime(), AgentConfig::default());
    let run = agent::run(&rt, req, &tools, &config, &mut seen, std::future::pending());
    let outcome = tokio::time::timeout(Duration::from_secs(5), run).await.expect("the calls ran concurrently").unwrap();
    assert_eq!(outcome.text, "Meeting. Both met.");
    assert_eq!(seen.tokens.concat(), "Meeting. Both met.", "every text delta is streamed");
    assert_eq!((seen.started.len(), seen.ended.len()), (2, 2));
    // Narration, then both tools running, then both executed.
    assert_eq!(
        seen.states[1],
        vec![
            ("Meeting. ".into(), None),
            ("meet".into(), Some(ToolState::Running)),
            ("meet".into(), Some(ToolState::Running))
        ]
    );
    let last = seen.states.last().unwrap();
    assert!(last.iter().filter(|(_, s)| s.is_some()).all(|(_, s)| *s == Some(ToolState::Executed)));
    let second = &mock.requests()[1]["messages"];
    assert_eq!(second[1]["tool_calls"][1]["function"]["arguments"], r#"{"n": "2"}"#);
    // A table goes to the model as pandas prints it; the string "2" was coerced to an integer.
    assert_eq!(second[2], json!({"content": "   n  label\n0  1  row 1", "role": "tool", "tool_call_id": "c1"}));
    assert_eq!(second[3], json!({"content": "   n  label\n0  2  row 2", "role": "tool", "tool_call_id": "c2"}));
    let Step::ToolUse(t) = &outcome.steps.steps[1] else { panic!() };
    assert_eq!(t.output.as_ref().unwrap()["artifact"], json!([{"n": 1, "label": "row 1"}]));
}

/// A tool that never finishes, or returns a huge text.
struct Slow {
    schema: Json,
    huge: bool,
}

impl Tool for Slow {
    fn name(&self) -> &str {
        if self.huge {
            "huge"
        } else {
            "hang"
        }
    }
    fn description(&self) -> &str {
        "x"
    }
    fn parameters(&self) -> &Json {
        &self.schema
    }
    fn call(&self, _args: Json) -> ToolFuture<'_> {
        let huge = self.huge;
        Box::pin(async move {
            if huge {
                Ok(ToolOutput::Text("é".repeat(10_000)))
            } else {
                std::future::pending().await
            }
        })
    }
}

#[tokio::test]
async fn a_hanging_tool_times_out_and_a_huge_result_is_cut() {
    let mock = ScriptedLlm::start(vec![
        openai_tool_calls(None, &[("c1", "hang", "{}"), ("c2", "huge", "{}")]),
        openai_text("done"),
    ]);
    let schema = json!({"properties": {}, "type": "object"});
    let tools: Vec<Arc<dyn Tool>> =
        vec![Arc::new(Slow { schema: schema.clone(), huge: false }), Arc::new(Slow { schema, huge: true })];
    let mut req = request(&mock.openai_base());
    req.messages.push(ChatMessage::User("go".into()));
    let config = AgentConfig {
        tool_timeout: Some(Duration::from_millis(100)),
        max_tool_output_bytes: 101,
        ..AgentConfig::default()
    };
    let outcome = agent::run(&runtime(), req, &tools, &config, &mut NoObserver, std::future::pending()).await.unwrap();
    assert_eq!(outcome.text, "done");
    let second = &mock.requests()[1]["messages"];
    assert_eq!(second[2]["content"], "Error: the tool 'hang' did not finish within 0.1 s");
    let cut = second[3]["content"].as_str().unwrap();
    assert_eq!(cut, format!("{}... [truncated]", "é".repeat(50)));
    let Step::ToolUse(t) = &outcome.steps.steps[0] else { panic!() };
    assert_eq!(t.output.as_ref().unwrap()["status"], "error");
    let Step::ToolUse(t) = &outcome.steps.steps[1] else { panic!() };
    assert_eq!(t.output.as_ref().unwrap()["content"], cut);
}

#[tokio::test]
async fn cancelling_drops_the_in_flight_model_call() {
    let mock = ScriptedLlm::start(vec![Reply::Hang]);
    let mut req = request(&mock.openai_base());
    req.messages.push(ChatMessage::User("go".into()));
    let started = Instant::now();
    let cancel = tokio::time::sleep(Duration::from_millis(100));
    let outcome = agent::run(&runtime(), req, &[], &AgentConfig::default(), &mut NoObserver, cancel).await;
    assert_eq!(outcome.unwrap_err(), AgentError::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(2));
    let deadline = Instant::now() + Duration::from_secs(2);
    while mock.closed_early() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(mock.closed_early(), 1, "the connection was closed");
    // No tools: the key is absent, as Langflow sends it.
    assert!(mock.requests()[0].get("tools").is_none());
}

#[tokio::test]
async fn anthropic_tool_use_round_trip_streamed_and_whole() {
    let tool_use = vec![
        json!({"type": "message_start", "message": {"usage": {"input_tokens": 5, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "tu_1", "name": "evaluate_expression", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"expression\": "}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "\"6*7\"}"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 4}}),
        json!({"type": "message_stop"}),
    ];
    let whole = json!({"id": "msg", "type": "message", "role": "assistant", "stop_reason": "end_turn",
                       "content": [{"type": "text", "text": "It is 42."}], "usage": {"input_tokens": 9, "output_tokens": 3}});
    for stream in [true, false] {
        let first = if stream {
            Reply::AnthropicSse(tool_use.clone())
        } else {
            Reply::Json(
                200,
                json!({"id": "msg", "type": "message", "role": "assistant", "stop_reason": "tool_use",
                "content": [{"type": "tool_use", "id": "tu_1", "name": "evaluate_expression", "input": {"expression": "6*7"}}],
                "usage": {"input_tokens": 5, "output_tokens": 4}}),
            )
        };
        let mock = ScriptedLlm::start(vec![first, Reply::Json(200, whole.clone())]);
        let mut req =
            ConversationRequest::new("Anthropic", Protocol::Anthropic, &mock.url(), ApiKey::new("sk-ant"), "claude-x");
        req.stream = stream;
        req.messages = vec![ChatMessage::System("Be exact.".into()), ChatMessage::User("6*7?".into())];
        let tools: Vec<Arc<dyn Tool>> = vec![Arc::new(Calculator::new())];
        // Streamed: one model call (the cap), so only the tool round is exercised.
        let config = AgentConfig { max_iterations: if stream { 1 } else { 15 }, ..AgentConfig::default() };
        let outcome =
            agent::run(&runtime(), req, &tools, &config, &mut NoObserver, std::future::pending()).await.unwrap();
        assert_eq!(outcome.hit_limit, stream);
        let sent = mock.requests();
        assert_eq!(mock.paths()[0], "/v1/messages");
        assert_eq!(sent[0]["system"], "Be exact.");
        assert_eq!(sent[0]["tools"][0]["name"], "evaluate_expression");
        assert_eq!(sent[0]["tools"][0]["input_schema"]["properties"]["expression"]["type"], "string");
        let Step::ToolUse(t) = &outcome.steps.steps[0] else { panic!() };
        assert_eq!(t.input, json!({"expression": "6*7"}));
        assert_eq!(t.output.as_ref().unwrap()["content"], r#"{"result": "42"}"#);
        if !stream {
            assert_eq!(outcome.text, "It is 42.");
            assert_eq!(outcome.usage.input_tokens, Some(14));
            assert_eq!(
                sent[1]["messages"],
                json!([
                    {"role": "user", "content": "6*7?"},
                    {"role": "assistant", "content": [{"type": "tool_use", "id": "tu_1", "name": "evaluate_expression", "input": {"expression": "6*7"}}]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "{\"result\": \"42\"}"}]}
                ])
            );
        }
    }
}

#[tokio::test]
async fn the_address_policy_refuses_before_connecting() {
    let mut req = request("http://169.254.169.254/v1");
    req.messages.push(ChatMessage::User("go".into()));
    let outcome =
        agent::run(&runtime(), req, &[], &AgentConfig::default(), &mut NoObserver, std::future::pending()).await;
    let Err(AgentError::Llm(e)) = outcome else { panic!("refused, got {outcome:?}") };
    assert!(e.0.contains("refusing to connect"), "{e}");
}

#[tokio::test]
async fn cancelling_stops_a_running_tool() {
    let mock = ScriptedLlm::start(vec![openai_tool_calls(None, &[("c1", "hang", "{}")])]);
    let tools: Vec<Arc<dyn Tool>> = vec![Arc::new(Slow { schema: json!({"type": "object"}), huge: false })];
    let mut req = request(&mock.openai_base());
    req.messages.push(ChatMessage::User("go".into()));
    let mut seen = Recording::default();
    let config = AgentConfig { tool_timeout: None, ..AgentConfig::default() };
    let cancel = tokio::time::sleep(Duration::from_millis(150));
    let started = Instant::now();
    let outcome = agent::run(&runtime(), req, &tools, &config, &mut seen, cancel).await;
    assert_eq!(outcome.unwrap_err(), AgentError::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(seen.started, ["hang"], "the tool was running when the run was cancelled");
    assert!(seen.ended.is_empty());
}

#[tokio::test]
async fn an_ollama_server_gets_the_openai_conversation_with_max_tokens() {
    let mock = ScriptedLlm::start(vec![openai_text("hello there")]);
    let mut req =
        ConversationRequest::new("Ollama", Protocol::OpenAi, &mock.openai_base(), ApiKey::default(), "llama3");
    req.max_tokens = Some(50);
    req.messages = vec![
        ChatMessage::System("sys".into()),
        ChatMessage::User("earlier".into()),
        ChatMessage::Assistant { content: Some("answer".into()), tool_calls: vec![] },
        ChatMessage::User("now".into()),
    ];
    let mut tokens = Vec::new();
    let turn = runtime().converse(&req, &mut |t: &str| tokens.push(t.to_owned())).await.unwrap();
    assert_eq!((turn.text.as_str(), tokens.len()), ("hello there", 2));
    assert_eq!(turn.finish_reason.as_deref(), Some("stop"));
    assert_eq!(turn.usage.total_tokens, Some(18));
    let body = &mock.requests()[0];
    assert_eq!(mock.paths()[0], "/v1/chat/completions");
    assert_eq!(body["max_tokens"], 50);
    assert_eq!(
        body["messages"],
        json!([{"content": "sys", "role": "system"}, {"content": "earlier", "role": "user"},
               {"content": "answer", "role": "assistant"}, {"content": "now", "role": "user"}])
    );
}

fn assert_send<T: Send>(_: &T) {}

#[test]
fn a_run_can_move_between_threads() {
    let rt = runtime();
    let config = AgentConfig::default();
    let tools: Vec<Arc<dyn Tool>> = vec![Arc::new(Calculator::new())];
    let mut observer = Recording::default();
    let run = agent::run(&rt, request("http://127.0.0.1:9/v1"), &tools, &config, &mut observer, std::future::pending());
    assert_send(&run);
}

#[tokio::test]
async fn arguments_keep_the_models_key_order_when_sent_back() {
    let mock = ScriptedLlm::start(vec![
        openai_tool_calls(None, &[("c1", "search", r#"{"zone":"x","mode":"Web"}"#)]),
        openai_text("ok"),
    ]);
    let spec = ToolSpec {
        name: "search".into(),
        description: "d".into(),
        parameters: json!({"properties": {"query": {"type": "string"}, "mode": {"type": "string"}, "zone": {"type": "string"}},
                           "required": ["query"], "type": "object"}),
    };
    let tools: Vec<Arc<dyn Tool>> = vec![Arc::new(Recorded(spec, None))];
    let mut req = request(&mock.openai_base());
    req.messages.push(ChatMessage::User("go".into()));
    let outcome = agent::run(&runtime(), req, &tools, &AgentConfig::default(), &mut NoObserver, std::future::pending())
        .await
        .unwrap();
    let second = &mock.requests()[1]["messages"];
    assert_eq!(second[1]["tool_calls"][0]["function"]["arguments"], r#"{"zone": "x", "mode": "Web"}"#);
    assert_eq!(
        second[2]["content"],
        "Error invoking tool 'search' with kwargs {'zone': 'x', 'mode': 'Web'} with error:\n query: Field required\n Please fix the error and try again."
    );
    let Step::ToolUse(t) = &outcome.steps.steps[0] else { panic!() };
    assert!(t.error.as_deref().unwrap().contains("input_value={'zone': 'x', 'mode': 'Web'}, input_type=dict"));
}
