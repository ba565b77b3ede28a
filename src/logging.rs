//! Log output that request data cannot forge: every event is exactly one line.
//!
//! Ids, names and error texts that come from requests end up in log fields. [`OneLine`] wraps
//! the log writer and escapes, in each formatted event, every control character (CR, LF, ESC
//! and the other C0/C1 codes) except the event's final newline, so a username such as
//! `"x\n2026-01-01 INFO admin logged in"` or an ANSI escape cannot start a line of its own or
//! repaint the terminal. ANSI colouring is off for the same reason.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// Escapes control characters in `line`, keeping one trailing `\n`.
#[must_use]
pub fn escape_event(line: &[u8]) -> Vec<u8> {
    let (body, newline) = match line.strip_suffix(b"\n") {
        Some(body) => (body, true),
        None => (line, false),
    };
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        match c {
            '\t' => out.push('\t'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    if newline {
        out.push('\n');
    }
    out.into_bytes()
}

/// A [`MakeWriter`] whose writers escape each event (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct OneLine;

/// Writes one formatted event to stdout, escaped.
#[derive(Debug)]
pub struct OneLineWriter(io::Stdout);

impl Write for OneLineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // The formatter hands over one whole event per call.
        self.0.lock().write_all(&escape_event(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<'a> MakeWriter<'a> for OneLine {
    type Writer = OneLineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        OneLineWriter(io::stdout())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_on_one_line() {
        assert_eq!(escape_event(b"plain\n"), b"plain\n");
        assert_eq!(escape_event(b"user=a\r\nINFO forged\n"), b"user=a\\r\\nINFO forged\n");
        assert_eq!(escape_event(b"x\x1b[31mred\n"), b"x\\u{1b}[31mred\n");
        assert_eq!(escape_event(b"tab\there"), b"tab\there");
    }
}
