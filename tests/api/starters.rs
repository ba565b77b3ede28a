//! Langflow 1.13's starter projects, imported as shipped (`tests/fixtures/flows/*__lf1.13.0.json`),
//! run against the scripted mock model on 127.0.0.1 and, for their tools, the local page and
//! search server. Where a trace of Langflow 1.13 with the same mock exists, the model must receive
//! exactly the recorded request bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::agent_helpers::{assert_same_requests, message, recorded_bodies, run, setup, trace, tweaks};
use crate::common::{events, fixture, Auth, TestServer};
use crate::mock_llm::{MockLlm, FINAL_PREFIX, MOCK_REPLY_PREFIX, REPLY_PREFIX};
use serde_json::{json, Value};

/// The ids of a flow's Agent nodes.
fn agents(flow: &Value) -> Vec<String> {
    flow["data"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["data"]["type"] == "Agent")
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A starter imported for a fresh user, with the mock model tweaks for every Agent.
struct Starter {
    s: TestServer,
    key: String,
    id: String,
    tweaks: Value,
}

impl Starter {
    fn start(mock: &MockLlm, file: &str) -> Self {
        Self::start_on(TestServer::start(), mock, file)
    }

    fn start_on(s: TestServer, mock: &MockLlm, file: &str) -> Self {
        let flow = fixture(file);
        let (key, id) = setup(&s, mock, &flow);
        let ids = agents(&flow);
        let tweaks = tweaks(&ids.iter().map(String::as_str).collect::<Vec<_>>(), &json!({}));
        Self { s, key, id, tweaks }
    }

    fn run(&self, input: &str, session: &str) -> Value {
        let r = run(&self.s, &self.key, &self.id, input, session, &self.tweaks);
        r.expect(200);
        r.json.clone()
    }
}

/// Memory Chatbot over the recorded three turns, then a fourth with `n_messages=2`: the same
/// system prompt, tools (`retrieve_memory` first) and history as Langflow sent.
#[test]
fn memory_chatbot_sends_the_recorded_requests_over_four_turns() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "text"}));
    let st = Starter::start(&mock, "memory_chatbot__lf1.13.0.json");
    let recorded = trace("05-memory-chatbot-3-turns.json");
    for (k, turn) in recorded["turns"].as_array().unwrap().iter().enumerate() {
        let body = &turn["request"]["body"];
        let r = st.run(body["input_value"].as_str().unwrap(), body["session_id"].as_str().unwrap());
        assert_eq!(message(&r)["text"], message(&turn["response"])["text"], "turn {k}");
        assert_eq!(message(&r)["content_blocks"], json!([]), "turn {k}");
        let sent = mock.requests();
        assert_same_requests(&sent[k..], &recorded_bodies(turn));
    }
    let fourth = trace("05-memory-chatbot-n-messages-2.json");
    let body = &fourth["request"]["body"];
    let r = run(
        &st.s,
        &st.key,
        &st.id,
        body["input_value"].as_str().unwrap(),
        body["session_id"].as_str().unwrap(),
        &body["tweaks"],
    );
    r.expect(200);
    assert_eq!(message(&r.json)["text"], message(&fourth["response"])["text"]);
    assert_same_requests(&mock.requests()[3..], &recorded_bodies(&fourth));
}

/// The starter's Memory Base has none selected: the model's `retrieve_memory` call gets
/// Langflow's error text as its tool result, and the run answers.
#[test]
fn memory_chatbot_retrieve_memory_reports_that_no_memory_base_is_selected() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "tool", "tool": "retrieve_memory", "args": {"search_query": "name"}}));
    let st = Starter::start(&mock, "memory_chatbot__lf1.13.0.json");
    let recorded = trace("05-memory-chatbot-memorybase-tool.json");
    let body = &recorded["request"]["body"];
    let r = st.run(body["input_value"].as_str().unwrap(), body["session_id"].as_str().unwrap());
    let (m, want) = (message(&r), message(&recorded["response"]));
    assert_eq!(m["text"], want["text"]);
    assert_eq!(m["text"], format!("{FINAL_PREFIX}1. Last tool result starts: No Memory Base is selected."));
    assert_same_requests(&mock.requests(), &recorded_bodies(&recorded));
    let (leaf, want_leaf) = (&m["content_blocks"][0]["contents"][0], &want["content_blocks"][0]["contents"][0]);
    for k in ["type", "header", "name", "tool_input", "error"] {
        assert_eq!(leaf[k], want_leaf[k], "{k}");
    }
    for k in ["content", "status", "artifact", "type", "name"] {
        assert_eq!(leaf["output"][k], want_leaf["output"][k], "output.{k}");
    }
}

