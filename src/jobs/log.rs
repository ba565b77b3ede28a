//! A build job's event log: the events of one build, numbered from 1 in the order the build
//! emitted them, so a reader that lost its connection can continue after the last event it saw.
//!
//! A pump task moves events from the build's bounded channel into the log. Two kinds of
//! readers share it:
//! * **plain readers** (Langflow's: a stream or polls without `since`) consume one shared cursor,
//!   exactly as they consumed the channel before; what they consumed is dropped at once, so a
//!   job read this way holds no more than the events not yet read;
//! * **resuming readers** (`since=N`, `Last-Event-ID`, or an SSE stream) read without consuming.
//!   Once one has attached, delivered events are kept for later resumption up to the retention
//!   bound (bytes); past it, the oldest delivered events are dropped and asking for them answers
//!   410.
//!
//! Memory stays bounded either way: when the log is full and nothing in it may be dropped
//! (nobody has read it), the pump stops taking events and the build waits, as it always did
//! for a reader that does not read.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use flowactor_actors::engine::BuildEvent;
use tokio::sync::{mpsc, Notify};

/// What a read of the log found.
#[derive(Debug, Default)]
pub struct Read {
    /// `(seq, event)` in order, starting at the requested sequence number.
    pub events: Vec<(u64, BuildEvent)>,
    /// The build has ended and every event after the requested one was returned.
    pub closed: bool,
}

/// The requested events are no longer retained; the oldest one still held is `oldest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone {
    pub oldest: u64,
}

struct State {
    /// Sequence number of `events[0]` (the first event of a build is 1).
    first: u64,
    events: VecDeque<(BuildEvent, usize)>,
    bytes: usize,
    closed: bool,
    /// Next sequence number the plain readers get.
    shared: u64,
    /// A plain streaming reader owns the shared cursor (later plain readers get the closing frame).
    taken: bool,
    /// A resuming reader has attached: delivered events are retained up to the bound.
    resumable: bool,
    /// One past the highest sequence number delivered to any reader.
    delivered: u64,
}

impl State {
    fn next_seq(&self) -> u64 {
        self.first + self.events.len() as u64
    }

    fn drop_front(&mut self) {
        if let Some((_, size)) = self.events.pop_front() {
            self.bytes -= size;
            self.first += 1;
        }
    }

    /// Drops what no reader can ask for any more (plain reads), or the oldest delivered events
    /// while they and `incoming` more bytes would exceed the retention bound (resuming reads).
    fn trim(&mut self, limit: usize, incoming: usize) {
        if self.resumable {
            while self.bytes + incoming > limit && self.first < self.delivered && !self.events.is_empty() {
                self.drop_front();
            }
        } else {
            while self.first < self.shared && !self.events.is_empty() {
                self.drop_front();
            }
        }
    }

    fn read_from(&self, seq: u64, max: usize) -> Result<Read, Gone> {
        if seq < self.first {
            return Err(Gone { oldest: self.first });
        }
        let skip = usize::try_from(seq - self.first).unwrap_or(usize::MAX);
        let events: Vec<(u64, BuildEvent)> = self
            .events
            .iter()
            .skip(skip)
            .take(max)
            .enumerate()
            .map(|(i, (e, _))| (seq + i as u64, e.clone()))
            .collect();
        let closed = self.closed && seq + events.len() as u64 >= self.next_seq();
        Ok(Read { events, closed })
    }
}

/// The event log of one job.
pub struct EventLog {
    state: Mutex<State>,
    changed: Notify,
    /// Retention bound in bytes of event JSON.
    limit: usize,
}

/// Most events handed to one reader per read.
const READ_BATCH: usize = 256;

