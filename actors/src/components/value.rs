//! The values that travel along edges — Langflow's `Message`, `Data` and `DataFrame` — and their
//! JSON dumps, which must match Langflow's byte for byte in field names and nesting because
//! clients read them out of `/run` responses and `add_message` events.
//!
//! Values are reference counted so that fanning one output out to many successors costs a
//! pointer copy, not a deep clone.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

use crate::clock::{message_timestamp, Micros};
use crate::store::messages::MessageRecord;

/// A value on an edge.
#[derive(Debug, Clone)]
pub enum Value {
    Message(Arc<Message>),
    Data(Arc<Data>),
    /// A table: one JSON object per row.
    DataFrame(Arc<Vec<Map<String, Json>>>),
    /// The tools a component offers in tool mode (its `component_as_tool` output).
    Tools(Arc<ToolSet>),
}

/// A vertex's tools: what its declaration derives for this build's parameters.
#[derive(Debug, Clone)]
pub struct ToolSet {
    pub vertex: usize,
    pub node_id: String,
    pub display_name: String,
    pub tools: Vec<crate::catalog::ToolSchema>,
}

impl ToolSet {
    /// Langflow's serialised tool descriptors (`end_vertex` outputs, results).
    #[must_use]
    pub fn descriptors(&self) -> Json {
        Json::Array(
            self.tools
                .iter()
                .map(|t| {
                    json!({"name": t.name, "description": t.description, "tags": [t.name],
                           "metadata": {"display_name": t.name, "display_description": t.description,
                                        "source_id": self.node_id, "approval_actions": null},
                           "handle_tool_error": true, "response_format": "content_and_artifact"})
                })
                .collect(),
        )
    }
}

impl Value {
    #[must_use]
    pub fn message(m: Message) -> Self {
        Self::Message(Arc::new(m))
    }

    /// The text a text-accepting input sees: a Message's text, a Data's `text_key` entry (or its
    /// JSON), a table's rows one per line.
    #[must_use]
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Self::Message(m) => Cow::Borrowed(m.text.as_str()),
            Self::Data(d) => d.text(),
            Self::DataFrame(rows) => Cow::Owned(
                rows.iter()
                    .map(|r| match r.get("text") {
                        Some(Json::String(s)) => s.clone(),
                        _ => Json::Object(r.clone()).to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Self::Tools(set) => Cow::Owned(set.tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join("\n")),
        }
    }

    /// The rows of this value seen as a table (a Message or Data is one row).
    #[must_use]
    pub fn rows(&self) -> Vec<Map<String, Json>> {
        match self {
            Self::Message(m) => vec![m.data_fields()],
            Self::Data(d) => vec![d.data.clone()],
            Self::DataFrame(rows) => rows.as_ref().clone(),
            Self::Tools(set) => {
                set.descriptors().as_array().into_iter().flatten().filter_map(|d| d.as_object().cloned()).collect()
            }
        }
    }

    /// Langflow's serialisation of the value inside `results`.
    #[must_use]
    pub fn to_json(&self) -> Json {
        match self {
            Self::Message(m) => m.to_json(),
            Self::Data(d) => d.to_json(),
            Self::DataFrame(rows) => Json::Array(rows.iter().cloned().map(Json::Object).collect()),
            Self::Tools(set) => set.descriptors(),
        }
    }

    /// The size the value's content takes: a Message's text, or the compact JSON of a Data or a
    /// table. Measured without building the JSON.
    #[must_use]
    pub fn content_bytes(&self) -> usize {
        match self {
            Self::Message(m) => m.text.len(),
            Self::Data(d) => json_bytes(&d.data),
            Self::DataFrame(rows) => json_bytes(rows.as_ref()),
            Self::Tools(set) => json_bytes(&set.descriptors()),
        }
    }

    /// Langflow's type label in `outputs.<name>.type` and artifacts.
    #[must_use]
    pub fn type_label(&self) -> &'static str {
        match self {
            Self::Message(_) => "text",
            Self::Data(_) => "object",
            Self::DataFrame(_) | Self::Tools(_) => "array",
        }
    }

