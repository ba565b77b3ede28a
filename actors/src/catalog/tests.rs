#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::*;

fn params(pairs: Json) -> Params {
    let mut p = Params::default();
    for (k, v) in pairs.as_object().unwrap() {
        p.set(Arc::from(k.as_str()), v.clone());
    }
    p
}

#[test]
fn type_names_and_aliases_resolve_as_before() {
    use ComponentKind as K;
    let table: &[(&str, K)] = &[
        ("ChatInput", K::ChatInput),
        ("ChatOutput", K::ChatOutput),
        ("TextInput", K::TextInput),
        ("TextInputComponent", K::TextInput),
        ("TextOutput", K::TextOutput),
        ("TextOutputComponent", K::TextOutput),
        ("Prompt", K::Prompt),
        ("Prompt Template", K::Prompt),
        ("PromptComponent", K::Prompt),
        ("PromptTemplate", K::Prompt),
        ("CombineText", K::CombineText),
        ("CombineTextComponent", K::CombineText),
        ("ConditionalRouter", K::ConditionalRouter),
        ("ConditionalRouterComponent", K::ConditionalRouter),
        ("If-Else", K::ConditionalRouter),
        ("LoopComponent", K::Loop),
        ("Loop", K::Loop),
        ("Memory", K::Memory),
        ("MemoryComponent", K::Memory),
        ("ParserComponent", K::Parser),
        ("parser", K::Parser),
        ("Parser", K::Parser),
        ("ParseData", K::Parser),
        ("ParseDataComponent", K::Parser),
        ("File", K::File),
        ("SaveToFile", K::SaveToFile),
        ("SplitText", K::SplitText),
        ("SplitTextComponent", K::SplitText),
        ("Pass", K::Pass),
        ("PassMessageComponent", K::Pass),
        ("Delay", K::Delay),
        ("Burn", K::Burn),
        ("Webhook", K::Webhook),
        ("WebhookComponent", K::Webhook),
        ("OpenAIModel", K::OpenAIModel),
        ("OpenAIModelComponent", K::OpenAIModel),
        ("LanguageModelComponent", K::LanguageModel),
        ("Language Model", K::LanguageModel),
        ("AnthropicModel", K::AnthropicModel),
        ("AnthropicModelComponent", K::AnthropicModel),
        ("Agent", K::Agent),
        ("AgentComponent", K::Agent),
        ("URLComponent", K::Url),
        ("CalculatorComponent", K::Calculator),
        ("UnifiedWebSearch", K::WebSearch),
        ("WebSearchComponent", K::WebSearch),
        ("ArXivComponent", K::ArXiv),
        ("SQLComponent", K::SqlDatabase),
        ("MemoryBase", K::MemoryBase),
        ("StructuredOutput", K::StructuredOutput),
        ("StructuredOutputComponent", K::StructuredOutput),
        ("BatchRunComponent", K::BatchRun),
    ];
    for (name, kind) in table {
        assert_eq!(ComponentKind::from_type_name(name), Some(*kind), "{name}");
    }
    assert_eq!(ComponentKind::from_type_name("chatinput"), None);
    // Every name is claimed by exactly the kinds in the table.
    let declared: usize = ComponentKind::ALL.iter().map(|k| 1 + k.spec().aliases.len()).sum();
    assert_eq!(declared, table.len());
}

