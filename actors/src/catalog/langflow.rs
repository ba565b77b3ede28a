//! What the declarations produce for Langflow clients: the `/api/v1/all` catalogue (one node
//! template per component type, grouped by category) and, for agents, the JSON schema of a
//! component used as a tool (Langflow's `component_as_tool` derivation).

use serde_json::{json, Map, Value as Json};

use super::{ComponentKind, ComponentSpec, DefaultValue, Input, InputType, Output, Params};

/// Langflow's input class for a declared input (`_input_type`).
fn input_class(input: &Input) -> &'static str {
    if !input.class.is_empty() {
        return input.class;
    }
    match input.ty {
        InputType::Text if input.multiline => "MultilineInput",
        InputType::Text if input.input_types.contains(&"Message") => "MessageTextInput",
        InputType::Text => "StrInput",
        InputType::Secret => "SecretStrInput",
        InputType::Int => "IntInput",
        InputType::Float => "FloatInput",
        InputType::Slider { .. } => "SliderInput",
        InputType::Bool => "BoolInput",
        InputType::Dropdown(_) => "DropdownInput",
        InputType::Tab(_) => "TabInput",
        InputType::Handle => "HandleInput",
        InputType::Dict => "DictInput",
        InputType::NestedDict => "NestedDictInput",
        InputType::Table => "TableInput",
        InputType::Model => "ModelInput",
        InputType::Prompt => "PromptInput",
        InputType::File => "FileInput",
    }
}

/// One template field, shaped like the entries of Langflow's node templates.
fn field(input: &Input) -> Json {
    let mut f = Map::new();
    f.insert("type".into(), json!(input.ty.template_type()));
    f.insert("_input_type".into(), json!(input_class(input)));
    f.insert("name".into(), json!(input.name));
    f.insert("display_name".into(), json!(input.display_name));
    f.insert("info".into(), json!(input.info));
    f.insert("value".into(), input.default.to_json());
    f.insert("required".into(), json!(input.required));
    f.insert("show".into(), json!(input.show));
    f.insert("advanced".into(), json!(input.advanced));
    f.insert("list".into(), json!(input.list));
    f.insert("multiline".into(), json!(input.multiline));
    f.insert("tool_mode".into(), json!(input.tool_mode));
    f.insert("load_from_db".into(), json!(input.load_from_db));
    f.insert("placeholder".into(), json!(""));
    f.insert("dynamic".into(), json!(false));
    f.insert("title_case".into(), json!(false));
    f.insert("trace_as_metadata".into(), json!(true));
    if matches!(input.ty, InputType::Text | InputType::Handle | InputType::Model) {
        f.insert("input_types".into(), json!(input.input_types));
    }
    if let Some(options) = input.ty.options() {
        f.insert("options".into(), json!(options));
    } else if input.ty == InputType::Model {
        f.insert("options".into(), json!([]));
    }
    if input.ty == InputType::Secret {
        f.insert("password".into(), json!(true));
    }
    if let InputType::Slider { min, max, step } = input.ty {
        f.insert("range_spec".into(), json!({"min": min, "max": max, "step": step, "step_type": "float"}));
    }
    Json::Object(f)
}

fn output(o: &Output) -> Json {
    let mut m = Map::new();
    m.insert("name".into(), json!(o.name));
    m.insert("display_name".into(), json!(o.display_name));
    m.insert("types".into(), json!(o.types));
    m.insert("selected".into(), json!(o.types.first()));
    m.insert("method".into(), json!(o.method));
    m.insert("value".into(), json!("__UNDEFINED__"));
    m.insert("cache".into(), json!(true));
    m.insert("allows_loop".into(), json!(o.allows_loop));
    m.insert("group_outputs".into(), json!(o.group_outputs));
    m.insert("tool_mode".into(), json!(o.tool_mode));
    if !o.info.is_empty() {
        m.insert("info".into(), json!(o.info));
    }
    Json::Object(m)
}

/// The node template of one component (`data.node` of a flow, an entry of `/api/v1/all`).
#[must_use]
pub fn node_template(spec: &ComponentSpec) -> Json {
    let inputs = || spec.inputs.iter().filter(|i| !i.legacy);
    let outputs = || spec.outputs.iter().filter(|o| !o.legacy);
    let mut template = Map::new();
    template.insert("_type".into(), json!("Component"));
    for i in inputs() {
        template.insert(i.name.into(), field(i));
    }
    let mut base_classes: Vec<&str> = Vec::new();
    for t in outputs().flat_map(|o| o.types.iter()) {
        if !base_classes.contains(t) {
            base_classes.push(t);
        }
    }
    json!({
        "template": template,
        "description": spec.description,
        "display_name": spec.display_name,
        "icon": spec.icon,
        "base_classes": base_classes,
        "outputs": outputs().map(output).collect::<Vec<_>>(),
        "field_order": inputs().map(|i| i.name).collect::<Vec<_>>(),
        "documentation": "",
        "custom_fields": {},
        "output_types": [],
        "conditional_paths": [],
        "pinned": false,
        "frozen": false,
        "beta": false,
        "legacy": false,
        "edited": false,
        "tool_mode": false,
        "metadata": {"component_class_name": spec.class_name, "module": format!("flowactor.components.{}", spec.category)},
    })
}