impl EventLog {
    #[must_use]
    pub fn new(limit: usize) -> Self {
        Self {
            state: Mutex::new(State {
                first: 1,
                events: VecDeque::new(),
                bytes: 0,
                closed: false,
                shared: 1,
                taken: false,
                resumable: false,
                delivered: 1,
            }),
            changed: Notify::new(),
            limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the build's events into the log until the build ends, waiting while the log is
    /// full of events nobody has read.
    pub async fn pump(&self, mut events: mpsc::Receiver<BuildEvent>) {
        while let Some(event) = events.recv().await {
            let size = event.data.to_string().len() + event.name.len();
            loop {
                let waiting = self.changed.notified();
                tokio::pin!(waiting);
                waiting.as_mut().enable();
                {
                    let mut s = self.lock();
                    s.trim(self.limit, size);
                    if s.bytes + size <= self.limit || s.events.is_empty() {
                        s.events.push_back((event, size));
                        s.bytes += size;
                        break;
                    }
                }
                waiting.await;
            }
            self.changed.notify_waiters();
        }
        self.lock().closed = true;
        self.changed.notify_waiters();
    }

    /// Whether the build has ended and its last event was appended.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Claims the shared cursor for a plain streaming reader; `false` if one already has it.
    pub fn take_shared(&self) -> bool {
        !std::mem::replace(&mut self.lock().taken, true)
    }

    /// Whether a plain streaming reader owns the shared cursor.
    #[must_use]
    pub fn is_taken(&self) -> bool {
        self.lock().taken
    }

    /// Waits until something at or after `seq` exists (or the build ended), then returns it.
    /// `shared` reads consume the shared cursor (`seq` is ignored); resuming reads do not.
    async fn wait_read(&self, seq: u64, shared: bool) -> Result<Read, Gone> {
        loop {
            let waiting = self.changed.notified();
            tokio::pin!(waiting);
            waiting.as_mut().enable();
            {
                let mut s = self.lock();
                let from = if shared { s.shared } else { seq };
                if !shared {
                    s.resumable = true;
                }
                let read = s.read_from(from, READ_BATCH)?;
                if !read.events.is_empty() || read.closed {
                    let next = from + read.events.len() as u64;
                    if shared {
                        s.shared = next;
                    }
                    s.delivered = s.delivered.max(next);
                    s.trim(self.limit, 0);
                    drop(s);
                    self.changed.notify_waiters();
                    return Ok(read);
                }
            }
            waiting.await;
        }
    }

    /// The next events for the plain readers (waiting for at least one), consuming them.
    pub async fn read_shared(&self) -> Read {
        // The shared cursor never falls behind what is retained, so it cannot be gone.
        self.wait_read(0, true).await.unwrap_or_default()
    }

    /// The events after `since` (waiting for at least one), without consuming them.
    ///
    /// # Errors
    /// [`Gone`] when events after `since` were already dropped.
    pub async fn read_after(&self, since: u64) -> Result<Read, Gone> {
        self.wait_read(since.saturating_add(1), false).await
    }

    /// Checks that events after `since` are still held, and marks the log as resumable.
    ///
    /// # Errors
    /// [`Gone`] as for [`EventLog::read_after`].
    pub fn check_after(&self, since: u64) -> Result<(), Gone> {
        let mut s = self.lock();
        s.resumable = true;
        let seq = since.saturating_add(1);
        if seq < s.first {
            return Err(Gone { oldest: s.first });
        }
        Ok(())
    }

    /// Feeds a reader's channel: the shared cursor's events (`since: None`) or those after
    /// `since`, in order, until the build ends or the reader goes away.
    pub async fn forward_events(&self, since: Option<u64>, out: mpsc::Sender<BuildEvent>) {
        let mut next = since.map_or(1, |s| s.saturating_add(1));
        loop {
            let read = match since {
                None => self.read_shared().await,
                Some(_) => match self.read_after(next - 1).await {
                    Ok(read) => read,
                    Err(_) => return,
                },
            };
            for (seq, event) in read.events {
                next = seq + 1;
                if out.send(event).await.is_err() {
                    return;
                }
            }
            if read.closed {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(i: u64) -> BuildEvent {
        BuildEvent { name: "token", data: json!({ "chunk": i }) }
    }

    async fn filled(n: u64, limit: usize) -> std::sync::Arc<EventLog> {
        let log = std::sync::Arc::new(EventLog::new(limit));
        let (tx, rx) = mpsc::channel(4);
        let pump = log.clone();
        tokio::spawn(async move { pump.pump(rx).await });
        tokio::spawn(async move {
            for i in 1..=n {
                if tx.send(event(i)).await.is_err() {
                    return;
                }
            }
        });
        log
    }

    fn chunks(read: &Read) -> Vec<u64> {
        read.events.iter().map(|(_, e)| e.data["chunk"].as_u64().unwrap_or(0)).collect()
    }

    #[tokio::test]
    async fn plain_reads_consume_and_resuming_reads_do_not() {
        let log = filled(3, 1 << 20).await;
        let mut seen = Vec::new();
        while seen.len() < 3 {
            seen.extend(chunks(&log.read_shared().await));
        }
        assert_eq!(seen, [1, 2, 3]);
        // Consumed by plain reads: gone for a resuming reader that did not attach first.
        assert_eq!(log.read_after(0).await.err(), Some(Gone { oldest: 4 }));
    }

    #[tokio::test]
    async fn a_resuming_reader_continues_after_any_event() {
        let log = filled(10, 1 << 20).await;
        log.check_after(0).expect("held");
        let mut all = Vec::new();
        let mut since = 0;
        while all.len() < 10 {
            let read = log.read_after(since).await.expect("held");
            // Take one event per connection: every event exactly once across reconnects.
            let (seq, _) = read.events[0];
            all.push(chunks(&read)[0]);
            since = seq;
        }
        assert_eq!(all, (1..=10).collect::<Vec<_>>());
        let tail = log.read_after(10).await.expect("end");
        assert!(tail.events.is_empty() && tail.closed);
    }

    #[tokio::test]
    async fn retention_is_bounded_and_unread_events_hold_the_build() {
        // Each event is about 20 bytes: a 100-byte log holds a handful.
        let log = filled(50, 100).await;
        log.check_after(0).expect("held");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        {
            let s = log.lock();
            assert!(s.bytes <= 100 && !s.closed, "the pump must wait for a reader");
            assert_eq!(s.first, 1, "nothing delivered, nothing dropped");
        }
        let mut since = 0;
        let mut count = 0;
        loop {
            let read = log.read_after(since).await.expect("read in order is never gone");
            count += read.events.len();
            if let Some((seq, _)) = read.events.last() {
                since = *seq;
            }
            if read.closed {
                break;
            }
        }
        assert_eq!(count, 50);
        assert!(matches!(log.read_after(0).await, Err(Gone { .. })), "early events were dropped past the bound");
    }
}