/// A Memory Base named by a tweak is not attached to the flow (flowactor has no Memory Bases):
/// Langflow's lookup error is the tool result.
#[test]
fn a_named_memory_base_is_not_attached_to_the_flow() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "tool", "tool": "retrieve_memory", "args": {"search_query": "what is my name"}}));
    let mut st = Starter::start(&mock, "memory_chatbot__lf1.13.0.json");
    st.tweaks["MemoryBase-xePih"] = json!({"memory_base": "spec-agent-mb"});
    let r = st.run("What is my name?", "mb");
    let sent = mock.requests();
    let tool = sent[1].body["messages"].as_array().unwrap().iter().find(|m| m["role"] == "tool").cloned().unwrap();
    assert_eq!(tool["content"], "Memory Base 'spec-agent-mb' is not attached to this flow.");
    let leaf = &message(&r)["content_blocks"][0]["contents"][0];
    assert_eq!(leaf["output"]["status"], "error");
    assert_eq!(leaf["header"]["title"], "Executed **retrieve_memory**");
}

const TRAVEL_AGENTS: [&str; 3] = ["Agent-kwDEl", "Agent-v7SnN", "Agent-1ON2c"];

/// Travel Planning Agents: three chained agents, each calling the calculator once; every request
/// (system prompts, tool lists in Langflow's order, the chained user turns, the tool rounds) is
/// the recorded one.
#[test]
fn travel_planning_agents_send_the_recorded_requests() {
    let pages = crate::pages::Pages::start();
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "tool", "tool": "evaluate_expression", "args": {"expression": "3*(120+45.5)/2"}}));
    let s = TestServer::start_with(&[("FLOWACTOR_WEB_SEARCH_URL", &format!("{}/search", pages.url()))]);
    let st = Starter::start_on(s, &mock, "travel_planning_agents__lf1.13.0.json");
    assert_eq!(agents(&fixture("travel_planning_agents__lf1.13.0.json")), TRAVEL_AGENTS);
    let recorded = trace("03-travel-calculator-run-nonstream.json");
    let body = &recorded["request"]["body"];
    let r = st.run(body["input_value"].as_str().unwrap(), body["session_id"].as_str().unwrap());
    let (m, want) = (message(&r), message(&recorded["response"]));
    assert_eq!(m["text"], want["text"]);
    assert_eq!(m["properties"]["usage"], want["properties"]["usage"]);
    assert_eq!(m["properties"]["source"], want["properties"]["source"]);
    assert_same_requests(&mock.requests(), &recorded_bodies(&recorded));
    let leaf = &m["content_blocks"][0]["contents"][0];
    assert_eq!(leaf["output"]["content"], "{\"result\": \"248.25\"}");
}

/// The flow as the Playground builds it: every Agent's model and key in its template.
fn with_mock_model_in_templates(mut flow: Value) -> Value {
    for n in flow["data"]["nodes"].as_array_mut().unwrap() {
        if n["data"]["type"] == "Agent" {
            let t = &mut n["data"]["node"]["template"];
            t["model"]["value"] = json!([{"name": "gpt-4o-mini", "provider": "OpenAI", "metadata": {}}]);
            t["api_key"]["value"] = json!("sk-mock");
            t["api_key"]["load_from_db"] = json!(false);
        }
    }
    flow
}

