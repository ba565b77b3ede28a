//! The declaration types: what one input field, one output and one component are, as `const`
//! data. Every component declares itself with these once; the template entries of Langflow's
//! catalogue, the tool schemas and the typed parameter accessors all read the same constants.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::params::{json_text, Params};

/// What kind of value an input holds (Langflow's template `type`, plus what the UI offers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InputType {
    /// A text field (`str`): `StrInput`, `MessageTextInput`, `MultilineInput`, `MessageInput`.
    Text,
    /// A secret text field (`str` with `password`): `SecretStrInput`.
    Secret,
    Int,
    Float,
    /// A float slider (`slider`) between `min` and `max`.
    Slider {
        min: f64,
        max: f64,
        step: f64,
    },
    Bool,
    /// A `str` field with a fixed list of options (`DropdownInput`).
    Dropdown(&'static [&'static str]),
    /// A `tab` field: a dropdown drawn as tabs (`TabInput`).
    Tab(&'static [&'static str]),
    /// A connection-only field (`other`): `HandleInput`, `DataInput`, `DataFrameInput`.
    Handle,
    /// A JSON object (`dict`): `DictInput`.
    Dict,
    /// Nested JSON objects (`NestedDict`): `NestedDictInput`.
    NestedDict,
    /// Rows of a table (`table`): `TableInput`, e.g. the Agent's `output_schema`.
    Table,
    /// Langflow's model picker (`model`): a list of `{name, provider}` selections.
    Model,
    /// The prompt template of Prompt Template (`prompt`).
    Prompt,
    /// File paths (`file`).
    File,
}

impl InputType {
    /// The template `type` Langflow writes for this input.
    #[must_use]
    pub const fn template_type(self) -> &'static str {
        match self {
            Self::Text | Self::Secret | Self::Dropdown(_) => "str",
            Self::Int => "int",
            Self::Float => "float",
            Self::Slider { .. } => "slider",
            Self::Bool => "bool",
            Self::Tab(_) => "tab",
            Self::Handle => "other",
            Self::Dict => "dict",
            Self::NestedDict => "NestedDict",
            Self::Table => "table",
            Self::Model => "model",
            Self::Prompt => "prompt",
            Self::File => "file",
        }
    }

    /// The options of a dropdown or tab.
    #[must_use]
    pub const fn options(self) -> Option<&'static [&'static str]> {
        match self {
            Self::Dropdown(o) | Self::Tab(o) => Some(o),
            _ => None,
        }
    }
}

/// The value an input has when the flow does not set it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// `""`.
    Empty,
    Str(&'static str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `{}`.
    Object,
    /// `[]`.
    List,
}

impl DefaultValue {
    #[must_use]
    pub fn to_json(self) -> Json {
        match self {
            Self::Empty => Json::String(String::new()),
            Self::Str(s) => Json::String(s.to_owned()),
            Self::Int(i) => Json::from(i),
            Self::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
            Self::Bool(b) => Json::Bool(b),
            Self::Object => Json::Object(serde_json::Map::new()),
            Self::List => Json::Array(Vec::new()),
        }
    }
}

/// One input field of a component.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input {
    pub name: &'static str,
    pub display_name: &'static str,
    pub ty: InputType,
    /// What may connect to it (`input_types`), e.g. `["Message"]`.
    pub input_types: &'static [&'static str],
    pub default: DefaultValue,
    pub info: &'static str,
    pub required: bool,
    pub advanced: bool,
    /// Shown in the node (`show`); hidden fields are provider-specific ones the UI reveals.
    pub show: bool,
    /// Takes a list of values (`list` / `is_list`).
    pub list: bool,
    pub multiline: bool,
    /// Becomes a parameter of the component's tool (agent tool mode).
    pub tool_mode: bool,
    /// The value names a global variable (`load_from_db`).
    pub load_from_db: bool,
    /// Accepted in stored flows (older Langflow versions, other components' names for the same
    /// thing) but not part of the current Langflow template: left out of the catalogue.
    pub legacy: bool,
    /// Langflow's input class (`_input_type`) when it is not the one the type implies
    /// (`MessageInput` for a component's main message input, say).
    pub class: &'static str,
}

impl Input {
    const fn new(name: &'static str, display_name: &'static str, ty: InputType) -> Self {
        Self {
            name,
            display_name,
            ty,
            input_types: &[],
            default: DefaultValue::Empty,
            info: "",
            required: false,
            advanced: false,
            show: true,
            list: false,
            multiline: false,
            tool_mode: false,
            load_from_db: false,
            legacy: false,
            class: "",
        }
    }

