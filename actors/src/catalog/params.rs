//! Parameter values of one vertex, as the flow (and later tweaks, variables and the run input)
//! set them. The typed reads go through the declarations ([`super::Input`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

/// Parameter values of one vertex: template values, later overridden by tweaks, variables and
/// the run input. Edge values are not in here; they arrive as component inputs.
#[derive(Debug, Clone, Default)]
pub struct Params {
    map: HashMap<Arc<str>, Json>,
}

impl Params {
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.map.get(name)
    }

    /// The parameter as text: strings as they are, numbers and booleans printed, null as "".
    #[must_use]
    pub fn text(&self, name: &str) -> Cow<'_, str> {
        json_text(self.map.get(name))
    }

    pub fn set(&mut self, name: Arc<str>, value: Json) {
        self.map.insert(name, value);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Json)> {
        self.map.iter()
    }
}

/// Text view of a template value.
#[must_use]
pub fn json_text(v: Option<&Json>) -> Cow<'_, str> {
    match v {
        None | Some(Json::Null) => Cow::Borrowed(""),
        Some(Json::String(s)) => Cow::Borrowed(s.as_str()),
        Some(Json::Array(items)) if items.iter().all(Json::is_string) => {
            Cow::Owned(items.iter().filter_map(Json::as_str).collect::<Vec<_>>().join("\n"))
        }
        Some(other) => Cow::Owned(other.to_string()),
    }
}