/// Travel Planning Agents on `/build`: the tool vertices end (with `output_types: ["Tool"]`)
/// before the agent that uses them, and the model receives the recorded requests.
#[test]
fn travel_planning_agents_build_reports_tool_vertices_and_the_recorded_requests() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "tool", "tool": "evaluate_expression", "args": {"expression": "3*(120+45.5)/2"}}));
    let s = TestServer::start();
    let flow = with_mock_model_in_templates(fixture("travel_planning_agents__lf1.13.0.json"));
    let (key, id) = setup(&s, &mock, &flow);
    let recorded = trace("03-travel-calculator-build.json");
    let r = s.post(
        &format!("/api/v1/build/{id}/flow?event_delivery=direct"),
        Auth::Key(&key),
        &json!({"inputs": recorded["request"]["body"]["inputs"]}),
    );
    r.expect(200);
    let evs = events(&r.text);
    let ends = |evs: &[Value]| -> Vec<(String, Value)> {
        evs.iter()
            .filter(|e| e["event"] == "end_vertex")
            .map(|e| {
                (
                    e["data"]["build_data"]["id"].as_str().unwrap().to_owned(),
                    e["data"]["output_meta"]["output_types"].clone(),
                )
            })
            .collect()
    };
    // Every vertex ends with Langflow's output types; each tool vertex before its agent
    // (flowactor runs a vertex as soon as its inputs are there, so the order among
    // independent vertices can differ from Langflow's layers).
    let (mut got, mut want) = (ends(&evs), ends(recorded["events"].as_array().unwrap()));
    let position = |list: &[(String, Value)], id: &str| list.iter().position(|(v, _)| v == id).unwrap();
    for (tool, agent) in [
        ("UnifiedWebSearch-yjn0t", "Agent-kwDEl"),
        ("URL-bhDqU", "Agent-v7SnN"),
        ("CalculatorComponent-OmYXB", "Agent-1ON2c"),
    ] {
        assert!(position(&got, tool) < position(&got, agent), "{got:?}");
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want);
    let meta = |evs: &[Value], id: &str| {
        evs.iter().find(|e| e["event"] == "end_vertex" && e["data"]["build_data"]["id"] == id).unwrap()["data"]
            ["output_meta"]
            .clone()
    };
    for id in ["ChatInput-W63Xj", "URL-bhDqU", "Agent-1ON2c", "ChatOutput-a4VFO"] {
        assert_eq!(meta(&evs, id), meta(recorded["events"].as_array().unwrap(), id), "{id}");
    }
    assert_same_requests(&mock.requests(), &recorded_bodies(&recorded));
    // The calculator's call, with the log it emits, as recorded.
    let around = |evs: &[Value]| -> Vec<Value> {
        let start = evs
            .iter()
            .position(|e| e["event"] == "build_start" && e["data"]["id"] == "CalculatorComponent-OmYXB")
            .unwrap();
        evs[start..=start + 2].iter().map(|e| json!([e["event"], e["data"]])).collect()
    };
    assert_eq!(around(&evs), around(recorded["events"].as_array().unwrap()));
    let last = evs.iter().rev().find(|e| e["event"] == "end_vertex").unwrap();
    assert_eq!(
        last["data"]["build_data"]["data"]["results"]["message"]["text"],
        format!("{FINAL_PREFIX}1. Last tool result starts: {{\"result\": \"248.25\"}}")
    );
}

/// The texts of every Chat Output of a `/run` answer, in output order.
fn output_texts(r: &Value) -> Vec<String> {
    r["outputs"][0]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["results"]["message"]["text"].as_str().unwrap().to_owned())
        .collect()
}

/// The `template` of a Prompt node of a flow.
fn template(file: &str, node: &str) -> String {
    template_field(file, node, "template")
}

/// The tool names of a model request.
fn tool_names(body: &Value) -> Vec<String> {
    body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap().to_owned()).collect()
}

/// The role=tool contents of a model request.
fn tool_results(body: &Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

fn with_search(pages: &crate::pages::Pages) -> TestServer {
    TestServer::start_with(&[("FLOWACTOR_WEB_SEARCH_URL", &format!("{}/search", pages.url()))])
}

/// Blog Writer: the Chat Input's URL fills the agent's instructions (Prompt Template); the agent
/// has no input edge, so its turn is "Continue the conversation."; it fetches the page.
#[test]
fn blog_writer_fetches_the_page_named_in_its_instructions() {
    let pages = crate::pages::Pages::start();
    let page = format!("{}/page1.html", pages.url());
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "offered_tool", "tool": "fetch_content", "args": {"urls": [page]}}));
    let st = Starter::start(&mock, "blog_writer__lf1.13.0.json");
    let r = st.run(&page, "blog");
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert!(sent[0].body["messages"][0]["content"].as_str().unwrap().contains(&page));
    let msgs = sent[0].body["messages"].as_array().unwrap();
    assert_eq!(msgs.last().unwrap(), &json!({"role": "user", "content": "Continue the conversation."}));
    assert_eq!(tool_names(&sent[0].body), ["fetch_content", "evaluate_expression"], "only the calculator is on");
    assert!(tool_results(&sent[1].body)[0].contains("4242"));
    let text = &output_texts(&r)[0];
    assert!(text.starts_with(&format!("{FINAL_PREFIX}1. Last tool result starts: ")), "{text}");
}

