//! Parser, validation, layer, subset and tweak tests against real exports and built graphs.

use serde_json::json;

use super::*;

fn fixture(name: &str) -> Json {
    let path = format!("{}/../tests/fixtures/flows/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ids(g: &CompiledGraph, vs: &[usize]) -> Vec<String> {
    vs.iter().map(|&v| g.vertices[v].id.to_string()).collect()
}

#[test]
fn parses_the_core_fixtures() {
    let g = CompiledGraph::parse(&fixture("prompt__lf1.13.0.json")).unwrap();
    assert_eq!(g.len(), 3);
    let p = &g.vertices[g.index_of("Prompt Template-ffx1k").unwrap()];
    assert_eq!(p.kind, ComponentKind::Prompt);
    assert_eq!(p.params.text("template"), "Answer briefly: {question}");
    assert!(p.params.get("code").is_none(), "code is never a parameter");
    assert_eq!(ids(&g, g.full_subset().first_layer()), ["ChatInput-9382d"]);

    let wide = CompiledGraph::parse(&fixture("wide_16__lf1.13.0.json")).unwrap();
    assert_eq!(wide.len(), 33);
    let layers: Vec<usize> = wide.full_subset().layers.iter().map(Vec::len).collect();
    assert_eq!(layers, [1, 16, 8, 4, 2, 1, 1]);
}

#[test]
fn llm_starters_parse_and_name_their_variables() {
    for (file, node, kind, variables) in [
        (
            "basic_prompting__lf1.13.0.json",
            "LanguageModelComponent-FLeYF",
            ComponentKind::LanguageModel,
            // No model selected yet: every provider's variables.
            &["OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OLLAMA_BASE_URL"][..],
        ),
        (
            "memory_chatbot__lf1.4.3.json",
            "OpenAIModel-63o3Q",
            ComponentKind::OpenAIModel,
            &["OPENAI_API_KEY", "OPENAI_BASE_URL"],
        ),
        (
            "basic_prompt_chaining__lf1.4.3.json",
            "OpenAIModel-lL9HA",
            ComponentKind::OpenAIModel,
            &["OPENAI_API_KEY", "OPENAI_BASE_URL"],
        ),
        (
            "twitter_thread_generator__lf1.4.3.json",
            "OpenAIModel-p0R9m",
            ComponentKind::OpenAIModel,
            &["OPENAI_API_KEY", "OPENAI_BASE_URL"],
        ),
    ] {
        let g = CompiledGraph::parse(&fixture(file)).unwrap();
        let v = &g.vertices[g.index_of(node).unwrap()];
        assert_eq!(v.kind, kind, "{file}");
        assert_eq!(v.outputs.iter().map(|o| &*o.name).collect::<Vec<_>>(), ["text_output", "model_output"]);
        assert_eq!(g.required_variables(), variables, "{file}");
    }
}

#[test]
fn unsupported_components_are_named() {
    let (file, node, ty) = ("knowledge_retrieval__lf1.13.0.json", "Knowledge-Y8gm2", "Knowledge");
    let err = CompiledGraph::parse(&fixture(file)).unwrap_err();
    assert_eq!(err, GraphError::UnsupportedComponent { node_id: node.into(), type_name: ty.into() });
    assert_eq!(err.to_string(), format!("Component type '{ty}' (node {node}) is not supported by flowactor"));
}

#[test]
fn skips_notes_and_accepts_bare_graphs() {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-a", "ChatInput", json!({"input_value": ""}));
    let mut flow = b.build()["data"].clone();
    flow["nodes"].as_array_mut().unwrap().push(json!({"id": "note-1", "type": "noteNode", "data": {"type": "note"}}));
    let g = CompiledGraph::parse(&flow).unwrap();
    assert_eq!(g.len(), 1);
}

#[test]
fn rejects_bad_edges_duplicates_and_size() {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-a", "ChatInput", json!({})).node("ChatOutput-b", "ChatOutput", json!({}));
    let mut flow = b.build();
    flow["data"]["edges"] = json!([{"source": "ChatInput-a", "target": "Nope-1", "data": {
        "sourceHandle": {"id": "ChatInput-a", "name": "message"},
        "targetHandle": {"id": "Nope-1", "fieldName": "input_value"}}}]);
    assert!(matches!(CompiledGraph::parse(&flow), Err(GraphError::MissingNode { node_id, .. }) if node_id == "Nope-1"));

    flow["data"]["edges"] = json!([{"source": "ChatInput-a", "target": "ChatOutput-b", "data": {
        "sourceHandle": {"id": "ChatInput-a", "name": "message"},
        "targetHandle": {"id": "ChatOutput-b", "fieldName": "no_such_field"}}}]);
    let err = CompiledGraph::parse(&flow).unwrap_err();
    assert!(
        matches!(&err, GraphError::MissingField { node_id, field, .. } if node_id == "ChatOutput-b" && field == "no_such_field")
    );

    let mut dup = FlowBuilder::new();
    dup.node("Pass-a", "Pass", json!({})).node("Pass-a", "Pass", json!({}));
    assert_eq!(CompiledGraph::parse(&dup.build()).unwrap_err(), GraphError::DuplicateNode("Pass-a".into()));

    let mut big = FlowBuilder::new();
    for i in 0..11 {
        big.node(&format!("Pass-{i}"), "Pass", json!({}));
    }
    assert_eq!(
        CompiledGraph::parse_with_limit(&big.build(), 10).unwrap_err(),
        GraphError::TooLarge { vertices: 11, limit: 10 }
    );
}

#[test]
fn rejects_cycles_not_closed_by_a_loop() {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-a", "ChatInput", json!({}))
        .node("Pass-x", "Pass", json!({}))
        .node("Pass-y", "Pass", json!({}))
        .node("ChatOutput-z", "ChatOutput", json!({}));
    b.edge("ChatInput-a", "message", "Pass-x", "input_message")
        .edge("Pass-x", "output_message", "Pass-y", "input_message")
        .edge("Pass-y", "output_message", "Pass-x", "ignored_message")
        .edge("Pass-y", "output_message", "ChatOutput-z", "input_value");
    let err = CompiledGraph::parse(&b.build()).unwrap_err();
    assert!(matches!(&err, GraphError::Cycle(n) if n == "Pass-x" || n == "Pass-y"), "{err}");
}

#[test]
fn loop_bodies_and_feedback_edges() {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-a", "ChatInput", json!({}))
        .node("LoopComponent-l", "LoopComponent", json!({}))
        .node("Parser-p", "ParserComponent", json!({"pattern": "{text}!"}))
        .node("ChatOutput-o", "ChatOutput", json!({}));
    b.edge("ChatInput-a", "message", "LoopComponent-l", "data")
        .edge("LoopComponent-l", "item", "Parser-p", "input_data")
        .loop_back("Parser-p", "parsed_text", "LoopComponent-l")
        .edge("LoopComponent-l", "done", "ChatOutput-o", "input_value");
    let g = CompiledGraph::parse(&b.build()).unwrap();
    let l = g.index_of("LoopComponent-l").unwrap();
    let p = g.index_of("Parser-p").unwrap();
    assert_eq!(g.vertices[l].loop_body, [p]);
    assert_eq!(g.vertices[p].in_loop_body, Some(l));
    assert!(!g.full_subset().in_run[p]);
    assert!(g.full_subset().to_run.contains(&p));
    assert!(g.edges.iter().any(|e| e.feedback && e.target == l));
}

#[test]
fn only_connected_outputs_are_computed() {
    let mut b = FlowBuilder::new();
    b.node("Memory-m", "Memory", json!({})).node("ChatOutput-o", "ChatOutput", json!({}));
    b.edge("Memory-m", "messages_text", "ChatOutput-o", "input_value");
    let g = CompiledGraph::parse(&b.build()).unwrap();
    assert_eq!(g.vertices[0].computed, [true, false]);
    assert_eq!(g.vertices[1].computed, [true], "a vertex without successors computes everything");
}

#[test]
fn tweaks_by_id_display_name_and_globally() {
    let mut b = FlowBuilder::new();
    b.node("Prompt-a", "Prompt", json!({"template": "a"})).node("Prompt-b", "Prompt", json!({"template": "b"}));
    let mut flow = b.build();
    flow["data"]["nodes"][1]["data"]["node"]["display_name"] = json!("Second");
    let g = CompiledGraph::parse(&flow).unwrap();

    let o = g
        .overrides(OverrideRequest {
            tweaks: Some(&json!({"Prompt-a": {"template": "by id", "nope": 1}})),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(o.params[0].text("template"), "by id");
    assert_eq!(o.params[1].text("template"), "b");
    assert!(Arc::ptr_eq(&o.params[1], &g.vertices[1].params), "untouched vertices share parameters");

    let o = g
        .overrides(OverrideRequest {
            tweaks: Some(&json!({"Second": {"template": {"value": "by name"}}})),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(o.params[1].text("template"), "by name");

    let o = g
        .overrides(OverrideRequest {
            tweaks: Some(&json!({"template": "everyone", "unknown": 3})),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(o.params[0].text("template"), "everyone");
    assert_eq!(o.params[1].text("template"), "everyone");

    let refused = g
        .overrides(OverrideRequest { tweaks: Some(&json!({"Prompt-a": {"code": "import os"}})), ..Default::default() });
    assert_eq!(refused.unwrap_err(), GraphError::RefusedTweaks(vec!["code".into()]));
    let refused = g.overrides(OverrideRequest { tweaks: Some(&json!({"code": "x"})), ..Default::default() });
    assert_eq!(refused.unwrap_err(), GraphError::RefusedTweaks(vec!["code".into()]));
}

#[test]
fn variables_and_input_override_params() {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-a", "ChatInput", json!({"input_value": ""})).node(
        "TextInput-t",
        "TextInput",
        json!({"input_value": "keep"}),
    );
    let mut flow = b.build();
    flow["data"]["nodes"][1]["data"]["node"]["template"]["api_key"] =
        json!({"type": "str", "value": "MY_KEY", "load_from_db": true, "show": true});
    let g = CompiledGraph::parse(&flow).unwrap();
    assert_eq!(g.required_variables(), ["MY_KEY"]);
    let vars = HashMap::from([("MY_KEY".to_owned(), "secret".to_owned())]);
    let o = g
        .overrides(OverrideRequest {
            variables: Some(&vars),
            input: Some(("hi", InputType::Chat)),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(o.params[0].text("input_value"), "hi");
    assert_eq!(o.params[1].text("input_value"), "keep");
    assert_eq!(o.params[1].text("api_key"), "secret");
    let o = g.overrides(OverrideRequest { input: Some(("all", InputType::Any)), ..Default::default() }).unwrap();
    assert_eq!(o.params[1].text("input_value"), "all");
}

#[test]
fn start_and_stop_subsets() {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-a", "ChatInput", json!({}))
        .node("Pass-b", "Pass", json!({}))
        .node("Pass-c", "Pass", json!({}))
        .node("TextInput-t", "TextInput", json!({}))
        .node("CombineText-d", "CombineText", json!({}));
    b.edge("ChatInput-a", "message", "Pass-b", "input_message")
        .edge("Pass-b", "output_message", "Pass-c", "input_message")
        .edge("Pass-c", "output_message", "CombineText-d", "text1")
        .edge("TextInput-t", "text", "CombineText-d", "text2");
    let g = CompiledGraph::parse(&b.build()).unwrap();
    let stop = g.subset(None, Some("Pass-b")).unwrap();
    assert_eq!(ids(&g, &stop.run), ["ChatInput-a", "Pass-b"]);
    let start = g.subset(Some("Pass-c"), None).unwrap();
    assert_eq!(ids(&g, &start.run), ["ChatInput-a", "Pass-b", "Pass-c", "TextInput-t", "CombineText-d"]);
    let start = g.subset(Some("CombineText-d"), None).unwrap();
    assert_eq!(start.run.len(), 5);
    assert_eq!(g.subset(Some("Nope"), None).unwrap_err(), GraphError::UnknownComponent("Nope".into()));
    // ChatInput alone first, then the other root.
    let layers: Vec<Vec<String>> = g.full_subset().layers.iter().map(|l| ids(&g, l)).collect();
    assert_eq!(layers[0], ["ChatInput-a"]);
    assert_eq!(layers[1], ["TextInput-t"]);
}

#[test]
fn implied_variables_follow_empty_fields() {
    let mut b = FlowBuilder::new();
    b.node(
        "LanguageModelComponent-a",
        "LanguageModelComponent",
        json!({"api_key": "", "provider": "Anthropic", "model_name": "c"}),
    )
    .node("OpenAIModel-b", "OpenAIModel", json!({"api_key": "sk-x", "openai_api_base": "http://h/v1"}));
    let g = CompiledGraph::parse(&b.build()).unwrap();
    let implied = |v: &Vertex| {
        let key_from_db = v.field("api_key").is_some_and(|f| f.load_from_db);
        crate::catalog::models::implied_variables(v.kind, &v.params, key_from_db)
    };
    assert_eq!(implied(&g.vertices[0]), ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]);
    assert!(implied(&g.vertices[1]).is_empty());
    assert_eq!(g.required_variables(), ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"]);
}

#[test]
fn every_unsupported_component_is_named_in_one_error() {
    let mut b = FlowBuilder::new();
    b.node("ChatInput-a", "ChatInput", json!({})).node("Foo-1", "Foo", json!({})).node("Bar-1", "Bar", json!({})).node(
        "Foo-2",
        "Foo",
        json!({}),
    );
    let err = CompiledGraph::parse(&b.build()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Component types 'Foo' (nodes Foo-1, Foo-2), 'Bar' (node Bar-1) are not supported by flowactor"
    );
    // One type on several nodes is one type.
    let mut b = FlowBuilder::new();
    b.node("ChatInput-a", "ChatInput", json!({})).node("Foo-1", "Foo", json!({})).node("Foo-2", "Foo", json!({}));
    let err = CompiledGraph::parse(&b.build()).unwrap_err();
    assert_eq!(err.to_string(), "Component type 'Foo' (nodes Foo-1, Foo-2) is not supported by flowactor");
}
