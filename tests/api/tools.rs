//! The tool components standalone in small flows, over real HTTP: URL, Calculator, Web Search
//! and SQL Database against a local page / search / feed server on 127.0.0.1, with the
//! recorded outputs of Langflow 1.13 (`tests/fixtures/traces/`) where they exist, and the bad
//! cases (huge and hanging pages, refused addresses and redirects, bad URLs and modes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::common::{events, Auth, TestServer};
use crate::pages::{Pages, HUGE_BYTES};
use flowactor_actors::graph::FlowBuilder;
use serde_json::{json, Value};

fn trace(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// ChatInput → `<component>` (input `field`; none when empty) → ChatOutput (from `output`).
fn flow(node: &str, kind: &str, fields: Value, field: &str, output: &str) -> Value {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-in", "ChatInput", json!({"input_value": ""}));
    b.node(node, kind, fields);
    if !field.is_empty() {
        b.edge("ChatInput-in", "message", node, field);
    }
    b.node("ChatOutput-out", "ChatOutput", json!({"input_value": ""}));
    b.edge(node, output, "ChatOutput-out", "input_value");
    b.build()
}

/// Builds the flow with `input` and gives the `end_vertex` build data of every vertex.
fn build(s: &TestServer, token: &str, flow: &Value, input: &str) -> Vec<Value> {
    let id = s.create_flow(Auth::Bearer(token), flow, "tools");
    let r =
        s.post(&format!("/api/v1/build/{id}/flow"), Auth::Bearer(token), &json!({"inputs": {"input_value": input}}));
    r.expect(200);
    let job = r.json["job_id"].as_str().unwrap().to_owned();
    let evs = events(&s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(token)).text);
    evs.into_iter().filter(|e| e["event"] == "end_vertex").map(|e| e["data"]["build_data"].clone()).collect()
}

fn vertex<'a>(built: &'a [Value], id: &str) -> &'a Value {
    built.iter().find(|b| b["id"] == id).unwrap_or_else(|| panic!("no end_vertex for {id}: {built:?}"))
}

/// The value of a vertex's output, or its error text.
fn output(built: &[Value], id: &str, name: &str) -> Result<Value, String> {
    let v = vertex(built, id);
    if v["valid"] == false {
        let o = &v["data"]["outputs"];
        let first = o.as_object().and_then(|m| m.values().next()).cloned().unwrap_or_default();
        return Err(first["message"]["errorMessage"].as_str().unwrap_or_default().to_owned());
    }
    Ok(v["data"]["results"][name].clone())
}

struct Fixture {
    s: TestServer,
    pages: Pages,
    token: String,
}

fn start(overrides: &[(&str, &str)]) -> Fixture {
    let pages = Pages::start();
    let search = format!("{}/search", pages.url());
    let news = format!("{}/news/search", pages.url());
    let mut env: Vec<(&str, &str)> = vec![("FLOWACTOR_WEB_SEARCH_URL", &search), ("FLOWACTOR_NEWS_SEARCH_URL", &news)];
    env.extend_from_slice(overrides);
    let s = TestServer::start_with(&env);
    let (_, token) = s.user("tools");
    Fixture { s, pages, token }
}

impl Fixture {
    fn url_rows(&self, fields: Value, urls: &str) -> Result<Value, String> {
        let mut f = json!({"urls": []});
        f.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        let built =
            build(&self.s, &self.token, &flow("URLComponent-u", "URLComponent", f, "urls", "raw_results"), urls);
        output(&built, "URLComponent-u", "page_results")
    }

    /// The recorded rows, with the recording's page server address replaced by ours.
    fn recorded(&self, v: &Value) -> Value {
        let ours = self.pages.url().replace("http://", "");
        serde_json::from_str(&v.to_string().replace("127.0.0.1:18932", &ours)).unwrap()
    }
}

