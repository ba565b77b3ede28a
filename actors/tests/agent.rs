//! The Agent's tool loop against scripted model providers on 127.0.0.1.
//!
//! The `replays_*` tests take a recording of Langflow 1.13 (`fixtures/agent/04-agent-case-*`),
//! script the mock with the model answers recorded there, and check that the loop sends the
//! recorded request bodies round by round (messages, tools, every other field) and ends with
//! the recorded answer text and "Agent Steps" content blocks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "agent/behaviour.rs"]
mod behaviour;
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