#[test]
fn roles_flags_and_default_outputs_are_as_before() {
    use ComponentKind as K;
    let inputs: Vec<_> = K::ALL.iter().copied().filter(|k| k.is_input()).collect();
    assert_eq!(inputs, [K::ChatInput, K::TextInput, K::Webhook]);
    let outputs: Vec<_> = K::ALL.iter().copied().filter(|k| k.is_output()).collect();
    assert_eq!(outputs, [K::ChatOutput, K::TextOutput]);
    let tests: Vec<_> = K::ALL.iter().copied().filter(|k| k.is_test_component()).collect();
    assert_eq!(tests, [K::Delay, K::Burn]);
    let table: &[(K, &[&str])] = &[
        (K::ChatInput, &["message"]),
        (K::ChatOutput, &["message"]),
        (K::TextInput, &["text"]),
        (K::TextOutput, &["text"]),
        (K::Prompt, &["prompt"]),
        (K::CombineText, &["combined_text"]),
        (K::ConditionalRouter, &["true_result", "false_result"]),
        (K::Loop, &["item", "done"]),
        (K::Memory, &["messages_text", "dataframe"]),
        (K::Parser, &["parsed_text"]),
        (K::File, &["message"]),
        (K::SaveToFile, &["message"]),
        (K::SplitText, &["dataframe"]),
        (K::Pass, &["output_message"]),
        (K::Delay, &["output"]),
        (K::Burn, &["output"]),
        (K::Webhook, &["output_data"]),
        (K::OpenAIModel, &["text_output", "model_output"]),
        (K::LanguageModel, &["text_output", "model_output"]),
        (K::AnthropicModel, &["text_output", "model_output"]),
        (K::Agent, &["response", "structured_response"]),
        (K::Url, &["page_results", "raw_results"]),
        (K::Calculator, &["result"]),
        (K::WebSearch, &["results"]),
        (K::ArXiv, &["dataframe"]),
        (K::SqlDatabase, &["run_sql_query"]),
        (K::MemoryBase, &["retrieve_data"]),
        (K::StructuredOutput, &["structured_output", "dataframe_output"]),
        (K::BatchRun, &["batch_results"]),
    ];
    assert_eq!(table.len(), K::ALL.len());
    for (kind, names) in table {
        assert_eq!(kind.default_outputs().collect::<Vec<_>>(), *names, "{kind:?}");
    }
}

#[test]
fn every_declaration_is_well_formed() {
    for kind in ComponentKind::ALL {
        let spec = kind.spec();
        let mut names: Vec<&str> = spec.inputs.iter().map(|i| i.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), spec.inputs.len(), "{kind:?}: duplicate input names");
        let mut outs: Vec<&str> = spec.outputs.iter().map(|o| o.name).collect();
        outs.sort_unstable();
        outs.dedup();
        assert_eq!(outs.len(), spec.outputs.len(), "{kind:?}: duplicate output names");
        assert!(!spec.outputs.is_empty() && !spec.description.is_empty() && !spec.category.is_empty());
        for i in spec.inputs {
            if let Some(options) = i.ty.options() {
                let d = i.default_text();
                assert!(d.is_empty() || options.contains(&d), "{kind:?}.{}: default {d:?} not an option", i.name);
            }
        }
    }
}

#[test]
fn typed_reads_fall_back_to_the_declared_defaults() {
    use processing::{memory, split_text};
    let p = params(json!({"n_messages": "7.9", "chunk_size": 3.5, "case_sensitive": "YES"}));
    assert_eq!(memory::N_MESSAGES.int_in(&p), 7);
    assert_eq!(split_text::CHUNK_SIZE.int_in(&p), 3);
    assert_eq!(split_text::CHUNK_OVERLAP.int_in(&p), 200);
    assert_eq!(split_text::CHUNK_OVERLAP.int_from_text("x"), 200);
    assert!(flow_controls::conditional_router::CASE_SENSITIVE.bool_in(&p));
    assert!(io::chat_input::SHOULD_STORE_MESSAGE.bool_in(&Params::default()));
    assert!(!models::STREAM.bool_in(&Params::default()));
    assert_eq!(models::TEMPERATURE.number_in(&params(json!({"temperature": "0.5"}))), Some(0.5));
    assert_eq!(models::TEMPERATURE.number_in(&Params::default()), None);
}