/// Deep Research Agent: planner → researcher (with Web Search) → synthesiser, through two
/// Prompt templates.
#[test]
fn deep_research_agent_chains_plan_research_and_synthesis() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "text"}));
    let file = "deep_research_agent__lf1.13.0.json";
    let st = Starter::start(&mock, file);
    let r = st.run("quantum batteries", "dr");
    let p = MOCK_REPLY_PREFIX;
    let plan = format!("{p}quantum batteries");
    let research = format!("{p}{}", template(file, "Prompt-rQ5Up").replace("{previous_response}", &plan));
    let findings = template(file, "Prompt-aHVYv")
        .replace("{search_results}", &research)
        .replace("{input_value}", "quantum batteries");
    assert_eq!(output_texts(&r), [format!("{p}{findings}")]);
    let sent = mock.requests();
    assert_eq!(sent.len(), 3);
    // The starter turns both built-in tools off on every agent: only the researcher has a tool.
    assert!(sent[0].body.get("tools").is_none(), "{}", sent[0].body);
    assert_eq!(tool_names(&sent[1].body), ["perform_search"]);
}

/// Instagram Copywriter: the first agent searches the web (the local search service), the
/// second writes from its findings.
#[test]
fn instagram_copywriter_searches_then_writes() {
    let pages = crate::pages::Pages::start();
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "offered_tool", "tool": "perform_search", "args": {"query": "matcha trends"}}));
    let st = Starter::start_on(with_search(&pages), &mock, "instagram_copywriter__lf1.13.0.json");
    let r = st.run("matcha latte launch", "ig");
    let sent = mock.requests();
    assert_eq!(sent.len(), 3, "a tool round, its answer, then the writer");
    assert!(
        pages.requests().iter().any(|l| l.starts_with("GET /search?") && l.contains("matcha")),
        "{:?}",
        pages.requests()
    );
    assert!(tool_results(&sent[1].body)[0].contains("Mock Page One"), "{}", tool_results(&sent[1].body)[0]);
    let text = &output_texts(&r)[0];
    assert!(text.starts_with(&format!("{MOCK_REPLY_PREFIX}{FINAL_PREFIX}1. Last tool result starts: ")), "{text}");
}

/// Sequential Tasks Agents: researcher (Web Search) → analyst → the writer, whose instructions
/// (a Prompt of both outputs) are its only input.
#[test]
fn sequential_tasks_agents_hand_both_outputs_to_the_writer() {
    let pages = crate::pages::Pages::start();
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "offered_tool", "tool": "perform_search", "args": {"query": "solar"}}));
    let st = Starter::start_on(with_search(&pages), &mock, "sequential_tasks_agents__lf1.13.0.json");
    let r = st.run("solar roofs", "seq");
    let sent = mock.requests();
    assert_eq!(sent.len(), 4);
    let research = format!("{FINAL_PREFIX}1. Last tool result starts: ");
    let analysis = sent[2].body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_owned();
    assert!(analysis.starts_with(&research), "the analyst reads the research: {analysis}");
    let writer = sent[3].body["messages"][0]["content"].as_str().unwrap();
    assert!(writer.contains(&format!("{MOCK_REPLY_PREFIX}{analysis}")) && writer.contains(&analysis), "{writer}");
    assert_eq!(sent[3].body["messages"].as_array().unwrap().last().unwrap()["content"], "Continue the conversation.");
    assert_eq!(output_texts(&r), [format!("{MOCK_REPLY_PREFIX}Continue the conversation.")]);
}

