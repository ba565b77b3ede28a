//! Builds Langflow-shaped flow JSON in code, for tests, benchmarks and examples that need
//! graphs no UI exported (thousand-vertex chains, Delay/Burn timing graphs). The output goes
//! through the same parser as real exports, so it exercises the real path.

use serde_json::{json, Map, Value as Json};

use crate::catalog::ComponentKind;

/// Accumulates nodes and edges; [`FlowBuilder::build`] returns `{"data": {nodes, edges}}`.
#[derive(Debug, Default, Clone)]
pub struct FlowBuilder {
    nodes: Vec<Json>,
    edges: Vec<Json>,
}

fn field_entry(value: &Json) -> Json {
    let ty = match value {
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float",
        Json::Number(_) => "int",
        Json::Object(_) => "dict",
        _ => "str",
    };
    json!({"type": ty, "value": value, "show": true, "list": false, "input_types": ["Message"]})
}

impl FlowBuilder {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node of component type `type_name` whose template has `fields` (`{name: value}`).
    /// Outputs are the component's defaults (unknown types get a `message` output).
    pub fn node(&mut self, id: &str, type_name: &str, fields: Json) -> &mut Self {
        let outputs: Vec<&str> =
            ComponentKind::from_type_name(type_name).map_or_else(|| vec!["message"], |k| k.default_outputs().collect());
        self.node_with_outputs(id, type_name, fields, &outputs)
    }

    /// Adds a node with explicit output names (a Loop's `item` output allows looping).
    pub fn node_with_outputs(&mut self, id: &str, type_name: &str, fields: Json, outputs: &[&str]) -> &mut Self {
        let mut template = Map::new();
        template.insert("_type".into(), json!("Component"));
        template.insert("code".into(), json!({"type": "code", "value": "# not read", "show": true}));
        if let Json::Object(fields) = fields {
            for (k, v) in fields {
                template.insert(k, field_entry(&v));
            }
        }
        let is_loop = ComponentKind::from_type_name(type_name) == Some(ComponentKind::Loop);
        let outputs: Vec<Json> = outputs
            .iter()
            .map(|o| json!({"name": o, "types": ["Message"], "allows_loop": is_loop && *o == "item"}))
            .collect();
        self.nodes.push(json!({
            "id": id,
            "type": "genericNode",
            "data": {"id": id, "type": type_name, "node": {"display_name": id, "template": template, "outputs": outputs}},
        }));
        self
    }

    /// Connects `source.output` to `target.field`, adding a handle-only field to the target
    /// template if it has none of that name.
    pub fn edge(&mut self, source: &str, output: &str, target: &str, field: &str) -> &mut Self {
        if let Some(node) = self.nodes.iter_mut().find(|n| n["id"] == target) {
            if let Some(Json::Object(t)) = node.pointer_mut("/data/node/template") {
                t.entry(field.to_owned())
                    .or_insert_with(|| json!({"type": "other", "value": "", "show": true, "input_types": ["Message"]}));
            }
        }
        self.edges.push(json!({
            "source": source,
            "target": target,
            "data": {
                "sourceHandle": {"dataType": source, "id": source, "name": output, "output_types": ["Message"]},
                "targetHandle": {"fieldName": field, "id": target, "inputTypes": ["Message"], "type": "str"},
            },
        }));
        self
    }

    /// A Loop feedback edge: `source.output` back into the Loop's `item` output.
    pub fn loop_back(&mut self, source: &str, output: &str, loop_id: &str) -> &mut Self {
        self.edges.push(json!({
            "source": source,
            "target": loop_id,
            "data": {
                "sourceHandle": {"dataType": source, "id": source, "name": output, "output_types": ["Message"]},
                "targetHandle": {"dataType": "LoopComponent", "id": loop_id, "name": "item", "output_types": ["Data", "Message"]},
            },
        }));
        self
    }

    #[must_use]
    pub fn build(&self) -> Json {
        json!({"data": {"nodes": self.nodes, "edges": self.edges}})
    }
}