#[test]
fn url_pages_match_the_recordings() {
    let f = start(&[]);
    let rec = trace("15-url-tool-inprocess.json");
    let mut compared = 0;
    for case in rec["cases"].as_array().unwrap() {
        let urls: Vec<String> =
            case["urls"].as_array().unwrap().iter().map(|u| f.recorded(u).as_str().unwrap().to_owned()).collect();
        let mut fields = case["settings"].clone();
        fields["urls"] = json!(urls);
        let built = build(&f.s, &f.token, &flow("URLComponent-u", "URLComponent", fields, "", "raw_results"), "");
        let raw = output(&built, "URLComponent-u", "raw_results");
        let rows = output(&built, "URLComponent-u", "page_results");
        let expected_raw = f.recorded(&case["raw_content_output_text"]);
        let expected_raw = expected_raw.as_str().unwrap();
        if case["tool_message_status"] == "success" {
            let rows = rows.unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(rows, f.recorded(&case["tool_message_artifact"]), "{}", case["settings"]);
            let columns: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
            assert_eq!(columns, ["text", "url", "title", "description", "content_type", "language"]);
            assert_eq!(raw.unwrap()["text"], expected_raw, "{}", case["settings"]);
        } else {
            let error = rows.unwrap_err();
            assert_eq!(format!("EXC ValueError: {error}"), expected_raw, "{}", case["settings"]);
        }
        compared += 1;
    }
    assert_eq!(compared, 11);
}

#[test]
fn url_reads_the_chat_input_and_feeds_chat_output() {
    let f = start(&[]);
    let (_, key) = f.s.api_key(&f.token, "k");
    let page = format!("{}/page3.html", f.pages.url());
    let id = f.s.create_flow(
        Auth::Bearer(&f.token),
        &flow("URLComponent-u", "URLComponent", json!({"urls": []}), "urls", "raw_results"),
        "url",
    );
    let r = f.s.post(&format!("/api/v1/run/{id}"), Auth::Key(&key), &json!({"input_value": page}));
    r.expect(200);
    assert_eq!(
        r.json["outputs"][0]["outputs"][0]["results"]["message"]["text"],
        "Mock Page ThreeThird page text & entities <ok>."
    );
}