    /// A plain text field (`StrInput`).
    #[must_use]
    pub const fn text(name: &'static str, display_name: &'static str) -> Self {
        Self::new(name, display_name, InputType::Text)
    }

    /// A text field that also accepts a connected Message (`MessageTextInput`, `MessageInput`).
    #[must_use]
    pub const fn message(name: &'static str, display_name: &'static str) -> Self {
        Self::new(name, display_name, InputType::Text).accepts(&["Message"])
    }

    #[must_use]
    pub const fn secret(name: &'static str, display_name: &'static str) -> Self {
        Self::new(name, display_name, InputType::Secret)
    }

    #[must_use]
    pub const fn int(name: &'static str, display_name: &'static str, default: i64) -> Self {
        Self::new(name, display_name, InputType::Int).default(DefaultValue::Int(default))
    }

    #[must_use]
    pub const fn float(name: &'static str, display_name: &'static str) -> Self {
        Self::new(name, display_name, InputType::Float)
    }

    #[must_use]
    pub const fn bool(name: &'static str, display_name: &'static str, default: bool) -> Self {
        Self::new(name, display_name, InputType::Bool).default(DefaultValue::Bool(default))
    }

    #[must_use]
    pub const fn dropdown(name: &'static str, display_name: &'static str, options: &'static [&'static str]) -> Self {
        Self::new(name, display_name, InputType::Dropdown(options))
    }

    #[must_use]
    pub const fn tab(name: &'static str, display_name: &'static str, options: &'static [&'static str]) -> Self {
        Self::new(name, display_name, InputType::Tab(options))
    }

    /// A connection-only field taking `types`.
    #[must_use]
    pub const fn handle(name: &'static str, display_name: &'static str, types: &'static [&'static str]) -> Self {
        Self::new(name, display_name, InputType::Handle).accepts(types)
    }

    #[must_use]
    pub const fn of_type(name: &'static str, display_name: &'static str, ty: InputType) -> Self {
        Self::new(name, display_name, ty)
    }

    #[must_use]
    pub const fn accepts(mut self, types: &'static [&'static str]) -> Self {
        self.input_types = types;
        self
    }

    #[must_use]
    pub const fn default(mut self, value: DefaultValue) -> Self {
        self.default = value;
        self
    }

    /// Default text.
    #[must_use]
    pub const fn value(self, text: &'static str) -> Self {
        self.default(DefaultValue::Str(text))
    }

    #[must_use]
    pub const fn info(mut self, info: &'static str) -> Self {
        self.info = info;
        self
    }

    #[must_use]
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    #[must_use]
    pub const fn advanced(mut self) -> Self {
        self.advanced = true;
        self
    }

    #[must_use]
    pub const fn hidden(mut self) -> Self {
        self.show = false;
        self
    }

    #[must_use]
    pub const fn list(mut self) -> Self {
        self.list = true;
        self
    }

    #[must_use]
    pub const fn multiline(mut self) -> Self {
        self.multiline = true;
        self
    }

    #[must_use]
    pub const fn tool_mode(mut self) -> Self {
        self.tool_mode = true;
        self
    }

    #[must_use]
    pub const fn load_from_db(mut self) -> Self {
        self.load_from_db = true;
        self
    }

    #[must_use]
    pub const fn legacy(mut self) -> Self {
        self.legacy = true;
        self
    }

    /// A Langflow `MessageInput` (a text field whose usual value is a connected Message).
    #[must_use]
    pub const fn message_input(mut self) -> Self {
        self.class = "MessageInput";
        self
    }

    /// The declared default as text (`""` unless a text default is declared).
    #[must_use]
    pub fn default_text(&self) -> &'static str {
        match self.default {
            DefaultValue::Str(s) => s,
            _ => "",
        }
    }

    /// The parameter's value, if the flow sets it.
    #[must_use]
    pub fn param<'a>(&self, params: &'a Params) -> Option<&'a Json> {
        params.get(self.name)
    }

    /// The parameter as text (`""` when unset).
    #[must_use]
    pub fn text_in<'a>(&self, params: &'a Params) -> Cow<'a, str> {
        json_text(params.get(self.name))
    }

    /// The parameter as a bool (`true`/`"true"`/`"1"`/`"yes"`/non-zero), else the declared default.
    #[must_use]
    pub fn bool_in(&self, params: &Params) -> bool {
        match params.get(self.name) {
            Some(Json::Bool(b)) => *b,
            Some(Json::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
            Some(Json::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
            _ => matches!(self.default, DefaultValue::Bool(true)),
        }
    }

    /// The declared integer default (0 when none is declared).
    #[must_use]
    pub fn default_int(&self) -> i64 {
        match self.default {
            DefaultValue::Int(i) => i,
            _ => 0,
        }
    }

    /// Parses `text` as an integer (a float is truncated), else the declared default.
    #[must_use]
    pub fn int_from_text(&self, text: &str) -> i64 {
        text.trim().parse::<f64>().ok().map_or(self.default_int(), |f| f as i64)
    }

    /// The parameter as an integer, else the declared default.
    #[must_use]
    pub fn int_in(&self, params: &Params) -> i64 {
        match params.get(self.name) {
            Some(Json::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)).unwrap_or(self.default_int()),
            Some(Json::String(s)) => self.int_from_text(s),
            _ => self.default_int(),
        }
    }

    /// The parameter as a finite number (number or numeric text), if set.
    #[must_use]
    pub fn number_in(&self, params: &Params) -> Option<f64> {
        match params.get(self.name)? {
            Json::Number(n) => n.as_f64(),
            Json::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|f: &f64| f.is_finite())
    }
}