/// Langflow's `/api/v1/all`: category → type name → node template, for every component
/// flowactor implements (test components included, under `flowactor`).
#[must_use]
pub fn langflow_all() -> Json {
    let mut all = Map::new();
    for kind in ComponentKind::ALL {
        let spec = kind.spec();
        let category = all.entry(spec.category).or_insert_with(|| Json::Object(Map::new()));
        if let Json::Object(types) = category {
            types.insert(spec.type_name.into(), node_template(spec));
        }
    }
    Json::Object(all)
}

/// One tool an agent may call: what Langflow's `component_as_tool` derives from an output.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSchema {
    pub name: String,
    pub description: String,
    /// The JSON schema of the arguments (`{"type": "object", "properties": …, "required": …}`).
    pub parameters: Json,
    /// The output the tool runs.
    pub output: &'static str,
}

impl ToolSchema {
    /// The entry of a Chat Completions `tools` array.
    #[must_use]
    pub fn to_openai(&self) -> Json {
        json!({"type": "function", "function": {
            "name": self.name, "description": self.description, "parameters": self.parameters}})
    }
}

/// Method names Langflow replaces with the component's snake-cased class name.
const GENERIC_METHODS: &[&str] =
    &["output", "process", "build_output", "run", "execute", "main", "handler", "build_result"];

fn sanitise(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect()
}

/// `CamelCase` → `camel_case`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The JSON-schema type of a (single) value of `input`.
fn json_type(input: &Input) -> &'static str {
    match input.ty {
        InputType::Int => "integer",
        InputType::Float | InputType::Slider { .. } => "number",
        InputType::Bool => "boolean",
        InputType::Dict | InputType::NestedDict | InputType::Table => "object",
        _ => "string",
    }
}

fn property(input: &Input, params: &Params) -> Json {
    let mut p = Map::new();
    p.insert("description".into(), json!(input.info));
    if input.list {
        p.insert("type".into(), json!("array"));
        p.insert("items".into(), json!({"type": json_type(input)}));
    } else {
        p.insert("type".into(), json!(json_type(input)));
    }
    if let Some(options) = input.ty.options().filter(|o| (1..=50).contains(&o.len())) {
        p.insert("enum".into(), json!(options));
    }
    if !input.required {
        let current = input.param(params).cloned().unwrap_or_else(|| match input.default {
            DefaultValue::Empty => Json::String(String::new()),
            other => other.to_json(),
        });
        p.insert("default".into(), current);
    }
    Json::Object(p)
}

/// The tools a component offers in tool mode, derived from its declaration and the node's
/// current parameter values exactly as Langflow does: one tool per tool-mode output that is not
/// itself a Tool; named after the output's method (the snake-cased class name when it is the
/// only such output and its method is generic); described by the output's `info`, else the
/// component's description; its parameters are the `tool_mode` inputs (all inputs when there
/// are none), with dropdown options as `enum`, lists as arrays, `required` inputs listed and
/// every other input carrying its current value as `default`.
#[must_use]
pub fn tool_schema_for(spec: &ComponentSpec, params: &Params) -> Vec<ToolSchema> {
    let eligible: Vec<&Output> =
        spec.outputs.iter().filter(|o| !o.legacy && o.tool_mode && !o.types.contains(&"Tool")).collect();
    let inputs = || spec.inputs.iter().filter(|i| !i.legacy);
    let mut chosen: Vec<&Input> = inputs().filter(|i| i.tool_mode).collect();
    if chosen.is_empty() {
        chosen = inputs().collect();
    }
    let mut properties = Map::new();
    let mut required = Vec::new();
    for i in &chosen {
        properties.insert(i.name.into(), property(i, params));
        if i.required {
            required.push(i.name);
        }
    }
    let mut parameters = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        parameters["required"] = json!(required);
    }
    let single = eligible.len() == 1;
    eligible
        .iter()
        .map(|o| {
            let name = if single && GENERIC_METHODS.contains(&o.method) {
                snake_case(spec.class_name)
            } else {
                o.method.to_owned()
            };
            ToolSchema {
                name: sanitise(&name),
                description: if o.info.is_empty() { spec.description } else { o.info }.to_owned(),
                parameters: parameters.clone(),
                output: o.name,
            }
        })
        .collect()
}

/// [`tool_schema_for`] of a component kind.
#[must_use]
pub fn tool_schema(kind: ComponentKind, node_params: &Params) -> Vec<ToolSchema> {
    tool_schema_for(kind.spec(), node_params)
}

#[cfg(test)]
pub(super) fn sanitise_for_tests(name: &str) -> String {
    sanitise(name)
}
