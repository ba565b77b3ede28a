//! A streamed answer as it arrives: text chunks, tool-call deltas and usage, read from the
//! provider's event stream while holding the provider's concurrency slot.

use super::*;

/// A streamed answer being received. Holds its provider slot until dropped; dropping it
/// closes the connection, which is how a cancelled build stops the upstream generation.
pub struct ChatStream {
    pub(super) provider: String,
    pub(super) protocol: Protocol,
    pub(super) key: ApiKey,
    pub(super) resp: reqwest::Response,
    pub(super) parser: SseParser,
    pub(super) state: StreamState,
    pub(super) idle: Duration,
    pub(super) _permit: OwnedSemaphorePermit,
}

impl ChatStream {
    fn fail(&self, text: impl std::fmt::Display) -> LlmError {
        LlmError(self.key.scrub(&format!("{} API error: {text}", self.provider)))
    }

    /// The next text chunk as soon as the provider sends it; `None` once the answer is complete.
    ///
    /// # Errors
    /// [`LlmError`]: a stalled, malformed or truncated stream, or an error event.
    pub async fn next_chunk(&mut self) -> Result<Option<String>, LlmError> {
        loop {
            if let Some(text) = self.state.pending.pop_front() {
                return Ok(Some(text));
            }
            if self.state.done {
                return Ok(None);
            }
            let read = tokio::time::timeout(self.idle, self.resp.chunk()).await;
            let events = match read {
                Err(_) => return Err(self.fail(format!("the stream stalled for {}", seconds(self.idle)))),
                Ok(Err(e)) => return Err(self.fail(format!("the stream broke: {}", transport_text(&e)))),
                Ok(Ok(Some(bytes))) => {
                    self.parser.push(&bytes).map_err(|e| self.fail(format!("malformed stream: {e}")))?
                }
                Ok(Ok(None)) => {
                    let last = self.parser.finish().map_err(|e| self.fail(format!("malformed stream: {e}")))?;
                    if let Some(event) = last {
                        self.decode(&event)?;
                    }
                    if !self.state.finished {
                        return Err(self.fail("the stream ended before the response was complete"));
                    }
                    self.state.done = true;
                    continue;
                }
            };
            for event in &events {
                self.decode(event)?;
            }
        }
    }

    fn decode(&mut self, event: &sse::SseEvent) -> Result<(), LlmError> {
        let decoded = match self.protocol {
            Protocol::OpenAi => openai::decode_event(event, &mut self.state),
            Protocol::Anthropic => anthropic::decode_event(event, &mut self.state),
        };
        decoded.map_err(|e| self.fail(e))
    }

    /// Token usage, once the provider has reported it (at the end of the stream).
    #[must_use]
    pub fn usage(&self) -> Usage {
        self.state.usage
    }

    /// The tool calls the answer carried, assembled from their deltas (by index), once
    /// [`Self::next_chunk`] has returned `None`.
    pub fn take_tool_calls(&mut self) -> Vec<ToolCall> {
        let mut calls = self.state.calls.take();
        if self.protocol == Protocol::Anthropic {
            for c in &mut calls {
                if c.arguments.is_empty() {
                    "{}".clone_into(&mut c.arguments);
                }
            }
        }
        calls
    }

    /// The provider's finish (stop) reason, once reported.
    #[must_use]
    pub fn finish_reason(&self) -> Option<&str> {
        self.state.finish_reason.as_deref()
    }
}