/// `/api/v1/all`: every kind under its category, shaped like Langflow's node templates; the
/// declared fields agree with the templates recorded from Langflow 1.13's flows.
#[test]
fn langflow_all_matches_the_recorded_templates() {
    let all = langflow_all();
    let total: usize = all.as_object().unwrap().values().map(|c| c.as_object().unwrap().len()).sum();
    assert_eq!(total, ComponentKind::ALL.len());
    let chat = &all["input_output"]["ChatInput"];
    assert_eq!(chat["template"]["_type"], "Component");
    assert_eq!(chat["template"]["should_store_message"]["value"], json!(true));
    assert_eq!(chat["template"]["sender"]["options"], json!(["Machine", "User"]));
    assert_eq!(chat["outputs"][0]["name"], "message");
    assert_eq!(chat["base_classes"], json!(["Message"]));
    assert_eq!(chat["field_order"][0], "input_value");
    assert_eq!(all["models_and_agents"]["LanguageModelComponent"]["base_classes"], json!(["Message", "LanguageModel"]));
    // Legacy fields and outputs stay out of the catalogue.
    assert!(all["processing"]["ParserComponent"]["template"].get("template").is_none());
    assert_eq!(all["processing"]["ParserComponent"]["outputs"].as_array().unwrap().len(), 1);

    let recorded: Json = serde_json::from_str(include_str!("testdata/langflow_nodes.json")).unwrap();
    let mut mismatches = Vec::new();
    let mut total_compared = 0;
    for (type_name, node) in recorded.as_object().unwrap() {
        let kind = ComponentKind::from_type_name(type_name).unwrap();
        let spec = kind.spec();
        let ours = node_template(spec);
        assert_eq!(ours["description"], node["description"], "{type_name}");
        assert_eq!(ours["icon"], node["icon"], "{type_name}");
        for o in node["outputs"].as_array().unwrap() {
            let mine = spec.output(o["name"].as_str().unwrap()).unwrap_or_else(|| panic!("{type_name}: {o}"));
            assert_eq!(json!(mine.types), o["types"], "{type_name}.{}", mine.name);
            assert_eq!(mine.method, o["method"], "{type_name}.{}", mine.name);
            assert_eq!(mine.allows_loop, o["allows_loop"].as_bool().unwrap_or(false));
        }
        let fields = node["fields"].as_object().unwrap();
        let mut compared = 0;
        for input in spec.inputs.iter().filter(|i| !i.legacy) {
            // (A recorded node may omit a field its version did not have yet.)
            let Some(theirs) = fields.get(input.name) else { continue };
            compared += 1;
            let mine = &ours["template"][input.name];
            for (key, value) in theirs.as_object().unwrap() {
                // An empty `input_types` is what a missing one means.
                if key == "input_types" && value == &json!([]) && mine.get(key).is_none() {
                    continue;
                }
                if &mine[key] != value {
                    mismatches.push(format!("{type_name}.{}.{key}: ours {} theirs {value}", input.name, mine[key]));
                }
            }
        }
        assert!(compared > 0, "{type_name}");
        total_compared += compared;
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(total_compared >= 40, "{total_compared}");
}

/// The tool schemas of Langflow 1.13's tool components, as recorded in the `tools` arrays its
/// agents sent, derived by the same rules from the components' declarations (Current Date is
/// not a component here yet: its declaration is test data).
#[test]
fn tool_schemas_match_the_recorded_agent_requests() {
    const fn spec(
        class_name: &'static str,
        description: &'static str,
        inputs: &'static [Input],
        outputs: &'static [Output],
    ) -> ComponentSpec {
        ComponentSpec {
            type_name: class_name,
            aliases: &[],
            class_name,
            category: "tools",
            display_name: class_name,
            description,
            icon: "",
            role: Role::Other,
            test_only: false,
            inputs,
            outputs,
        }
    }
    const DATE: ComponentSpec = spec(
        "CurrentDateComponent",
        "Returns the current date and time in the selected timezone.",
        &[Input::dropdown("timezone", "Timezone", &[])
            .value("UTC")
            .tool_mode()
            .info("Select the timezone for the current date and time.")],
        &[Output::new("current_date", "Current Date", &["Message"], "get_current_date")],
    );

    let recorded: Json = serde_json::from_str(include_str!("testdata/agent_tools.json")).unwrap();
    let node = |pairs: Json| params(pairs);
    let derived: Vec<Json> = [
        (ComponentKind::WebSearch.spec(), node(json!({"search_mode": "Web", "query": ""}))),
        (ComponentKind::Url.spec(), node(json!({"urls": ""}))),
        (&DATE, node(json!({"timezone": "UTC"}))),
        (ComponentKind::Calculator.spec(), node(json!({"expression": ""}))),
        (ComponentKind::MemoryBase.spec(), node(json!({"search_query": ""}))),
        (ComponentKind::SqlDatabase.spec(), node(json!({"query": "", "include_columns": true, "add_error": false}))),
    ]
    .iter()
    .flat_map(|(spec, p)| tool_schema_for(spec, p))
    .map(|t| t.to_openai())
    .collect();
    assert_eq!(Json::Array(derived), recorded);
}

#[test]
fn tool_schemas_of_the_existing_components_follow_the_rules() {
    // Prompt Template: its only tool-mode input is the placeholder; the method names the tool.
    let tools = tool_schema(ComponentKind::Prompt, &Params::default());
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].name, "build_prompt");
    assert_eq!(tools[0].description, "Create a prompt template with dynamic variables.");
    assert_eq!(
        tools[0].parameters,
        json!({"type": "object", "properties": {"tool_placeholder": {
            "type": "string", "description": "A placeholder input for tool mode.", "default": ""}}})
    );
    // Message History: a dropdown gives an enum, and the node's current value is the default.
    let tools = tool_schema(ComponentKind::Memory, &params(json!({"order": "Descending"})));
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["retrieve_messages_as_text", "retrieve_messages_dataframe"]);
    assert_eq!(
        tools[0].parameters["properties"]["order"],
        json!({"type": "string", "enum": ["Ascending", "Descending"], "default": "Descending",
               "description": "Order of the messages."})
    );
    // No tool-mode input: every input is a parameter; required ones are listed, without default.
    let tools = tool_schema(ComponentKind::CombineText, &Params::default());
    assert_eq!(tools[0].name, "combine_texts");
    let props = tools[0].parameters["properties"].as_object().unwrap();
    assert_eq!(props.keys().map(String::as_str).collect::<Vec<_>>().len(), 3);
    assert_eq!(props["delimiter"]["default"], " ");
    let tools = tool_schema(ComponentKind::ConditionalRouter, &Params::default());
    assert_eq!(tools[0].parameters["required"], json!(["input_text", "match_text"]));
    assert!(tools[0].parameters["properties"]["input_text"].get("default").is_none());
    assert_eq!(
        tools[0].parameters["properties"]["case_sensitive"],
        json!({"type": "boolean", "default": false,
        "description": "If true, the comparison will be case sensitive."})
    );
    // A single eligible output with a generic method is named after the class.
    let tools = tool_schema(ComponentKind::Delay, &Params::default());
    assert_eq!(tools[0].name, "delay");
    assert_eq!(tools[0].parameters["properties"]["milliseconds"]["type"], "integer");
    // Dicts and tables are objects; a list default stays a list.
    const ROWS: ComponentSpec = ComponentSpec {
        inputs: &[Input::of_type("output_schema", "Output Schema", InputType::Table)
            .default(DefaultValue::List)
            .tool_mode()],
        ..flow_controls::pass::SPEC
    };
    assert_eq!(
        tool_schema_for(&ROWS, &Params::default())[0].parameters["properties"]["output_schema"],
        json!({"type": "object", "default": [], "description": ""})
    );
    // Method names are sanitised to [a-zA-Z0-9_-].
    assert_eq!(super::langflow::sanitise_for_tests("a b.c"), "a-b-c");
}