/// Social Media Agent: Web Search and URL tools; the model reads a local page.
#[test]
fn social_media_agent_reads_a_page_with_its_url_tool() {
    let pages = crate::pages::Pages::start();
    let page = format!("{}/page1.html", pages.url());
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "offered_tool", "tool": "fetch_content", "args": {"urls": [page]}}));
    let st = Starter::start_on(with_search(&pages), &mock, "social_media_agent__lf1.13.0.json");
    let r = st.run("What does my page say?", "sm");
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        tool_names(&sent[0].body),
        ["perform_search", "fetch_content", "get_current_date", "evaluate_expression"]
    );
    assert!(tool_results(&sent[1].body)[0].contains("4242"));
    assert!(output_texts(&r)[0].starts_with(&format!("{FINAL_PREFIX}1. ")));
}

/// SaaS Pricing: the SQL tool on a SQLite file (local files allowed by
/// `LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS=false`); the rows reach the model as a table.
#[test]
fn saas_pricing_queries_a_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:///{}", dir.path().join("pricing.db").display());
    let mock = MockLlm::start();
    let query = "SELECT 'basic' AS plan, 10 AS price UNION ALL SELECT 'pro', 30";
    mock.set_script(json!({"mode": "offered_tool", "tool": "run_sql_query", "args": {"query": query}}));
    let s = TestServer::start_with(&[("LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS", "false")]);
    let mut st = Starter::start_on(s, &mock, "saas_pricing__lf1.13.0.json");
    st.tweaks["SQLComponent-NMSUa"] = json!({"database_url": db});
    let r = st.run("What does the pro plan cost?", "saas");
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    let table = &tool_results(&sent[1].body)[0];
    assert!(table.contains("basic") && table.contains("pro") && table.contains("30"), "{table}");
    assert!(output_texts(&r)[0].starts_with(&format!("{FINAL_PREFIX}1. Last tool result starts: ")));
}

/// Uploads the report fixture for a flow; its `file_path`.
fn upload_report(st: &Starter) -> (String, String) {
    let bytes = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/files/report.txt"))
        .unwrap();
    let r = st.s.upload(&format!("/api/v1/files/upload/{}", st.id), Auth::Key(&st.key), "file", "report.txt", &bytes);
    r.expect(201);
    (r.json["file_path"].as_str().unwrap().to_owned(), String::from_utf8(bytes).unwrap())
}

/// Portfolio Website Code Generator: the uploaded file is the agent's input.
#[test]
fn portfolio_website_code_generator_reads_an_uploaded_file() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "text"}));
    let mut st = Starter::start(&mock, "portfolio_website_code_generator__lf1.13.0.json");
    let (path, text) = upload_report(&st);
    st.tweaks["File-wvfA7"] = json!({"path": [path]});
    let r = st.run("", "pf");
    assert_eq!(output_texts(&r), [format!("{MOCK_REPLY_PREFIX}{text}")]);
}

/// Text Sentiment Analysis: one file feeds two branches of agents and two Chat Outputs.
#[test]
fn text_sentiment_analysis_answers_on_both_outputs() {
    let mock = MockLlm::start();
    mock.set_script(json!({"mode": "text"}));
    let file = "text_sentiment_analysis__lf1.13.0.json";
    let mut st = Starter::start(&mock, file);
    let (path, text) = upload_report(&st);
    st.tweaks["File-a3YoT"] = json!({"path": [path]});
    let r = st.run("", "tsa");
    let p = MOCK_REPLY_PREFIX;
    let summary = format!("{p}{text}");
    let recommendation = format!("{p}{}", template(file, "Prompt-zNjqy").replace("{summary}", &summary));
    let mut got = output_texts(&r);
    got.sort();
    let mut want = vec![summary.clone(), recommendation];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(mock.requests().len(), 3);
}

/// Custom Component Generator: URL and Memory Base tools in edge order (the built-ins are off); a
/// `retrieve_memory` call reads Langflow's "No Memory Base is selected." and the run answers.
#[test]
fn custom_component_generator_offers_url_and_memory_base() {
    let mock = MockLlm::start();
    mock.set_script(
        json!({"mode": "offered_tool", "tool": "retrieve_memory", "args": {"search_query": "my last component"}}),
    );
    let st = Starter::start(&mock, "custom_component_generator__lf1.13.0.json");
    let r = st.run("Write a component that reverses text", "ccg");
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(tool_names(&sent[0].body), ["fetch_content", "retrieve_memory"]);
    assert_eq!(tool_results(&sent[1].body), ["No Memory Base is selected."]);
    assert_eq!(output_texts(&r), [format!("{FINAL_PREFIX}1. Last tool result starts: No Memory Base is selected.")]);
}

