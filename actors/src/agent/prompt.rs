//! How Langflow's Agent assembles the conversation and the tool list before the loop runs
//! (spec §2.3–§2.6): placeholder substitution in the system prompt, history rows as turns,
//! the current input as a user turn, and the built-in tools appended after the connected ones.

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::Value as Json;

use super::{Calculator, CurrentDate, Tool, ToolFuture};
use crate::llm::ChatMessage;

/// The user turn sent for a blank input.
pub const BLANK_INPUT: &str = "Continue the conversation.";

/// The system prompt with `{current_date}` (UTC, `YYYY-MM-DD`), `{model_name}` and
/// `{optional_user_context}` (empty) replaced by plain string replacement: every other brace
/// is kept.
#[must_use]
pub fn system_prompt(template: &str, model_name: &str, today: NaiveDate) -> String {
    template
        .replace("{current_date}", &today.format("%Y-%m-%d").to_string())
        .replace("{model_name}", model_name)
        .replace("{optional_user_context}", "")
}

/// The current input as the last turn: always `user`, whoever produced it.
#[must_use]
pub fn user_turn(input: &str) -> ChatMessage {
    if input.trim().is_empty() {
        ChatMessage::User(BLANK_INPUT.to_owned())
    } else {
        ChatMessage::User(input.to_owned())
    }
}

/// A stored chat row as a history turn: sender `User` (or none) is the user, any other sender
/// the assistant; rows without text are skipped.
#[must_use]
pub fn history_turn(sender: &str, text: &str) -> Option<ChatMessage> {
    if text.trim().is_empty() {
        return None;
    }
    Some(if sender.is_empty() || sender == "User" {
        ChatMessage::User(text.to_owned())
    } else {
        ChatMessage::Assistant { content: Some(text.to_owned()), tool_calls: Vec::new() }
    })
}

/// The connected tools in edge order, then `get_current_date` and `evaluate_expression` when
/// their flags are on and no connected tool has the name.
#[must_use]
pub fn assemble_tools(
    connected: Vec<Arc<dyn Tool>>,
    add_current_date: bool,
    add_calculator: bool,
) -> Vec<Arc<dyn Tool>> {
    let mut tools = connected;
    let taken = |tools: &[Arc<dyn Tool>], name: &str| tools.iter().any(|t| t.name() == name);
    if add_current_date && !taken(&tools, CurrentDate::NAME) {
        tools.push(Arc::new(CurrentDate::new()));
    }
    if add_calculator && !taken(&tools, Calculator::NAME) {
        tools.push(Arc::new(Calculator::new()));
    }
    tools
}

/// Langflow's check on a final tool name.
///
/// # Errors
/// Langflow's message for a name outside `^[a-zA-Z0-9_-]+$`.
pub fn check_tool_name(name: &str) -> Result<(), String> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Ok(())
    } else {
        Err(format!(
            "Invalid tool name '{name}': must only contain letters, numbers, underscores, dashes, and cannot contain spaces."
        ))
    }
}

/// A tool offered under another name and description (a node's `tools_metadata` row).
pub struct Renamed {
    inner: Arc<dyn Tool>,
    name: String,
    description: String,
}

impl Renamed {
    #[must_use]
    pub fn new(inner: Arc<dyn Tool>, name: String, description: String) -> Self {
        Self { inner, name, description }
    }
}

impl Tool for Renamed {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> &Json {
        self.inner.parameters()
    }

    fn call(&self, args: Json) -> ToolFuture<'_> {
        self.inner.call(args)
    }
}

/// Applies a node's `tools_metadata` rows ("Actions") to the tools derived from it: rows match
/// by `tags[0]` (the derived name); with a non-empty table a tool without a row, or whose row
/// has `status: false`, is dropped; `name` and `description` replace the derived ones, and
/// `commands` wraps the description as Langflow does (its misspelling included).
#[must_use]
pub fn apply_tools_metadata(tools: Vec<Arc<dyn Tool>>, rows: &Json, commands: Option<&str>) -> Vec<Arc<dyn Tool>> {
    let Some(rows) = rows.as_array().filter(|r| !r.is_empty()) else { return tools };
    tools
        .into_iter()
        .filter_map(|tool| {
            let row = rows.iter().find(|r| r["tags"][0].as_str() == Some(tool.name()))?;
            if row["status"] == Json::Bool(false) {
                return None;
            }
            let name = row["name"].as_str().filter(|n| !n.is_empty()).unwrap_or(tool.name()).to_owned();
            let mut description =
                row["description"].as_str().filter(|d| !d.is_empty()).unwrap_or(tool.description()).to_owned();
            if let Some(c) = commands.filter(|c| !c.trim().is_empty()) {
                description = format!(
                    "very_time you see one of those commands {c} run the tool. tool description is {description}"
                );
            }
            if name == tool.name() && description == tool.description() {
                return Some(tool);
            }
            Some(Arc::new(Renamed::new(tool, name, description)) as Arc<dyn Tool>)
        })
        .collect()
}