    /// The `outputs.<name>.message` entry: text for a Message, the JSON otherwise.
    #[must_use]
    pub fn display(&self) -> Json {
        match self {
            Self::Message(m) => Json::String(m.text.clone()),
            Self::Data(d) => Json::Object(d.data.clone()),
            Self::DataFrame(_) | Self::Tools(_) => self.to_json(),
        }
    }
}

/// Length of the compact JSON of `value`.
fn json_bytes(value: &impl Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Langflow's `Data`: a JSON object plus the key that holds its text.
#[derive(Debug, Clone, Default)]
pub struct Data {
    pub text_key: String,
    pub data: Map<String, Json>,
}

impl Data {
    #[must_use]
    pub fn new(data: Map<String, Json>) -> Self {
        Self { text_key: "text".into(), data }
    }

    #[must_use]
    pub fn text(&self) -> Cow<'_, str> {
        match self.data.get(&self.text_key) {
            Some(Json::String(s)) => Cow::Borrowed(s.as_str()),
            Some(other) => Cow::Owned(other.to_string()),
            None => Cow::Owned(Json::Object(self.data.clone()).to_string()),
        }
    }

    #[must_use]
    pub fn to_json(&self) -> Json {
        json!({ "text_key": self.text_key, "data": self.data, "default_value": "" })
    }
}

/// `properties.source` of a message: which component produced it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Source {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub source: Option<String>,
}

/// `properties` of a message.
#[derive(Debug, Clone, Serialize)]
pub struct Properties {
    pub text_color: Option<String>,
    pub background_color: Option<String>,
    pub edited: bool,
    pub source: Source,
    pub icon: Option<String>,
    pub allow_markdown: bool,
    pub positive_feedback: Option<bool>,
    /// `"complete"` or `"partial"` (a streamed message still growing).
    pub state: &'static str,
    pub targets: Vec<Json>,
    pub usage: Option<Json>,
    pub build_duration: Option<f64>,
}

impl Default for Properties {
    fn default() -> Self {
        Self {
            text_color: None,
            background_color: None,
            edited: false,
            source: Source::default(),
            icon: None,
            allow_markdown: false,
            positive_feedback: None,
            state: "complete",
            targets: Vec::new(),
            usage: None,
            build_duration: None,
        }
    }
}

/// Langflow's `Message`.
#[derive(Debug, Clone)]
pub struct Message {
    /// Set once the message is stored (or streamed); intermediate messages have none.
    pub id: Option<Uuid>,
    pub text: String,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub session_id: Option<String>,
    pub context_id: String,
    pub files: Vec<String>,
    pub timestamp: Micros,
    pub flow_id: Option<Uuid>,
    pub run_id: Option<Uuid>,
    pub error: bool,
    pub edit: bool,
    pub properties: Properties,
    pub category: &'static str,
    pub content_blocks: Json,
    pub duration: Option<f64>,
    pub session_metadata: Option<Json>,
    /// Usage of every model call that led to this message, its own included (never
    /// serialised): what a Chat Output reports for a chain of agents.
    pub usage_total: Option<crate::llm::Usage>,
}

impl Message {
    /// A bare message carrying `text`, as intermediate components produce.
    #[must_use]
    pub fn text(text: impl Into<String>, timestamp: Micros) -> Self {
        Self {
            id: None,
            text: text.into(),
            sender: None,
            sender_name: None,
            session_id: None,
            context_id: String::new(),
            files: Vec::new(),
            timestamp,
            flow_id: None,
            run_id: None,
            error: false,
            edit: false,
            properties: Properties::default(),
            category: "message",
            content_blocks: Json::Array(Vec::new()),
            duration: None,
            session_metadata: None,
            usage_total: None,
        }
    }

    fn opt(s: Option<&String>) -> Json {
        s.map_or(Json::Null, |s| Json::String(s.clone()))
    }

