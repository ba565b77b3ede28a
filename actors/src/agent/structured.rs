//! Structured output as Langflow 1.13 asks for it and reads it back (spec §6): the JSON schema
//! built from an `output_schema` table (`{name, description, type, multiple}` rows), the
//! `objects` envelope around it, the first JSON value found in a model's text, and the
//! per-record validation of what the model answered.
//!
//! The schemas are pydantic's: a record model `OutputModel` whose properties keep the table's
//! order, every field required, titles from the field names (`str.title()`, `_` → space), and
//! keys sorted as pydantic sorts them, so the indented text the Agent puts in its prompt is
//! byte for byte Langflow's.

use serde_json::{json, Map, Value as Json};

use super::args::{self, FieldError};

/// The record model's name (the inner `$defs` entry), whatever the schema is called.
pub const RECORD_MODEL: &str = "OutputModel";

/// One row of an `output_schema` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaField {
    pub name: String,
    pub description: String,
    /// `str`, `int`, `float`, `bool`, `dict` (anything else is read as `str`).
    pub ty: String,
    /// A list of that type.
    pub multiple: bool,
}

/// Langflow's `coalesce_bool`: `True`, `"true"`, `"1"`, `"yes"`, … are true.
fn truthy(v: Option<&Json>) -> bool {
    match v {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "t" | "y" | "yes"),
        Some(Json::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

/// The fields of an `output_schema` value (a list of rows; rows without a name are skipped).
#[must_use]
pub fn fields_from_table(table: Option<&Json>) -> Vec<SchemaField> {
    let Some(Json::Array(rows)) = table else { return Vec::new() };
    let text = |r: &Json, k: &str| match r.get(k) {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    rows.iter()
        .filter(|r| r.is_object())
        .map(|r| SchemaField {
            name: text(r, "name").trim().to_owned(),
            description: text(r, "description"),
            ty: text(r, "type").trim().to_owned(),
            multiple: truthy(r.get("multiple")),
        })
        .filter(|f| !f.name.is_empty())
        .collect()
}

/// Python's `str.title()`: a cased character after a cased one is lower-cased, any other
/// cased character upper-cased.
fn py_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        let cased = c.is_lowercase() || c.is_uppercase();
        if cased && prev_cased {
            out.extend(c.to_lowercase());
        } else if cased {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_cased = cased;
    }
    out
}

/// Pydantic's default title of a field: `linkedinUrl` → `Linkedinurl`, `NET_INCOME` → `Net
/// Income`.
#[must_use]
pub fn field_title(name: &str) -> String {
    py_title(name).replace('_', " ").trim().to_owned()
}

/// The JSON schema of one field's value (no title or description).
fn value_schema(ty: &str) -> Map<String, Json> {
    let mut m = Map::new();
    match ty {
        "int" => {
            m.insert("type".into(), json!("integer"));
        }
        "float" => {
            m.insert("type".into(), json!("number"));
        }
        "bool" => {
            m.insert("type".into(), json!("boolean"));
        }
        "dict" => {
            m.insert("additionalProperties".into(), json!(true));
            m.insert("type".into(), json!("object"));
        }
        _ => {
            m.insert("type".into(), json!("string"));
        }
    }
    m
}

/// One property of the record model, keys in pydantic's (sorted) order.
fn property(f: &SchemaField) -> Json {
    let inner = value_schema(&f.ty);
    let mut m = Map::new();
    if !f.multiple {
        if let Some(a) = inner.get("additionalProperties") {
            m.insert("additionalProperties".into(), a.clone());
        }
    }
    m.insert("description".into(), json!(f.description));
    if f.multiple {
        m.insert("items".into(), Json::Object(inner));
        m.insert("title".into(), json!(field_title(&f.name)));
        m.insert("type".into(), json!("array"));
    } else {
        m.insert("title".into(), json!(field_title(&f.name)));
        m.insert("type".into(), inner.get("type").cloned().unwrap_or(Json::Null));
    }
    Json::Object(m)
}

/// The record model `OutputModel`: every field, all required; `strict` adds
/// `additionalProperties: false` (OpenAI's strict structured outputs).
#[must_use]
pub fn record_schema(fields: &[SchemaField], strict: bool) -> Json {
    let mut props = Map::new();
    for f in fields {
        props.insert(f.name.clone(), property(f));
    }
    let required: Vec<Json> = fields.iter().map(|f| json!(f.name)).collect();
    let mut m = Map::new();
    m.insert("properties".into(), Json::Object(props));
    m.insert("required".into(), Json::Array(required));
    m.insert("title".into(), json!(RECORD_MODEL));
    m.insert("type".into(), json!("object"));
    if strict {
        m.insert("additionalProperties".into(), json!(false));
    }
    Json::Object(m)
}

/// The envelope's key: `objects`, or with `_` appended until no field has that name.
#[must_use]
pub fn envelope_key(fields: &[SchemaField]) -> String {
    let mut key = "objects".to_owned();
    while fields.iter().any(|f| f.name == key) {
        key.push('_');
    }
    key
}

/// How an envelope is described: its model name and the two descriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The outer model's title (and, for Structured Output, the forced function's name).
    pub name: &'a str,
    pub description: &'a str,
    pub items_description: &'a str,
    /// The list's key ([`envelope_key`], or always `objects`).
    pub key: &'a str,
}

impl<'a> Envelope<'a> {
    /// Structured Output's: `A list of <name>.` everywhere, key `objects`.
    #[must_use]
    pub fn component(name: &'a str, description: &'a str) -> Self {
        Self { name, description, items_description: description, key: "objects" }
    }

    /// The Agent's: `A list of extracted records.` / `Every record that matches the schema.`.
    #[must_use]
    pub fn agent(key: &'a str) -> Self {
        Self {
            name: RECORD_MODEL,
            description: "A list of extracted records.",
            items_description: "Every record that matches the schema.",
            key,
        }
    }
}

/// The envelope schema: `{key: [OutputModel, …]}` with at least one record.
#[must_use]
pub fn envelope_schema(fields: &[SchemaField], env: &Envelope<'_>, strict: bool) -> Json {
    let mut defs = Map::new();
    defs.insert(RECORD_MODEL.into(), record_schema(fields, strict));
    let list = json!({
        "description": env.items_description,
        "items": {"$ref": format!("#/$defs/{RECORD_MODEL}")},
        "minItems": 1,
        "title": field_title(env.key),
        "type": "array",
    });
    let mut props = Map::new();
    props.insert(env.key.to_owned(), list);
    let mut m = Map::new();
    m.insert("$defs".into(), Json::Object(defs));
    m.insert("description".into(), json!(env.description));
    m.insert("properties".into(), Json::Object(props));
    m.insert("required".into(), json!([env.key]));
    m.insert("title".into(), json!(env.name));
    m.insert("type".into(), json!("object"));
    if strict {
        m.insert("additionalProperties".into(), json!(false));
    }
    Json::Object(m)
}

/// Python's `json.dumps(v, indent=2)`: two-space indentation, non-ASCII as `\uXXXX`.
#[must_use]
pub fn dumps_indent2(v: &Json) -> String {
    let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
    let mut out = String::with_capacity(pretty.len());
    for c in pretty.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// Most places in a text where a JSON value is tried.
const MAX_JSON_STARTS: usize = 1000;

/// The first JSON object or array anywhere in `text` (`Here you go: {"objects": …} thanks`).
#[must_use]
pub fn first_json(text: &str) -> Option<Json> {
    text.char_indices().filter(|(_, c)| *c == '{' || *c == '[').take(MAX_JSON_STARTS).find_map(|(i, _)| {
        serde_json::Deserializer::from_str(&text[i..]).into_iter::<Json>().next().and_then(Result::ok)
    })
}

/// The records of a parsed answer: the envelope's list, a bare list, or one object.
#[must_use]
pub fn unwrap_records(value: Json, key: &str) -> Vec<Json> {
    match value {
        Json::Object(mut m) => match m.remove(key) {
            Some(Json::Array(items)) => items,
            Some(other) => {
                m.insert(key.to_owned(), other);
                vec![Json::Object(m)]
            }
            None => vec![Json::Object(m)],
        },
        Json::Array(items) => items,
        other => vec![other],
    }
}

/// Pydantic's `ValidationError` text for the record model.
#[must_use]
pub fn validation_text(errors: &[FieldError]) -> String {
    args::pydantic_text(errors).replacen("for InputSchema", &format!("for {RECORD_MODEL}"), 1)
}

/// Validates one record against the record schema (pydantic's lax coercions).
///
/// # Errors
/// Pydantic's text for every field that does not fit.
pub fn validate_record(record_schema: &Json, record: &Json) -> Result<Json, String> {
    let Json::Object(map) = record else {
        let e = FieldError {
            loc: String::new(),
            kind: "model_type",
            msg: format!("Input should be a valid dictionary or instance of {RECORD_MODEL}"),
            input_repr: super::pyfmt::py_repr(record),
            input_type: super::pyfmt::py_type(record),
        };
        return Err(validation_text(&[e]).replacen("\n\n", "\n", 1));
    };
    args::validate(record_schema, map).map(Json::Object).map_err(|e| validation_text(&e))
}

/// The Agent's structured records: each valid record as validated, each invalid one as
/// `{"data": <record>, "validation_error": <text>}`.
#[must_use]
pub fn checked_records(record_schema: &Json, records: Vec<Json>) -> Vec<Json> {
    records
        .into_iter()
        .map(|r| match validate_record(record_schema, &r) {
            Ok(v) => v,
            Err(text) => json!({"data": r, "validation_error": text}),
        })
        .collect()
}

/// One record as itself, several as `{"results": […]}` (`None` for none).
#[must_use]
pub fn as_data(mut records: Vec<Json>) -> Option<Map<String, Json>> {
    match records.len() {
        0 => None,
        1 => match records.pop() {
            Some(Json::Object(m)) => Some(m),
            Some(other) => {
                let mut m = Map::new();
                m.insert("results".into(), Json::Array(vec![other]));
                Some(m)
            }
            None => None,
        },
        _ => {
            let mut m = Map::new();
            m.insert("results".into(), Json::Array(records));
            Some(m)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn field(name: &str, ty: &str, multiple: bool) -> SchemaField {
        SchemaField { name: name.into(), description: format!("{name} d"), ty: ty.into(), multiple }
    }

    #[test]
    fn titles_follow_pythons_title_case() {
        assert_eq!(field_title("linkedinUrl"), "Linkedinurl");
        assert_eq!(field_title("NET_INCOME"), "Net Income");
        assert_eq!(field_title("hasAPI"), "Hasapi");
        assert_eq!(field_title("objects_"), "Objects");
        assert_eq!(field_title("top3items"), "Top3Items");
        assert_eq!(field_title("_x_y"), "X Y");
    }

    #[test]
    fn types_and_lists_map_as_pydantic_does() {
        let rows = json!([
            {"name": "a", "description": "A", "type": "str", "multiple": "False"},
            {"name": "b", "description": "B", "type": "int", "multiple": "True"},
            {"name": "c", "description": "C", "type": "float", "multiple": false},
            {"name": "d", "description": "D", "type": "bool", "multiple": "true"},
            {"name": "e", "description": "E", "type": "dict"},
            {"name": "", "description": "skipped", "type": "str"}
        ]);
        let fields = fields_from_table(Some(&rows));
        assert_eq!(fields.len(), 5);
        let s = record_schema(&fields, false);
        assert_eq!(s["properties"]["a"], json!({"description": "A", "title": "A", "type": "string"}));
        assert_eq!(
            s["properties"]["b"],
            json!({"description": "B", "items": {"type": "integer"}, "title": "B", "type": "array"})
        );
        assert_eq!(s["properties"]["c"]["type"], "number");
        assert_eq!(
            s["properties"]["d"],
            json!({"description": "D", "items": {"type": "boolean"}, "title": "D", "type": "array"})
        );
        assert_eq!(
            s["properties"]["e"],
            json!({"additionalProperties": true, "description": "E", "title": "E", "type": "object"})
        );
        assert_eq!(s["required"], json!(["a", "b", "c", "d", "e"]));
        assert!(s.get("additionalProperties").is_none());
        assert_eq!(record_schema(&fields, true)["additionalProperties"], json!(false));
    }

    #[test]
    fn the_envelope_wraps_the_records_and_keeps_clear_of_field_names() {
        let fields = vec![field("x", "str", false)];
        let desc = "A list of Deal.";
        let s = envelope_schema(&fields, &Envelope::component("Deal", desc), false);
        assert_eq!(s["title"], "Deal");
        assert_eq!(
            s["properties"]["objects"],
            json!({"description": desc, "items": {"$ref": "#/$defs/OutputModel"}, "minItems": 1,
                   "title": "Objects", "type": "array"})
        );
        assert_eq!(s["$defs"]["OutputModel"]["title"], "OutputModel");
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["$defs", "description", "properties", "required", "title", "type"]);

        assert_eq!(envelope_key(&fields), "objects");
        let clash = vec![field("objects", "str", false), field("objects_", "str", false)];
        let key = envelope_key(&clash);
        assert_eq!(key, "objects__");
        let s = envelope_schema(&clash, &Envelope::agent(&key), true);
        assert_eq!(s["required"], json!(["objects__"]));
        assert_eq!(s["properties"]["objects__"]["title"], "Objects");
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["$defs"]["OutputModel"]["additionalProperties"], json!(false));
    }

    #[test]
    fn json_is_found_anywhere_and_records_are_checked() {
        let text = r#"Here you go: {"objects": [{"p": "1"}]} thanks {"other": 1}"#;
        let v = first_json(text).unwrap();
        assert_eq!(v, json!({"objects": [{"p": "1"}]}));
        assert_eq!(first_json("no json {here"), None);
        assert_eq!(first_json("list: [1, 2]"), Some(json!([1, 2])));
        let schema = record_schema(&[field("p", "int", false)], false);
        let checked = checked_records(&schema, unwrap_records(v, "objects"));
        assert_eq!(checked, vec![json!({"p": 1})]);
        let checked = checked_records(&schema, vec![json!({"q": 1})]);
        assert_eq!(checked[0]["data"], json!({"q": 1}));
        assert!(checked[0]["validation_error"]
            .as_str()
            .unwrap()
            .starts_with("1 validation error for OutputModel\np\n"));
        assert_eq!(as_data(vec![json!({"a": 1})]), json!({"a": 1}).as_object().cloned());
        assert_eq!(as_data(vec![json!({"a": 1}), json!({"a": 2})]).unwrap()["results"], json!([{"a": 1}, {"a": 2}]));
        assert_eq!(as_data(Vec::new()), None);
        assert_eq!(dumps_indent2(&json!({"a": ["é"]})), "{\n  \"a\": [\n    \"\\u00e9\"\n  ]\n}");
    }
}
