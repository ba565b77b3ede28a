//! Wall-clock helpers. Every timestamp the runtime stores is microseconds since the Unix epoch in
//! UTC; formatting into Langflow's several wire formats happens only here.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

/// The current time in microseconds.
#[must_use]
pub fn now_micros() -> Micros {
    Utc::now().timestamp_micros()
}

fn to_datetime(micros: Micros) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap_or_default()
}

/// ISO-8601 with an explicit `+00:00` offset and whole seconds (`2024-05-29T17:57:17+00:00`),
/// the shape Langflow 1.13 uses for users, API keys and flows.
#[must_use]
pub fn iso_seconds(micros: Micros) -> String {
    to_datetime(micros).to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// ISO-8601 with microseconds and offset.
#[must_use]
pub fn iso_micros(micros: Micros) -> String {
    to_datetime(micros).to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// The UTC calendar date, `YYYY-MM-DD`.
#[must_use]
pub fn iso_date(micros: Micros) -> String {
    to_datetime(micros).format("%Y-%m-%d").to_string()
}

/// Langflow's message timestamp: `2026-11-23 14:31:21.358976 UTC`.
#[must_use]
pub fn message_timestamp(micros: Micros) -> String {
    to_datetime(micros).format("%Y-%m-%d %H:%M:%S%.6f UTC").to_string()
}

/// Parses an ISO-8601 / RFC 3339 date-time (a naive one is taken as UTC).
#[must_use]
pub fn parse_iso(text: &str) -> Option<Micros> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc).timestamp_micros());
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|n| n.and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        let t = 1_732_372_281_358_976;
        assert_eq!(iso_seconds(t), "2024-11-23T14:31:21+00:00");
        assert_eq!(message_timestamp(t), "2024-11-23 14:31:21.358976 UTC");
        assert_eq!(parse_iso(&iso_micros(t)), Some(t));
        assert_eq!(parse_iso("2024-11-23T14:31:21"), Some(t - 358_976));
        assert_eq!(parse_iso("yesterday"), None);
    }
}
