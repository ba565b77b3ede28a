//! Agent overhead: what the engine and the tool loop add to the model's own time.
//!
//! The model is the scripted mock provider of the HTTP tests (`tests/support/mock_llm.rs`),
//! served on 127.0.0.1 by a thread of this process and answering at once. Each case is measured
//! next to its baseline in the same run:
//! - `agent/one_tool_call`: Simple Agent with its built-in tools (`ChatInput → Agent →
//!   ChatOutput`, one supervisor and one actor per vertex) where the model calls
//!   `evaluate_expression` once and then answers: two model round trips and one tool run;
//! - `agent/no_tool_call`: the same flow, the model answering at once: one round trip;
//! - `model/two_round_trips` and `model/one_round_trip`: the same streamed requests (same
//!   messages, same tools) sent by the same LLM client without any engine or agent around them.
//!
//! The difference, divided by the number of round trips, is the overhead per model round trip
//! (the target is under 1 ms). After criterion's groups, an interleaved pass prints that figure
//! from medians of the same run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/support/mock_llm.rs"]
mod mock_llm;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use flowactor_actors::agent::{Calculator, CurrentDate, Tool};
use flowactor_actors::engine::{ArbiterPool, BuildRequest, Engine, EngineSettings};
use flowactor_actors::graph::CompiledGraph;
use flowactor_actors::llm::address::OutboundPolicy;
use flowactor_actors::llm::{
    ApiKey, ChatMessage, ConversationRequest, LlmRuntime, LlmSettings, Protocol, ToolCall, ToolSpec,
};
use flowactor_actors::store::messages::MessageStore;
use flowactor_actors::Store;
use mock_llm::MockLlm;
use serde_json::{json, Value};
use uuid::Uuid;

const AGENT: &str = "Agent-EXpSZ";
const EXPRESSION: &str = "2**10 - 7/2";

/// Simple Agent (Langflow 1.13's starter) without its URL and Web Search nodes.
fn simple_agent_builtins() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/flows/simple_agent__lf1.13.0.json");
    let mut flow: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let data = &mut flow["data"];
    let keep = |id: &str| !id.starts_with("URLComponent") && !id.starts_with("UnifiedWebSearch");
    data["nodes"].as_array_mut().unwrap().retain(|n| keep(n["id"].as_str().unwrap()));
    data["edges"].as_array_mut().unwrap().retain(|e| keep(e["source"].as_str().unwrap()));
    flow["data"].take()
}

fn llm_settings() -> LlmSettings {
    LlmSettings { outbound: OutboundPolicy::new(true, &["127.0.0.1".to_owned()]).unwrap(), ..LlmSettings::default() }
}

struct Rig {
    system: actix_rt::SystemRunner,
    engine: Engine,
    graph: Arc<CompiledGraph>,
    llm: LlmRuntime,
    mock: MockLlm,
}

impl Rig {
    fn new() -> Self {
        let mock = MockLlm::start();
        let system = actix_rt::System::new();
        let messages = MessageStore::open(&Store::temporary().unwrap()).unwrap();
        let arbiters = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let engine = system.block_on(async {
            Engine::new(
                ArbiterPool::new(arbiters),
                messages,
                EngineSettings { llm: llm_settings(), ..EngineSettings::default() },
            )
        });
        let graph = Arc::new(CompiledGraph::parse(&simple_agent_builtins()).unwrap());
        Self { system, engine, graph, llm: LlmRuntime::new(llm_settings()), mock }
    }

    fn script(&self, tool_call: bool) {
        if tool_call {
            self.mock
                .set_script(json!({"mode": "tool", "tool": "evaluate_expression", "args": {"expression": EXPRESSION}}));
        } else {
            self.mock.set_script(json!({"mode": "text"}));
        }
    }

