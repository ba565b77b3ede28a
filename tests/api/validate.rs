//! `POST /api/v1/validate/prompt`, the prompt editor's call: the template's variables and the
//! node updated the way Langflow 1.13 updates it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{fixture, Auth, TestServer};
use serde_json::{json, Value};

/// The Prompt node of Langflow's Basic Prompting starter.
fn prompt_node() -> Value {
    let flow = fixture("basic_prompting__lf1.13.0.json");
    let node =
        flow["data"]["nodes"].as_array().unwrap().iter().find(|n| n["data"]["type"] == "Prompt").unwrap().clone();
    node["data"]["node"].clone()
}

#[test]
fn variables_become_fields_and_old_ones_go() {
    let s = TestServer::start();
    let (_, t) = s.user("prompt-editor");
    let mut node = prompt_node();
    node["template"]["old"] = json!({"name": "old", "value": "gone"});
    node["custom_fields"] = json!({"template": ["old", "topic"]});
    node["template"]["topic"] = json!({"name": "topic", "value": "kept value"});
    let body = json!({"name": "template", "template": "Write about {topic} for {audience}. {{not a var}}", "frontend_node": node});
    let r = s.post("/api/v1/validate/prompt", Auth::Bearer(&t), &body);
    r.expect(200);
    assert_eq!(r.json["input_variables"], json!(["topic", "audience"]));
    let tpl = &r.json["frontend_node"]["template"];
    assert_eq!(tpl["topic"]["value"], "kept value", "an existing field keeps its value");
    assert_eq!(tpl["audience"]["value"], "");
    assert_eq!(tpl["audience"]["input_types"], json!(["Message"]));
    assert_eq!(tpl["audience"]["multiline"], true);
    assert!(tpl.get("old").is_none(), "a variable that disappeared loses its field");
    assert_eq!(r.json["frontend_node"]["custom_fields"]["template"], json!(["topic", "audience"]));
    // Everything else in the node comes back as sent.
    assert_eq!(r.json["frontend_node"]["display_name"], node["display_name"]);
    assert_eq!(tpl["template"], node["template"]["template"]);

    // Mustache mode: only {{name}} tags.
    let body =
        json!({"name": "template", "template": "Hi {{who}} {not}", "mustache": true, "frontend_node": prompt_node()});
    let r = s.post("/api/v1/validate/prompt", Auth::Bearer(&t), &body);
    r.expect(200);
    assert_eq!(r.json["input_variables"], json!(["who"]));

    // No node: no variables.
    let r = s.post("/api/v1/validate/prompt", Auth::Bearer(&t), &json!({"name": "x", "template": "{a}"}));
    r.expect(200);
    assert_eq!(r.json, json!({"input_variables": [], "frontend_node": null}));
}

#[test]
fn bad_prompts_get_langflows_texts_as_client_errors() {
    let s = TestServer::start();
    let (_, t) = s.user("prompt-breaker");
    let cases = [
        ("{my var}", "Input variables contain invalid characters or formats. \nInvalid variables: my var.\nEmpty variables: . \nFixed variables: myvar."),
        ("{_secret}", "Invalid input variables: `_secret`. Variable names cannot start with `_` because that prefix is reserved for internal template fields."),
        ("{code}", "Invalid input variables. None of the variables can be named code. "),
        ("oops }", "Single '}' encountered in format string"),
        ("oops {open", "expected '}' before end of string"),
    ];
    for (template, detail) in cases {
        let body = json!({"name": "template", "template": template, "frontend_node": prompt_node()});
        s.post("/api/v1/validate/prompt", Auth::Bearer(&t), &body).expect_detail(400, detail);
    }
    let r = s.post("/api/v1/validate/prompt", Auth::Bearer(&t), &json!({"template": "{a}"}));
    r.expect(422);
    assert_eq!(r.json["detail"][0]["loc"], json!(["body", "name"]));
    let r = s.post("/api/v1/validate/prompt", Auth::Bearer(&t), &json!({"name": "x", "template": 5}));
    r.expect(422);
    let body = json!({"name": "x", "template": "{a}", "frontend_node": "nope"});
    s.post("/api/v1/validate/prompt", Auth::Bearer(&t), &body).expect(422);
    let body = json!({"name": "x", "template": "{a}", "frontend_node": {"template": []}});
    s.post("/api/v1/validate/prompt", Auth::Bearer(&t), &body).expect(422);
    s.post("/api/v1/validate/prompt", Auth::None, &json!({"name": "x", "template": "{a}"})).expect(403);
}
