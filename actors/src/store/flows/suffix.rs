//! Langflow's name de-duplication: a taken `base` becomes the largest existing suffix + 1,
//! starting at 1 (`X (n)` for flow and project names, `ep-n` for endpoint names).
//!
//! Backend-neutral: the caller says whether a name is taken and lists the names that start with
//! the suffix prefix, from whatever index it keeps.

use std::collections::HashSet;

use super::FlowError;

/// How a unique index numbers its duplicates.
#[derive(Clone, Copy)]
pub enum Suffix {
    /// `Name (n)` (flow and project names).
    Paren,
    /// `endpoint-n` (endpoint names).
    Dash,
}

impl Suffix {
    fn prefix(self, base: &str) -> String {
        match self {
            Self::Paren => format!("{base} ("),
            Self::Dash => format!("{base}-"),
        }
    }

    fn candidate(self, base: &str, n: u64) -> String {
        match self {
            Self::Paren => format!("{base} ({n})"),
            Self::Dash => format!("{base}-{n}"),
        }
    }

    fn parse(self, name: &str) -> Option<u64> {
        let digits = match self {
            // The number in a trailing `(n)`.
            Self::Paren => name.strip_suffix(')')?.rsplit_once('(')?.1,
            // The number after the last `-`.
            Self::Dash => name.rsplit_once('-')?.1,
        };
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
    }

    /// `base` when it is free, else `base` with the next free suffix. `taken` answers for the
    /// stored index; `pending` holds names taken by earlier records of the same write;
    /// `with_prefix` lists the stored names starting with the given prefix.
    ///
    /// # Errors
    /// Whatever `taken` or `with_prefix` answer.
    pub fn unique(
        self,
        base: &str,
        pending: &HashSet<String>,
        taken: impl Fn(&str) -> Result<bool, FlowError>,
        with_prefix: impl FnOnce(&str) -> Result<Vec<String>, FlowError>,
    ) -> Result<String, FlowError> {
        let is_taken = |name: &str| Ok::<_, FlowError>(pending.contains(name) || taken(name)?);
        if !is_taken(base)? {
            return Ok(base.to_owned());
        }
        let prefix = self.prefix(base);
        let mut max = 0u64;
        for name in with_prefix(&prefix)? {
            if let Some(n) = self.parse(&name) {
                max = max.max(n);
            }
        }
        for name in pending.iter().filter(|n| n.starts_with(&prefix)) {
            max = max.max(self.parse(name).unwrap_or(0));
        }
        let mut n = max.saturating_add(1);
        loop {
            let candidate = self.candidate(base, n);
            if !is_taken(&candidate)? {
                return Ok(candidate);
            }
            n = n.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_parse_only_trailing_numbers() {
        assert_eq!(Suffix::Paren.parse("Flow (12)"), Some(12));
        assert_eq!(Suffix::Paren.parse("Flow ()"), None);
        assert_eq!(Suffix::Paren.parse("Flow (x)"), None);
        assert_eq!(Suffix::Dash.parse("ep-3"), Some(3));
        assert_eq!(Suffix::Dash.parse("ep-"), None);
        assert_eq!(Suffix::Dash.parse("ep"), None);
    }
}