/// The starters whose services cannot be local are refused before anything runs, with one
/// error naming every component type flowactor lacks (and the nodes of each).
#[test]
fn starters_that_need_external_services_are_refused_naming_every_missing_type() {
    let cases: [(&str, &[&str]); 5] = [
        ("document_q_a__lf1.13.0.json", &["Knowledge"]),
        ("hybrid_search_rag__lf1.13.0.json", &["AstraDB"]),
        ("knowledge_retrieval__lf1.13.0.json", &["Knowledge"]),
        ("meeting_summary__lf1.13.0.json", &["AssemblyAITranscriber"]),
        ("vector_store_rag__lf1.13.0.json", &["Knowledge"]),
    ];
    let mock = MockLlm::start();
    let s = TestServer::start();
    let (_, token) = s.user("refused");
    let (_, key) = s.api_key(&token, "k");
    s.post(
        "/api/v1/variables/",
        Auth::Key(&key),
        &json!({"name": "OPENAI_BASE_URL", "value": mock.openai_base(), "type": "Generic", "default_fields": []}),
    )
    .expect(201);
    for (file, missing) in cases {
        let flow = fixture(file);
        let nodes = flow["data"]["nodes"].as_array().unwrap();
        let named: Vec<String> = missing
            .iter()
            .map(|ty| {
                let ids: Vec<&str> =
                    nodes.iter().filter(|n| n["data"]["type"] == *ty).map(|n| n["id"].as_str().unwrap()).collect();
                assert!(!ids.is_empty(), "{file}: no {ty} node");
                let noun = if ids.len() == 1 { "node" } else { "nodes" };
                format!("'{ty}' ({noun} {})", ids.join(", "))
            })
            .collect();
        // One type (however many nodes): "type … is"; several: "types … are".
        let expected = if named.len() == 1 {
            format!("Component type {} is not supported by flowactor", named[0])
        } else {
            format!("Component types {} are not supported by flowactor", named.join(", "))
        };
        let id = s.create_flow(Auth::Key(&key), &flow, file);
        let ids = agents(&flow);
        let tweaks = tweaks(&ids.iter().map(String::as_str).collect::<Vec<_>>(), &json!({}));
        s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": "x", "tweaks": tweaks}))
            .expect_detail(400, &expected);
        s.post(&format!("/api/v1/build/{id}/flow"), Auth::Bearer(&token), &json!({"inputs": {"input_value": "x"}}))
            .expect_detail(400, &expected);
    }
    assert!(mock.requests().is_empty(), "nothing ran");
}

/// Research Translation Loop: arXiv (the local Atom endpoint) → Loop over the papers → Parser
/// (`Title: {title}\nSummary: {summary}`) → Language Model per paper → the Loop's `done` table
/// to the Chat Output.
#[test]
fn research_translation_loop_translates_every_paper_arxiv_returns() {
    let pages = crate::pages::Pages::start();
    let s = TestServer::start_with(&[("FLOWACTOR_ARXIV_URL", &format!("{}/arxiv/query", pages.url()))]);
    let mock = MockLlm::start();
    let mut st = Starter::start_on(s, &mock, "research_translation_loop__lf1.13.0.json");
    st.tweaks["LanguageModelComponent-ps5yd"] =
        json!({"model": [{"name": "gpt-4o-mini", "provider": "OpenAI", "metadata": {}}], "api_key": "sk-mock"});
    let r = st.run("quantum error correction", "rtl");
    let line = pages.requests().into_iter().find(|l| l.starts_with("GET /arxiv/query?")).unwrap();
    // The starter's own settings: every field, three results.
    assert!(line.contains("search_query=quantum+error+correction&max_results=3"), "{line}");
    let sent = mock.requests();
    assert_eq!(sent.len(), 3, "one model call per paper");
    for (i, req) in sent.iter().enumerate() {
        let n = i + 1;
        let parsed = format!(
            "Title: Paper {n} on\n  quantum error correction\nSummary: Abstract {n} about quantum error correction & more."
        );
        let msgs = req.body["messages"].as_array().unwrap();
        assert_eq!(msgs.last().unwrap(), &json!({"role": "user", "content": parsed}), "{}", req.body);
    }
    // The Loop's `done` table of the three replies (Chat Output's `clean_data` flattens lines).
    let rows: String = (1..=3)
        .map(|n| {
            format!(
                "\n| {REPLY_PREFIX}Title: Paper {n} on   quantum error correction Summary: Abstract {n} about quantum \
                 error correction & more. |"
            )
        })
        .collect();
    assert_eq!(output_texts(&r), [format!("| text |\n|---|{rows}")]);
}

