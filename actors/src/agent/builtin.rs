//! The tools Langflow's Agent adds by itself: `get_current_date` and `evaluate_expression`.

use chrono::{DateTime, Utc};
use serde_json::{json, Value as Json};

use super::{calculator, Tool, ToolFuture, ToolOutput};

/// `get_current_date`: the current time in an IANA zone (`Current date and time in
/// Europe/Paris: 2026-12-01 09:57:00 CET`); an unknown zone is a successful result that says so.
pub struct CurrentDate {
    clock: fn() -> DateTime<Utc>,
    parameters: Json,
}

impl Default for CurrentDate {
    fn default() -> Self {
        Self::with_clock(Utc::now)
    }
}

impl CurrentDate {
    pub const NAME: &'static str = "get_current_date";

    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The tool reading the time from `clock` (tests pin it).
    #[must_use]
    pub fn with_clock(clock: fn() -> DateTime<Utc>) -> Self {
        Self {
            clock,
            parameters: json!({"properties": {"timezone": {"default": "UTC",
                "description": "Select the timezone for the current date and time.", "type": "string"}},
                "type": "object"}),
        }
    }

    /// The tool's text for a zone name at an instant.
    #[must_use]
    pub fn render(timezone: &str, now: DateTime<Utc>) -> String {
        match timezone.parse::<chrono_tz::Tz>() {
            Ok(tz) => {
                let local = now.with_timezone(&tz);
                format!("Current date and time in {timezone}: {}", local.format("%Y-%m-%d %H:%M:%S %Z"))
            }
            Err(_) => format!("Error: 'No time zone found with key {timezone}'"),
        }
    }
}

impl Tool for CurrentDate {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn description(&self) -> &str {
        "Returns the current date and time in the selected timezone."
    }

    fn parameters(&self) -> &Json {
        &self.parameters
    }

    fn call(&self, args: Json) -> ToolFuture<'_> {
        let tz = args.get("timezone").and_then(Json::as_str).unwrap_or("UTC").to_owned();
        let now = (self.clock)();
        Box::pin(async move { Ok(ToolOutput::Text(Self::render(&tz, now))) })
    }
}

/// `evaluate_expression`: Langflow's Calculator (see [`calculator::evaluate`]); errors are
/// data (`{"error", "input"}`), never a failed call.
pub struct Calculator {
    parameters: Json,
}

impl Default for Calculator {
    fn default() -> Self {
        Self {
            parameters: json!({"properties": {"expression": {"default": "",
                "description": "The arithmetic expression to evaluate (e.g., '4*4*(33/22)+12-20').", "type": "string"}},
                "type": "object"}),
        }
    }
}

impl Calculator {
    pub const NAME: &'static str = "evaluate_expression";

    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl Tool for Calculator {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn description(&self) -> &str {
        "Perform basic arithmetic operations on a given expression."
    }

    fn parameters(&self) -> &Json {
        &self.parameters
    }

    fn call(&self, args: Json) -> ToolFuture<'_> {
        let expression = args.get("expression").and_then(Json::as_str).unwrap_or_default().to_owned();
        Box::pin(async move { Ok(ToolOutput::Data(calculator::evaluate(&expression))) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_in_zones_and_unknown_zones() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 57, 0).single().unwrap_or_default();
        assert_eq!(
            CurrentDate::render("Europe/Paris", now),
            "Current date and time in Europe/Paris: 2026-12-01 09:57:00 CET"
        );
        assert_eq!(CurrentDate::render("UTC", now), "Current date and time in UTC: 2026-12-01 08:57:00 UTC");
        assert_eq!(CurrentDate::render("Mars/Base", now), "Error: 'No time zone found with key Mars/Base'");
    }
}