/// The connected tools of several nodes, in order, with every name that more than one of them
/// uses rewritten to `<name>_<node id with characters outside [A-Za-z0-9_] as _>`, at most 64
/// characters.
#[must_use]
pub fn disambiguate(nodes: Vec<(String, Vec<Arc<dyn Tool>>)>) -> Vec<Arc<dyn Tool>> {
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (_, tools) in &nodes {
        for t in tools {
            *counts.entry(t.name().to_owned()).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for (node_id, tools) in nodes {
        let tail: String =
            node_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
        for t in tools {
            if counts.get(t.name()).copied().unwrap_or(0) > 1 {
                let name: String = format!("{}_{tail}", t.name()).chars().take(64).collect();
                let description = t.description().to_owned();
                out.push(Arc::new(Renamed::new(t, name, description)) as Arc<dyn Tool>);
            } else {
                out.push(t);
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(t: &[Arc<dyn Tool>]) -> Vec<String> {
        t.iter().map(|t| t.name().to_owned()).collect()
    }

    #[test]
    fn tools_metadata_renames_and_drops_by_original_name() {
        let rows = json!([{"name": "read_web_page", "description": "Custom description from tools_metadata.",
                           "status": true, "tags": ["evaluate_expression"]},
                          {"name": "get_current_date", "status": false, "tags": ["get_current_date"]}]);
        let tools: Vec<Arc<dyn Tool>> = vec![Arc::new(Calculator::new()), Arc::new(CurrentDate::new())];
        let out = apply_tools_metadata(tools.clone(), &rows, None);
        assert_eq!(names(&out), ["read_web_page"]);
        assert_eq!(out[0].description(), "Custom description from tools_metadata.");
        assert_eq!(out[0].parameters(), Calculator::new().parameters());
        let out = apply_tools_metadata(tools.clone(), &rows, Some("/calc"));
        assert_eq!(
            out[0].description(),
            "very_time you see one of those commands /calc run the tool. tool description is Custom description from tools_metadata."
        );
        assert_eq!(names(&apply_tools_metadata(tools, &json!([]), None)), ["evaluate_expression", "get_current_date"]);
    }

    #[test]
    fn only_colliding_names_get_the_node_id_tail() {
        let url = |_: ()| -> Vec<Arc<dyn Tool>> {
            vec![Arc::new(Renamed::new(Arc::new(Calculator::new()), "fetch_content".into(), "d".into()))]
        };
        let out = disambiguate(vec![
            ("UnifiedWebSearch-KZ8k6".into(), vec![Arc::new(CurrentDate::new()) as Arc<dyn Tool>]),
            ("URLComponent-Tjh8k".into(), url(())),
            ("URLComponent-Dup42".into(), url(())),
        ]);
        assert_eq!(
            names(&out),
            ["get_current_date", "fetch_content_URLComponent_Tjh8k", "fetch_content_URLComponent_Dup42"]
        );
        let long = disambiguate(vec![("N".repeat(80), url(())), ("M-1".into(), url(()))]);
        assert_eq!(long[0].name().len(), 64);
        assert_eq!(long[1].name(), "fetch_content_M_1");
    }

    #[test]
    fn placeholders_are_replaced_and_other_braces_kept() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            system_prompt(
                r#"Today is {current_date}; model {model_name}; ctx[{optional_user_context}] {"json": 1}"#,
                "gpt-4o-mini",
                day
            ),
            r#"Today is 2026-12-01; model gpt-4o-mini; ctx[] {"json": 1}"#
        );
    }

    #[test]
    fn turns_and_tools_follow_langflow() {
        assert_eq!(user_turn("  "), ChatMessage::User(BLANK_INPUT.into()));
        assert_eq!(history_turn("", "hi"), Some(ChatMessage::User("hi".into())));
        assert_eq!(
            history_turn("Machine", "yo"),
            Some(ChatMessage::Assistant { content: Some("yo".into()), tool_calls: vec![] })
        );
        assert_eq!(history_turn("User", " "), None);
        let names = |t: &[Arc<dyn Tool>]| t.iter().map(|t| t.name().to_owned()).collect::<Vec<_>>();
        assert_eq!(names(&assemble_tools(vec![], true, true)), ["get_current_date", "evaluate_expression"]);
        let connected: Vec<Arc<dyn Tool>> = vec![Arc::new(Calculator::new())];
        assert_eq!(names(&assemble_tools(connected, true, true)), ["evaluate_expression", "get_current_date"]);
        assert!(assemble_tools(vec![], false, false).is_empty());
        assert!(check_tool_name("fetch_content-2").is_ok());
        assert_eq!(
            check_tool_name("bad name").unwrap_err(),
            "Invalid tool name 'bad name': must only contain letters, numbers, underscores, dashes, and cannot contain spaces."
        );
    }
}