    /// One `/run`-like build of the flow; returns the answer text.
    fn agent(&self) -> String {
        let mut req = BuildRequest::run(Uuid::new_v4()).with_input("bench").with_tweaks(json!({AGENT: {
            "model": [{"name": "gpt-4o-mini", "provider": "OpenAI", "metadata": {}}],
            "api_key": "sk-mock",
        }}));
        req.variables = HashMap::from([("OPENAI_BASE_URL".to_owned(), self.mock.openai_base())]);
        req.quiet = true;
        let handle = self.engine.start(self.graph.clone(), req).unwrap();
        let outcome = self.system.block_on(handle.finish()).unwrap();
        outcome.text_of("ChatOutput-KxTA8").or_else(|| outcome.text_of(AGENT)).unwrap_or_default()
    }

    /// The same model round trips through the same client, nothing else.
    fn model(&self, tool_call: bool) -> String {
        let spec = |t: &dyn Tool| ToolSpec {
            name: t.name().to_owned(),
            description: t.description().to_owned(),
            parameters: t.parameters().clone(),
        };
        let mut req = ConversationRequest::new(
            "OpenAI",
            Protocol::OpenAi,
            &self.mock.openai_base(),
            ApiKey::new("sk-mock"),
            "gpt-4o-mini",
        );
        req.messages.push(ChatMessage::System("You are a helpful assistant that can use tools.".into()));
        req.messages.push(ChatMessage::User("bench".into()));
        req.tools = vec![spec(&CurrentDate::new()), spec(&Calculator::new())];
        self.system.block_on(async {
            let mut sink = |_: &str| {};
            let first = self.llm.converse(&req, &mut sink).await.unwrap();
            if !tool_call {
                return first.text;
            }
            let call = first.tool_calls.first().cloned().unwrap_or(ToolCall {
                id: "call".into(),
                name: "evaluate_expression".into(),
                arguments: String::new(),
            });
            req.messages.push(ChatMessage::Assistant { content: None, tool_calls: first.tool_calls.clone() });
            req.messages.push(ChatMessage::Tool { tool_call_id: call.id, content: "{\"result\": \"1020.5\"}".into() });
            self.llm.converse(&req, &mut sink).await.unwrap().text
        })
    }
}

fn agent_overhead(c: &mut Criterion) {
    let rig = Rig::new();
    rig.script(true);
    let answer = rig.agent();
    assert!(answer.starts_with(mock_llm::FINAL_PREFIX), "the agent ran its tool: {answer}");
    assert!(rig.model(true).starts_with(mock_llm::FINAL_PREFIX));
    let mut group = c.benchmark_group("agent_overhead");
    group.sample_size(50).measurement_time(Duration::from_secs(5));
    group.bench_function("agent/one_tool_call", |b| b.iter(|| rig.agent()));
    group.bench_function("model/two_round_trips", |b| b.iter(|| rig.model(true)));
    rig.script(false);
    group.bench_function("agent/no_tool_call", |b| b.iter(|| rig.agent()));
    group.bench_function("model/one_round_trip", |b| b.iter(|| rig.model(false)));
    group.finish();
    summary(&rig);
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Interleaved samples of each case and its baseline, so both see the same machine state.
fn summary(rig: &Rig) {
    const ROUNDS: usize = 300;
    for (tool_call, trips) in [(true, 2u32), (false, 1)] {
        rig.script(tool_call);
        let (mut agent, mut model) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
        for _ in 0..ROUNDS {
            let t = Instant::now();
            rig.agent();
            agent.push(t.elapsed());
            let t = Instant::now();
            rig.model(tool_call);
            model.push(t.elapsed());
        }
        let (a, m) = (median(agent), median(model));
        let per_trip = a.saturating_sub(m) / trips;
        println!(
            "agent overhead ({}): agent run p50 {a:?}, the same {trips} model round trip(s) p50 {m:?}, \
             overhead per round trip {per_trip:?} (target < 1ms)",
            if tool_call { "one tool call" } else { "no tool call" },
        );
    }
}

criterion_group!(benches, agent_overhead);
criterion_main!(benches);