#[test]
fn url_bounds_huge_and_hanging_pages() {
    let f = start(&[]);
    // A 100 MB page: reading stops at the per-page bound, long before the end.
    let huge = format!("{}/huge", f.pages.url());
    let err = f.url_rows(json!({"continue_on_failure": false}), &huge).unwrap_err();
    assert!(err.starts_with(&format!("Error loading documents: Error loading documents from {huge}")), "{err}");
    assert!(err.contains("is larger than 10485760 bytes"), "{err}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(f.pages.huge_written() < HUGE_BYTES / 2, "{} bytes written", f.pages.huge_written());
    // A server that never answers: the node's timeout ends the request.
    let started = Instant::now();
    let err = f
        .url_rows(json!({"timeout": 1, "continue_on_failure": false}), &format!("{}/hang", f.pages.url()))
        .unwrap_err();
    assert!(err.contains("timed out after 1 seconds"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Endless redirects stop at the hop bound.
    let err =
        f.url_rows(json!({"continue_on_failure": false}), &format!("{}/redirect-loop", f.pages.url())).unwrap_err();
    assert!(err.contains("Exceeded 20 redirects"), "{err}");
}

#[test]
fn url_refuses_blocked_addresses_and_redirects_before_connecting() {
    let f = start(&[]);
    // A redirect to a refused address is checked before that hop connects.
    let err =
        f.url_rows(json!({"continue_on_failure": false}), &format!("{}/redirect-refused", f.pages.url())).unwrap_err();
    assert!(
        err.ends_with(
            "SSRF Protection: Hostname 10.0.0.1 resolves to blocked IP address(es): 10.0.0.1. To allow this \
             hostname, add it to LANGFLOW_SSRF_ALLOWED_HOSTS environment variable."
        ),
        "{err}"
    );
    drop(f);
    // With nothing allowed, the loopback page itself is refused, and never contacted.
    let f = start(&[("LANGFLOW_SSRF_ALLOWED_HOSTS", "")]);
    let err = f.url_rows(json!({"continue_on_failure": false}), &format!("{}/page1.html", f.pages.url())).unwrap_err();
    assert!(err.contains("SSRF Protection: Hostname 127.0.0.1 resolves to blocked IP address(es): 127.0.0.1"), "{err}");
    let err = f.url_rows(json!({}), &format!("{}/page1.html", f.pages.url())).unwrap_err();
    assert_eq!(err, "Error loading documents: No documents were successfully loaded from any URL");
    assert_eq!(f.pages.connections(), 0);
}

#[test]
fn calculator_results_match_the_recordings() {
    let f = start(&[]);
    let rec = trace("17-calculator-inprocess.json");
    let id = f.s.create_flow(
        Auth::Bearer(&f.token),
        &flow("CalculatorComponent-c", "CalculatorComponent", json!({"expression": ""}), "expression", "result"),
        "calc",
    );
    let mut compared = 0;
    for case in rec["cases"].as_array().unwrap() {
        let expression = case["expression"].as_str().unwrap();
        let r = f.s.post(
            &format!("/api/v1/build/{id}/flow"),
            Auth::Bearer(&f.token),
            &json!({"inputs": {"input_value": expression}}),
        );
        r.expect(200);
        let job = r.json["job_id"].as_str().unwrap().to_owned();
        let evs = events(&f.s.get(&format!("/api/v1/build/{job}/events"), Auth::Bearer(&f.token)).text);
        let built: Vec<Value> =
            evs.into_iter().filter(|e| e["event"] == "end_vertex").map(|e| e["data"]["build_data"].clone()).collect();
        let result = output(&built, "CalculatorComponent-c", "result").unwrap();
        assert_eq!(result["data"], case["output_data"], "{expression:?}");
        compared += 1;
    }
    assert_eq!(compared, 22);
}

fn search(f: &Fixture, mode: &str, query: &str, extra: Value) -> Vec<Value> {
    let mut fields = json!({"search_mode": mode, "query": ""});
    fields.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let built =
        build(&f.s, &f.token, &flow("UnifiedWebSearch-w", "UnifiedWebSearch", fields, "query", "results"), query);
    output(&built, "UnifiedWebSearch-w", "results").unwrap().as_array().unwrap().clone()
}

#[test]
fn web_search_reads_searxng_and_duckduckgo_endpoints_and_fetches_the_results() {
    let f = start(&[]);
    let rows = search(&f, "Web", "flow <actors>", json!({"max_content_length": 30}));
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["title"], "Page One");
    assert_eq!(rows[0]["link"], format!("{}/page1.html", f.pages.url()));
    assert_eq!(rows[0]["snippet"], "About flow actors");
    assert_eq!(rows[0]["content"], "Mock Page One Hello from page ... [truncated]");
    assert_eq!(rows[1]["content"], "Mock Page Three Third page tex... [truncated]");
    assert_eq!(
        rows[2]["content"],
        "(Blocked by SSRF protection: SSRF Protection: Hostname 10.0.0.1 resolves to blocked IP address(es): \
         10.0.0.1. To allow this hostname, add it to LANGFLOW_SSRF_ALLOWED_HOSTS environment variable.)"
    );
    let columns: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(columns, ["title", "link", "snippet", "content"]);
    assert!(f.pages.requests().iter().any(|r| r.starts_with("GET /search?q=flow+actors&format=json")));
    // max_results bounds the rows.
    assert_eq!(search(&f, "Web", "x", json!({"max_results": 1})).len(), 1);
    drop(f);

    // A DuckDuckGo-HTML-compatible endpoint.
    let pages = Pages::start();
    let ddg = format!("{}/ddg/", pages.url());
    let s = TestServer::start_with(&[("FLOWACTOR_WEB_SEARCH_URL", &ddg)]);
    let (_, token) = s.user("ddg");
    let f = Fixture { s, pages, token };
    let rows = search(&f, "Web", "rust", json!({}));
    assert_eq!(
        rows,
        [json!({"title": "Third page for rust", "link": format!("{}/page3.html", f.pages.url()),
                "snippet": "A page about rust.", "content": "Mock Page Three Third page text & entities <ok>."})]
    );
}

#[test]
fn web_search_reads_news_and_rss_feeds() {
    let f = start(&[]);
    let rows = search(&f, "News", "flowactor release", json!({"hl": "fr-FR", "gl": "FR"}));
    assert_eq!(
        rows,
        [json!({"title": "News about flowactor release", "link": format!("{}/page2.html", f.pages.url()),
                "published": "Tue, 01 Dec 2026 07:00:00 GMT", "summary": "hl=fr-FR ceid=FR:fr"})]
    );
    let rows = search(&f, "RSS", &format!("{}/rss.xml", f.pages.url()), json!({}));
    assert_eq!(
        rows,
        [
            json!({"title": "First item", "link": format!("{}/page1.html", f.pages.url()),
                   "published": "Tue, 01 Dec 2026 09:00:00 GMT", "summary": "Hello feed"}),
            json!({"title": "Second item", "link": format!("{}/page2.html", f.pages.url()),
                   "published": "Mon, 30 Nov 2026 08:30:00 GMT", "summary": "Plain summary"}),
        ]
    );
    let rows = search(&f, "RSS", &format!("{}/empty.xml", f.pages.url()), json!({}));
    assert_eq!(rows, [json!({"title": "No articles found", "link": "", "published": "", "summary": ""})]);
    // A feed that is not a feed, and an unknown mode, are error rows.
    let rows = search(&f, "RSS", &format!("{}/page1.html", f.pages.url()), json!({}));
    assert_eq!(rows[0]["title"], "Error");
    let rows = search(&f, "Images", "cats", json!({}));
    assert_eq!(
        rows,
        [
            json!({"title": "Error", "link": "", "snippet": "Invalid search mode: \"Images\". Choose one of: Web, News, RSS.", "content": ""})
        ]
    );
}

#[test]
fn web_search_rss_refuses_blocked_feeds_as_recorded() {
    let f = start(&[("LANGFLOW_SSRF_ALLOWED_HOSTS", "")]);
    let rows = search(&f, "RSS", &format!("{}/rss.xml", f.pages.url()), json!({}));
    assert_eq!(
        rows,
        [json!({"title": "Error", "link": "", "published": "",
                "summary": "SSRF Protection: Hostname 127.0.0.1 resolves to blocked IP address(es): 127.0.0.1. To allow this hostname, add it to LANGFLOW_SSRF_ALLOWED_HOSTS environment variable."})]
    );
    assert_eq!(f.pages.connections(), 0);
}

fn sql(f: &Fixture, url: &str, query: &str, extra: Value) -> Result<Value, String> {
    let mut fields = json!({"database_url": url, "query": ""});
    fields.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let built = build(&f.s, &f.token, &flow("SQLComponent-q", "SQLComponent", fields, "query", "run_sql_query"), query);
    output(&built, "SQLComponent-q", "run_sql_query")
}

#[test]
fn sql_refuses_local_files_and_blocked_hosts_as_recorded() {
    let f = start(&[("LANGFLOW_SSRF_ALLOWED_HOSTS", "")]);
    assert_eq!(
        sql(&f, "sqlite:///plans.db", "select * from plans", json!({})).unwrap_err(),
        "Database dialect 'sqlite' accesses the local filesystem and is not permitted \
         (LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS=true). Use a network database (e.g. postgresql, mysql)."
    );
    let port = f.pages.url().rsplit(':').next().unwrap().to_owned();
    assert_eq!(
        sql(&f, &format!("postgresql://u:p@127.0.0.1:{port}/db"), "select * from plans", json!({})).unwrap_err(),
        "Hostname 127.0.0.1 resolves to blocked IP address(es): 127.0.0.1. To allow this hostname, add it to \
         LANGFLOW_SSRF_ALLOWED_HOSTS environment variable."
    );
    assert_eq!(f.pages.connections(), 0);
    assert_eq!(
        sql(&f, "nonsense", "select 1", json!({})).unwrap_err(),
        "Could not parse SQLAlchemy URL from string 'nonsense'"
    );
    assert!(sql(&f, "mysql://u@db.example/x", "select 1", json!({}))
        .unwrap_err()
        .contains("sqlalchemy.dialects:mysql"));
}

#[test]
fn sql_runs_sqlite_queries_with_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:///{}", dir.path().join("plans.db").display());
    let f = start(&[
        ("LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS", "false"),
        ("FLOWACTOR_SQL_MAX_ROWS", "5"),
        ("FLOWACTOR_SQL_TIMEOUT_SECONDS", "1"),
    ]);
    sql(
        &f,
        &db,
        "CREATE TABLE plans AS SELECT 'basic' AS name, 10 AS price, 1.5 AS ratio UNION ALL SELECT 'pro', 30, NULL",
        json!({}),
    )
    .unwrap();
    let rows = sql(&f, &db, "SELECT name, price, ratio FROM plans ORDER BY price", json!({})).unwrap();
    assert_eq!(
        rows,
        json!([{"name": "basic", "price": 10, "ratio": 1.5}, {"name": "pro", "price": 30, "ratio": null}])
    );
    let rows = sql(&f, &db, "SELECT name FROM plans ORDER BY price", json!({"include_columns": false})).unwrap();
    assert_eq!(rows, json!([{"0": "basic"}, {"0": "pro"}]));
    // Query errors: a failed build, or a row with add_error.
    let err = sql(&f, &db, "SELECT nope FROM plans", json!({})).unwrap_err();
    assert!(
        err.starts_with("An error occurred while running the SQL Query: ") && err.contains("no such column"),
        "{err}"
    );
    let rows = sql(&f, &db, "SELECT nope FROM plans", json!({"add_error": true})).unwrap();
    assert!(rows[0]["error"].as_str().unwrap().contains("no such column"), "{rows}");
    // Bounds: rows, then time.
    let many = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10) SELECT x FROM c";
    assert!(sql(&f, &db, many, json!({})).unwrap_err().contains("more than 5 rows (FLOWACTOR_SQL_MAX_ROWS)"));
    let started = Instant::now();
    let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    let err = sql(&f, &db, endless, json!({})).unwrap_err();
    assert!(err.contains("FLOWACTOR_SQL_TIMEOUT_SECONDS"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The arXiv component's rows for `query` from the endpoint `FLOWACTOR_ARXIV_URL` names.
fn arxiv(f: &Fixture, query: &str, extra: Value) -> Vec<Value> {
    let mut fields = json!({"search_query": "", "search_type": "all", "max_results": 10});
    fields.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let built =
        build(&f.s, &f.token, &flow("ArXivComponent-a", "ArXivComponent", fields, "search_query", "dataframe"), query);
    output(&built, "ArXivComponent-a", "dataframe").unwrap().as_array().unwrap().clone()
}

#[test]
fn arxiv_reads_the_configured_atom_endpoint_into_langflows_rows() {
    let pages = Pages::start();
    let endpoint = format!("{}/arxiv/query", pages.url());
    let f = start(&[("FLOWACTOR_ARXIV_URL", &endpoint)]);
    let rows = arxiv(&f, "neural translation", json!({"search_type": "title", "max_results": 2}));
    let line = pages.requests().into_iter().find(|l| l.starts_with("GET /arxiv/query?")).unwrap();
    assert!(line.contains("search_query=ti%3Aneural+translation&max_results=2"), "{line}");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0],
        json!({
            "id": "http://arxiv.org/abs/2601.00001v1",
            "title": "Paper 1 on\n  ti:neural translation",
            "summary": "Abstract 1 about ti:neural translation & more.",
            "published": "2026-01-01T09:00:00Z",
            "updated": "2026-01-01T10:00:00Z",
            "authors": ["Ada Lovelace", "Alan Turing 1"],
            "arxiv_url": "http://arxiv.org/abs/2601.00001v1",
            "pdf_url": "http://arxiv.org/pdf/2601.00001v1",
            "comment": "12 pages, 3 figures",
            "journal_ref": null,
            "primary_category": "cs.CL",
            "categories": ["cs.CL", "cs.AI"],
        })
    );
    assert_eq!(rows[1]["comment"], Value::Null);
    assert_eq!(rows[1]["title"], "Paper 2 on\n  ti:neural translation");
    // "all" searches every field: no prefix.
    arxiv(&f, "qubits", json!({}));
    assert!(pages.requests().iter().any(|l| l.starts_with("GET /arxiv/query?search_query=qubits&max_results=10")));
}

#[test]
fn arxiv_failures_are_error_rows_and_refused_endpoints_are_never_contacted() {
    let f = start(&[("FLOWACTOR_ARXIV_URL", "http://10.0.0.1/api/query")]);
    let rows = arxiv(&f, "qubits", json!({}));
    assert_eq!(
        rows,
        [json!({"error": "Request error: SSRF Protection: Hostname 10.0.0.1 resolves to blocked IP address(es): \
                          10.0.0.1. To allow this hostname, add it to LANGFLOW_SSRF_ALLOWED_HOSTS environment variable."})]
    );
    drop(f);
    let pages = Pages::start();
    let f = start(&[("FLOWACTOR_ARXIV_URL", &format!("{}/status500", pages.url()))]);
    let rows = arxiv(&f, "qubits", json!({}));
    assert_eq!(rows, [json!({"error": "Request error: HTTP Error 500: Internal Server Error"})]);
}