/// The layers are strictly `catalog ← graph ← components ← engine`: no module names a layer
/// above it (the catalogue names nothing else in the crate at all).
#[test]
fn layers_only_import_downwards() {
    fn sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    fn names(text: &str, module: &str) -> bool {
        let grouped = regex::Regex::new(&format!(r"crate::\{{[^}}]*\b{module}\b")).unwrap();
        text.contains(&format!("crate::{module}")) || grouped.is_match(text)
    }
    assert!(names("use crate::engine::Mode;", "engine") && names("use crate::{clock, engine::Mode};", "engine"));
    assert!(!names("use crate::graph::Params;", "engine"));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layers: &[(&str, &[&str])] = &[
        ("catalog", &["graph", "components", "engine", "llm", "store", "registry", "records", "clock", "codec"]),
        ("graph", &["components", "engine"]),
        ("components", &["engine"]),
    ];
    let mut offences = Vec::new();
    for (layer, above) in layers {
        let mut files = Vec::new();
        sources(&root.join(layer), &mut files);
        assert!(!files.is_empty(), "{layer}");
        // This file spells the forbidden paths out itself.
        for (path, text) in files.iter().filter(|(p, _)| !p.ends_with("catalog/tests.rs")) {
            for module in *above {
                if names(text, module) {
                    offences.push(format!("{path} names crate::{module}"));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}