/// Image Sentiment Analysis: its Language Model (no Agent) with the starter's system message.
#[test]
fn image_sentiment_analysis_answers_through_its_language_model() {
    let mock = MockLlm::start();
    let mut st = Starter::start(&mock, "image_sentiment_analysis__lf1.13.0.json");
    st.tweaks["LanguageModelComponent-KHx2J"] =
        json!({"model": [{"name": "gpt-4o-mini", "provider": "OpenAI", "metadata": {}}], "api_key": "sk-mock"});
    let r = st.run("a sunny beach", "img");
    assert_eq!(output_texts(&r), [format!("{REPLY_PREFIX}a sunny beach")]);
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    let system =
        template_field("image_sentiment_analysis__lf1.13.0.json", "LanguageModelComponent-KHx2J", "system_message");
    assert_eq!(sent[0].body["messages"][0], json!({"role": "system", "content": system}));
}

/// Content Aggregator: Web Search's News mode (the local feed) → Batch Run, one model call per
/// news item on its `summary` column into `brief` → Parser → the Agent → Chat Output and Save File.
#[test]
fn content_aggregator_briefs_each_news_item_then_aggregates() {
    let file = "content_aggregator__lf1.13.0.json";
    let pages = crate::pages::Pages::start();
    let mock = MockLlm::start();
    let s = TestServer::start_with(&[("FLOWACTOR_NEWS_SEARCH_URL", &format!("{}/news/search", pages.url()))]);
    let mut st = Starter::start_on(s, &mock, file);
    st.tweaks["BatchRun-ca"] =
        json!({"model": [{"name": "gpt-4o-mini", "provider": "OpenAI", "metadata": {}}], "api_key": "sk-mock"});
    let query = "latest developments in artificial intelligence";
    let r = st.run(query, "news");
    assert!(
        pages.requests().iter().any(|l| l.starts_with("GET /news/search?") && l.contains("latest")),
        "{:?}",
        pages.requests()
    );
    let sent = mock.requests();
    assert_eq!(sent.len(), 2, "one Batch Run call for the one news item, then the Agent");
    let batch = sent[0].body["messages"].as_array().unwrap();
    assert_eq!(batch[0], json!({"role": "system", "content": template_field(file, "BatchRun-ca", "system_message")}));
    assert_eq!(batch[1]["role"], "user");
    assert_ne!(sent[0].body["stream"], true, "Batch Run asks for whole answers");
    // The feed item's description is its `summary` cell.
    let summary = batch[1]["content"].as_str().unwrap();
    assert!(summary.starts_with("hl=") && summary.contains("ceid=US:en"), "{summary}");
    // Parser's pattern `## {title}\n{brief}\n_{published}_ - {link}\n` over the Batch Run row.
    let agent_turn = sent[1].body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(agent_turn["role"], "user");
    let agent_text = agent_turn["content"].as_str().unwrap();
    assert!(agent_text.starts_with(&format!("## News about {query}\n{REPLY_PREFIX}{summary}\n_")), "{agent_text}");
    assert!(agent_text.ends_with(&format!("_ - {}/page2.html\n", pages.url())), "{agent_text}");
    let texts = output_texts(&r);
    assert_eq!(texts.len(), 1);
    assert!(texts[0].starts_with(REPLY_PREFIX), "{}", texts[0]);
    // Save File wrote the Chat Output's message into the user's files.
    let files = st.s.get("/api/v2/files", Auth::Key(&st.key));
    files.expect(200);
    assert!(files.json.as_array().unwrap().iter().any(|f| f["name"] == "news-aggregated"), "{}", files.json);
}

/// A template field's value of a node of a flow.
fn template_field(file: &str, node: &str, field: &str) -> String {
    let flow = fixture(file);
    let n = flow["data"]["nodes"].as_array().unwrap().iter().find(|n| n["id"] == node).unwrap().clone();
    n["data"]["node"]["template"][field]["value"].as_str().unwrap().to_owned()
}
