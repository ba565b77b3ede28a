//! Per-build parameter overrides: tweaks (`{component id or display name: {field: value}}`), resolved global variables, the run
//! input and the `stream` flag.
//!
//! Overrides never touch the shared [`CompiledGraph`]: a vertex whose parameters change gets a
//! private copy for that build, every other vertex keeps sharing the compiled `Arc`.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

use super::{CompiledGraph, GraphError, Params};

/// Fields no tweak may set, whatever the policy (Langflow's protected-field floor).
const PROTECTED_FIELDS: &[&str] = &["code"];

/// Which input vertices receive the run input (`input_type` of `/run`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputType {
    #[default]
    Chat,
    Text,
    Any,
}

impl InputType {
    /// Parses Langflow's names; unknown names mean `chat`, Langflow's default.
    #[must_use]
    pub fn parse(name: &str) -> Self {
        match name {
            "text" => Self::Text,
            "any" => Self::Any,
            _ => Self::Chat,
        }
    }
}

/// Parameter sets of one build, indexed by vertex.
#[derive(Debug, Clone)]
pub struct VertexOverrides {
    pub params: Vec<Arc<Params>>,
}

/// Everything that overrides template values in one build.
#[derive(Debug, Default, Clone, Copy)]
pub struct OverrideRequest<'a> {
    pub tweaks: Option<&'a Json>,
    pub variables: Option<&'a HashMap<String, String>>,
    pub input: Option<(&'a str, InputType)>,
    pub stream: Option<bool>,
}

/// Unwraps `{"value": x}` the way Langflow does for tweak values given as field entries.
fn tweak_value(v: &Json, field_type: &str) -> Json {
    match v {
        Json::Object(m) if !matches!(field_type, "dict" | "NestedDict") => {
            m.get("value").cloned().unwrap_or_else(|| v.clone())
        }
        Json::Object(m) if m.len() == 1 && m.contains_key("value") => m.get("value").cloned().unwrap_or(Json::Null),
        _ => v.clone(),
    }
}

impl CompiledGraph {
    /// Resolves tweaks to `(vertex, field, value)` triples without applying them.
    ///
    /// # Errors
    /// [`GraphError::RefusedTweaks`] listing the protected fields a tweak tried to set.
    pub fn resolve_tweaks(&self, tweaks: &Json) -> Result<Vec<(usize, Arc<str>, Json)>, GraphError> {
        let Json::Object(tweaks) = tweaks else { return Ok(Vec::new()) };
        let mut refused: Vec<String> = Vec::new();
        let mut out = Vec::new();
        let refuse = |field: &str, refused: &mut Vec<String>| {
            if PROTECTED_FIELDS.contains(&field) {
                if !refused.iter().any(|r| r == field) {
                    refused.push(field.to_owned());
                }
                true
            } else {
                false
            }
        };
        for (key, value) in tweaks {
            if let Json::Object(fields) = value {
                let targets: Vec<usize> = match self.index_of(key) {
                    Some(v) => vec![v],
                    None => (0..self.vertices.len()).filter(|&v| self.vertices[v].display_name == *key).collect(),
                };
                for (field, v) in fields {
                    if refuse(field, &mut refused) {
                        continue;
                    }
                    for &t in &targets {
                        if let Some(spec) = self.vertices[t].field(field) {
                            out.push((t, spec.name.clone(), tweak_value(v, &spec.field_type)));
                        }
                    }
                }
            } else {
                if refuse(key, &mut refused) {
                    continue;
                }
                for (t, vertex) in self.vertices.iter().enumerate() {
                    if let Some(spec) = vertex.field(key) {
                        out.push((t, spec.name.clone(), value.clone()));
                    }
                }
            }
        }
        if refused.is_empty() {
            Ok(out)
        } else {
            Err(GraphError::RefusedTweaks(refused))
        }
    }

    /// The parameter set of every vertex for one build. Vertices without overrides share the
    /// compiled parameters.
    ///
    /// # Errors
    /// [`GraphError::RefusedTweaks`].
    pub fn overrides(&self, req: OverrideRequest<'_>) -> Result<VertexOverrides, GraphError> {
        let mut changes: Vec<(usize, Arc<str>, Json)> = Vec::new();
        if let Some(vars) = req.variables.filter(|v| !v.is_empty()) {
            for (i, v) in self.vertices.iter().enumerate() {
                for f in v.fields.iter().filter(|f| f.load_from_db) {
                    if let Some(value) = f.value.as_str().and_then(|name| vars.get(name)) {
                        changes.push((i, f.name.clone(), Json::String(value.clone())));
                    }
                }
            }
        }
        if let Some(t) = req.tweaks {
            changes.extend(self.resolve_tweaks(t)?);
        }
        if let Some(stream) = req.stream {
            for (i, v) in self.vertices.iter().enumerate() {
                if let Some(f) = v.field("stream") {
                    changes.push((i, f.name.clone(), Json::Bool(stream)));
                }
            }
        }
        if let Some((text, kind)) = req.input {
            for (i, v) in self.vertices.iter().enumerate() {
                let wanted = match kind {
                    InputType::Chat => v.kind == crate::catalog::ComponentKind::ChatInput,
                    InputType::Text => v.kind == crate::catalog::ComponentKind::TextInput,
                    InputType::Any => v.is_input(),
                };
                if wanted {
                    changes.push((i, Arc::from("input_value"), Json::String(text.to_owned())));
                }
            }
        }
        let mut params: Vec<Arc<Params>> = self.vertices.iter().map(|v| v.params.clone()).collect();
        for (i, field, value) in changes {
            Arc::make_mut(&mut params[i]).set(field, value);
        }
        Ok(VertexOverrides { params })
    }
}