/// One output of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    pub name: &'static str,
    pub display_name: &'static str,
    pub types: &'static [&'static str],
    /// The Python method Langflow runs for it (also the default tool name in tool mode).
    pub method: &'static str,
    /// Its value loops back into a Loop body (`allows_loop`).
    pub allows_loop: bool,
    /// Langflow shows grouped outputs side by side (`group_outputs`).
    pub group_outputs: bool,
    /// Whether tool mode may expose it (Langflow's default: yes).
    pub tool_mode: bool,
    pub info: &'static str,
    /// Produced for stored flows of older Langflow versions, not in the current template.
    pub legacy: bool,
}

impl Output {
    #[must_use]
    pub const fn new(
        name: &'static str,
        display_name: &'static str,
        types: &'static [&'static str],
        method: &'static str,
    ) -> Self {
        Self {
            name,
            display_name,
            types,
            method,
            allows_loop: false,
            group_outputs: false,
            tool_mode: true,
            info: "",
            legacy: false,
        }
    }

    #[must_use]
    pub const fn allows_loop(mut self) -> Self {
        self.allows_loop = true;
        self
    }

    #[must_use]
    pub const fn grouped(mut self) -> Self {
        self.group_outputs = true;
        self
    }

    #[must_use]
    pub const fn legacy(mut self) -> Self {
        self.legacy = true;
        self
    }

    #[must_use]
    pub const fn info(mut self, info: &'static str) -> Self {
        self.info = info;
        self
    }

    /// Not exposed as a tool in tool mode (`tool_mode=False`).
    #[must_use]
    pub const fn not_tool(mut self) -> Self {
        self.tool_mode = false;
        self
    }
}

/// A vertex's role in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Receives the run input (Langflow's `is_input`).
    Input,
    /// Reported by `/run` (Langflow's `is_output`).
    Output,
    Other,
}

/// Everything flowactor knows about one component type besides its logic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComponentSpec {
    /// The key of the type in Langflow's catalogue (and the usual `data.type`).
    pub type_name: &'static str,
    /// Other names stored flows use for it (class names, older type names, id prefixes).
    pub aliases: &'static [&'static str],
    /// The Python class name (`metadata.component_class_name`).
    pub class_name: &'static str,
    /// The catalogue category (Langflow's component folder).
    pub category: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    pub icon: &'static str,
    pub role: Role,
    /// A flowactor test component (`Delay`, `Burn`): runs only when the engine allows it.
    pub test_only: bool,
    pub inputs: &'static [Input],
    pub outputs: &'static [Output],
}

impl ComponentSpec {
    /// Whether `name` names this component (its type name or an alias).
    #[must_use]
    pub fn answers_to(&self, name: &str) -> bool {
        self.type_name == name || self.aliases.contains(&name)
    }

    #[must_use]
    pub fn input(&self, name: &str) -> Option<&'static Input> {
        self.inputs.iter().find(|i| i.name == name)
    }

    #[must_use]
    pub fn output(&self, name: &str) -> Option<&'static Output> {
        self.outputs.iter().find(|o| o.name == name)
    }
}
