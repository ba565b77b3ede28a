//! The "Agent Steps" clients see: the chronological text and `tool_use` steps of a run and
//! their v1 `content_blocks` projection (spec §4.2).

use std::time::Duration;

use serde_json::{json, Value as Json};

/// The state of a `tool_use` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolState {
    /// `Accessing **name**`: running.
    Running,
    /// `Executed **name**`: returned (success, or a failure sent back as the result).
    Executed,
    /// `Error using **name**`: the arguments failed validation; the tool did not run.
    Invalid,
}

/// One tool call as clients see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolUse {
    pub name: String,
    pub call_id: String,
    /// The arguments as the model sent them (parsed).
    pub input: Json,
    pub state: ToolState,
    /// The tool message object (`content`, `artifact`, `status`, …) once executed.
    pub output: Option<Json>,
    /// Pydantic's validation text for [`ToolState::Invalid`].
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// One step of a run, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Model text; `duration_ms` is the time since the previous step.
    Text {
        text: String,
        duration_ms: u64,
    },
    ToolUse(ToolUse),
}

/// The chronological steps of a run: Langflow's "Agent Steps".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgentSteps {
    pub steps: Vec<Step>,
}

pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl AgentSteps {
    #[must_use]
    pub fn has_tool_use(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::ToolUse(_)))
    }

    /// All text steps concatenated with no separator: the answer's text.
    #[must_use]
    pub fn text(&self) -> String {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Text { text, .. } => Some(text.as_str()),
                Step::ToolUse(_) => None,
            })
            .collect()
    }

    /// The leaves (`text` and `tool_use` objects) without the trailing Output leaf.
    #[must_use]
    pub fn leaves(&self) -> Vec<Json> {
        self.steps
            .iter()
            .map(|s| match s {
                Step::Text { text, duration_ms } => {
                    json!({"type": "text", "duration": duration_ms, "header": {}, "text": text})
                }
                Step::ToolUse(t) => {
                    let title = match t.state {
                        ToolState::Running => format!("Accessing **{}**", t.name),
                        ToolState::Executed => format!("Executed **{}**", t.name),
                        ToolState::Invalid => format!("Error using **{}**", t.name),
                    };
                    json!({"type": "tool_use", "duration": t.duration_ms,
                           "header": {"title": title, "icon": "Hammer"},
                           "name": t.name, "tool_input": t.input, "output": t.output, "error": t.error})
                }
            })
            .collect()
    }

    /// The v1 `content_blocks`: one "Agent Steps" group with the leaves and `output_leaves`
    /// copies of the Output leaf (the whole answer text), or `[]` when no tool was used.
    #[must_use]
    pub fn content_blocks(&self, output_leaves: usize) -> Json {
        if !self.has_tool_use() {
            return json!([]);
        }
        let mut contents = self.leaves();
        let text = self.text();
        for _ in 0..output_leaves {
            contents.push(json!({"type": "text", "duration": null,
                                 "header": {"title": "Output", "icon": "MessageSquare"}, "text": text}));
        }
        json!([{"title": "Agent Steps", "contents": contents, "allow_markdown": true, "media_url": null}])
    }
}
