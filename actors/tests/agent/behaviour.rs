//! What the recordings cannot show: what the loop reports while it runs, concurrency of
//! parallel calls, timeouts and output bounds, cancellation, Anthropic and Ollama round trips,
//! the address policy, and the key order of re-sent arguments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

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
