//! Incremental Server-Sent Events parser for provider streams.
//!
//! TCP delivers bytes, not events: one read may end in the middle of an event (or of a UTF-8
//! character), and another may carry several events. The parser keeps the unfinished line
//! between reads, decodes only complete lines, and hands out each event as soon as its blank
//! line arrives, so a token is never held back waiting for the next read. Every buffer is
//! bounded: a stream that never ends a line is an error, not unbounded growth.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// Why the byte stream is not valid SSE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("an event is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the stream is not valid UTF-8")]
    NotUtf8,
}

/// Largest event (or unfinished line) accepted.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    current: SseEvent,
    has_data: bool,
}

impl SseParser {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns the events they complete, in order.
    ///
    /// # Errors
    /// [`SseError`] for oversized events or invalid UTF-8.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..pos]);
            rest = &rest[pos + 1..];
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(event) = self.line_done(&line)? {
                out.push(event);
            }
        }
        self.line.extend_from_slice(rest);
        if self.line.len() + self.current.data.len() > MAX_EVENT_BYTES {
            return Err(SseError::TooLarge(MAX_EVENT_BYTES));
        }
        Ok(out)
    }

    /// The end of the stream: an event whose blank line never came is still dispatched.
    ///
    /// # Errors
    /// [`SseError::NotUtf8`].
    pub fn finish(&mut self) -> Result<Option<SseEvent>, SseError> {
        let line = std::mem::take(&mut self.line);
        let mut event = if line.is_empty() { None } else { self.line_done(&line)? };
        if event.is_none() {
            event = self.line_done(b"")?;
        }
        Ok(event)
    }

    fn line_done(&mut self, line: &[u8]) -> Result<Option<SseEvent>, SseError> {
        if line.is_empty() {
            if !self.has_data && self.current.event.is_none() {
                return Ok(None);
            }
            self.has_data = false;
            return Ok(Some(std::mem::take(&mut self.current)));
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
                if self.current.data.len() > MAX_EVENT_BYTES {
                    return Err(SseError::TooLarge(MAX_EVENT_BYTES));
                }
            }
            "event" => self.current.event = Some(value.to_owned()),
            _ => {}
        }
        Ok(None)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const STREAM: &str =
        "event: a\ndata: {\"t\":\"h\u{e9}llo\"}\n\n: comment\ndata: one\ndata: two\n\r\ndata: [DONE]\n\n";

    fn all_at_once() -> Vec<SseEvent> {
        SseParser::new().push(STREAM.as_bytes()).unwrap()
    }

    #[test]
    fn several_events_in_one_read() {
        let events = all_at_once();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0], SseEvent { event: Some("a".into()), data: "{\"t\":\"h\u{e9}llo\"}".into() });
        assert_eq!(events[1].data, "one\ntwo");
        assert_eq!(events[2].data, "[DONE]");
    }

    #[test]
    fn events_split_at_every_byte_give_the_same_result() {
        let bytes = STREAM.as_bytes();
        for cut in 1..bytes.len() {
            let mut p = SseParser::new();
            let mut events = p.push(&bytes[..cut]).unwrap();
            events.extend(p.push(&bytes[cut..]).unwrap());
            assert_eq!(events, all_at_once(), "cut at {cut}");
        }
        let mut p = SseParser::new();
        let mut events = Vec::new();
        for b in bytes {
            events.extend(p.push(std::slice::from_ref(b)).unwrap());
        }
        assert_eq!(events, all_at_once());
    }

    #[test]
    fn an_unterminated_last_event_is_dispatched_at_the_end() {
        let mut p = SseParser::new();
        assert!(p.push(b"data: tail").unwrap().is_empty());
        assert_eq!(p.finish().unwrap().unwrap().data, "tail");
        assert_eq!(p.finish().unwrap(), None);
    }

    #[test]
    fn bounds_and_encoding_are_enforced() {
        let mut p = SseParser::new();
        assert_eq!(p.push(&vec![b'x'; MAX_EVENT_BYTES + 1]), Err(SseError::TooLarge(MAX_EVENT_BYTES)));
        assert_eq!(SseParser::new().push(b"data: \xff\xfe\n\n"), Err(SseError::NotUtf8));
    }
}