    /// The message's fields as Langflow puts them under `data` (with `id`).
    #[must_use]
    pub fn data_fields(&self) -> Map<String, Json> {
        let mut m = Map::new();
        m.insert("text".into(), Json::String(self.text.clone()));
        m.insert("sender".into(), Self::opt(self.sender.as_ref()));
        m.insert("sender_name".into(), Self::opt(self.sender_name.as_ref()));
        m.insert("session_id".into(), Self::opt(self.session_id.as_ref()));
        m.insert("context_id".into(), Json::String(self.context_id.clone()));
        m.insert("files".into(), json!(self.files));
        m.insert("run_id".into(), self.run_id.map_or(Json::Null, |u| Json::String(u.to_string())));
        m.insert("timestamp".into(), Json::String(message_timestamp(self.timestamp)));
        m.insert("flow_id".into(), self.flow_id.map_or(Json::Null, |u| Json::String(u.to_string())));
        m.insert("error".into(), Json::Bool(self.error));
        m.insert("edit".into(), Json::Bool(self.edit));
        m.insert("properties".into(), serde_json::to_value(&self.properties).unwrap_or(Json::Null));
        m.insert("category".into(), Json::String(self.category.to_owned()));
        m.insert("content_blocks".into(), self.content_blocks.clone());
        m.insert("duration".into(), self.duration.map_or(Json::Null, |d| json!(d)));
        m.insert("session_metadata".into(), self.session_metadata.clone().unwrap_or(Json::Null));
        m.insert("id".into(), self.id.map_or(Json::Null, |u| Json::String(u.to_string())));
        m
    }

    /// Langflow's `Message.model_dump()`: `text_key`, `data{…, id}`, `default_value`, and the
    /// message fields repeated at the top level.
    #[must_use]
    pub fn to_json(&self) -> Json {
        let data = self.data_fields();
        let mut top = Map::new();
        top.insert("text_key".into(), Json::String("text".into()));
        for (k, v) in &data {
            if k != "id" {
                top.insert(k.clone(), v.clone());
            }
        }
        top.insert("data".into(), Json::Object(data));
        top.insert("default_value".into(), Json::String(String::new()));
        Json::Object(top)
    }

    /// The `add_message` event payload: the dump with `id` at the top level too.
    #[must_use]
    pub fn event_json(&self) -> Json {
        let mut j = self.to_json();
        if let Json::Object(m) = &mut j {
            m.insert("id".into(), self.id.map_or(Json::Null, |u| Json::String(u.to_string())));
        }
        j
    }

    /// The stored row for this message, if it has the ids a row needs.
    #[must_use]
    pub fn to_record(&self) -> Option<MessageRecord> {
        Some(MessageRecord {
            id: self.id?,
            flow_id: self.flow_id?,
            session_id: self.session_id.clone()?,
            context_id: self.context_id.clone(),
            timestamp: self.timestamp,
            sender: self.sender.clone().unwrap_or_default(),
            sender_name: self.sender_name.clone().unwrap_or_default(),
            text: self.text.clone(),
            files: self.files.clone(),
            error: self.error,
            edit: self.edit,
            properties: serde_json::to_string(&self.properties).unwrap_or_else(|_| "{}".into()),
            category: self.category.to_owned(),
            content_blocks: self.content_blocks.to_string(),
            session_metadata: self.session_metadata.as_ref().map(Json::to_string),
            duration: self.duration,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn message_dump_has_langflow_shape() {
        let mut m = Message::text("hi", 1_732_372_281_358_976);
        m.id = Some(Uuid::nil());
        m.sender = Some("User".into());
        let j = m.to_json();
        for key in [
            "text_key",
            "data",
            "default_value",
            "text",
            "sender",
            "sender_name",
            "files",
            "session_id",
            "context_id",
            "timestamp",
            "flow_id",
            "error",
            "edit",
            "properties",
            "category",
            "content_blocks",
            "duration",
            "session_metadata",
        ] {
            assert!(j.get(key).is_some(), "missing {key}");
        }
        assert!(j.get("id").is_none());
        assert_eq!(j["data"]["id"], Uuid::nil().to_string());
        assert_eq!(j["properties"]["state"], "complete");
        assert_eq!(j["properties"]["source"], json!({"id": null, "display_name": null, "source": null}));
        assert_eq!(m.event_json()["id"], Uuid::nil().to_string());
        assert_eq!(j["timestamp"], "2024-11-23 14:31:21.358976 UTC");
    }

    #[test]
    fn texts_of_values() {
        let mut row = Map::new();
        row.insert("text".into(), json!("a"));
        let d = Value::Data(Arc::new(Data::new(row.clone())));
        assert_eq!(d.text(), "a");
        let df = Value::DataFrame(Arc::new(vec![row.clone(), row]));
        assert_eq!(df.text(), "a\na");
    }
}
