//! How Langflow's Agent assembles the conversation and the tool list before the loop runs
//! (spec §2.3–§2.6): placeholder substitution in the system prompt, history rows as turns,
//! the current input as a user turn, and the built-in tools appended after the connected ones.

use std::sync::Arc;

use chrono::NaiveDate;

use super::{Calculator, CurrentDate, Tool};
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
