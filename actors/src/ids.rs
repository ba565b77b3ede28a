//! Identifiers as clients write them.

use uuid::Uuid;

/// Parses a UUID the way Python's `UUID(str)` does: hyphens anywhere, optional `{}` braces and
/// `urn:uuid:` prefix, hex digits in either case.
#[must_use]
pub fn parse_python_uuid(text: &str) -> Option<Uuid> {
    let stripped = text.replace("urn:", "").replace("uuid:", "");
    let hex: String = stripped.trim_matches(|c| c == '{' || c == '}').chars().filter(|&c| c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Uuid::try_parse(&hex).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_uuid_forms() {
        let id = Uuid::new_v4();
        let simple = id.simple().to_string();
        for form in
            [id.to_string(), simple.clone(), simple.to_uppercase(), format!("{{{id}}}"), format!("urn:uuid:{id}")]
        {
            assert_eq!(parse_python_uuid(&form), Some(id), "{form}");
        }
        assert_eq!(parse_python_uuid("my-endpoint"), None);
        assert_eq!(parse_python_uuid(&format!("{simple}0")), None);
    }
}
