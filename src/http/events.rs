//! Streaming event responses (`/run?stream=true`, `/build` events): Langflow's framing (a JSON
//! object and a blank line per event), heartbeats so a vanished client is noticed, and
//! cancellation when the response is dropped.
//!
//! actix-web only learns that a client went away when it writes, so during silent stretches the
//! stream writes a bare newline every heartbeat interval (clients splitting on blank lines skip
//! it). Dropping the stream before the build ended runs `on_abandon` (cancels the build).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::web::Bytes;
use flowactor_actors::engine::{BuildError, BuildEvent, RunOutcome};
use futures_util::Stream;
use tokio::sync::{mpsc, oneshot};

/// Produces the final event(s) of a stream from the build's outcome (e.g. `/run`'s `end`).
pub type Finisher = Box<dyn FnOnce(Result<RunOutcome, BuildError>) -> Vec<BuildEvent> + Send>;

/// Decides which engine events reach the client.
pub type EventFilter = fn(&BuildEvent) -> bool;

/// Writes one event as the client's framing asks (Langflow's by default).
pub type Framer = Box<dyn FnMut(&BuildEvent) -> String + Send>;

pub struct EventStream {
    events: mpsc::Receiver<BuildEvent>,
    filter: EventFilter,
    framer: Option<Framer>,
    heartbeat: tokio::time::Interval,
    outcome: Option<(oneshot::Receiver<Result<RunOutcome, BuildError>>, Finisher)>,
    on_end: Option<Box<dyn FnOnce() + Send>>,
    on_abandon: Option<Box<dyn FnOnce() + Send>>,
    /// The server's shutdown deadline: the stream then ends with an `error` event.
    shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    events_done: bool,
    done: bool,
}

impl EventStream {
    pub fn new(events: mpsc::Receiver<BuildEvent>, filter: EventFilter, heartbeat: Duration) -> Self {
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            events,
            filter,
            framer: None,
            heartbeat: interval,
            outcome: None,
            on_end: None,
            on_abandon: None,
            shutdown: None,
            events_done: false,
            done: false,
        }
    }

    /// After the last event, waits for the outcome and emits what `finisher` makes of it.
    #[must_use]
    pub fn with_outcome(
        mut self,
        outcome: oneshot::Receiver<Result<RunOutcome, BuildError>>,
        finisher: Finisher,
    ) -> Self {
        self.outcome = Some((outcome, finisher));
        self
    }

    /// Frames each event with `framer` instead of Langflow's `{"event", "data"}` lines.
    #[must_use]
    pub fn framed(mut self, framer: Framer) -> Self {
        self.framer = Some(framer);
        self
    }

    /// Called once when the stream completes normally.
    #[must_use]
    pub fn on_end(mut self, f: impl FnOnce() + Send + 'static) -> Self {
        self.on_end = Some(Box::new(f));
        self
    }

    /// Called if the stream is dropped before it completed (client disconnected).
    #[must_use]
    pub fn on_abandon(mut self, f: impl FnOnce() + Send + 'static) -> Self {
        self.on_abandon = Some(Box::new(f));
        self
    }

    /// Ends the stream with an `error` event when `deadline` resolves (the server's drain).
    #[must_use]
    pub fn until(mut self, deadline: impl Future<Output = ()> + Send + 'static) -> Self {
        self.shutdown = Some(Box::pin(deadline));
        self
    }

    fn complete(&mut self) {
        self.done = true;
        self.on_abandon = None;
        if let Some(f) = self.on_end.take() {
            f();
        }
    }
}

fn frames(events: &[BuildEvent]) -> Bytes {
    let mut out = String::new();
    for e in events {
        out.push_str(&e.to_frame());
    }
    Bytes::from(out)
}

impl Stream for EventStream {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if this.shutdown.as_mut().is_some_and(|d| d.as_mut().poll(cx).is_ready()) {
            // Cut by the shutdown: the build is cancelled (`on_abandon`), the client told why.
            this.done = true;
            this.on_end = None;
            if let Some(f) = this.on_abandon.take() {
                f();
            }
            let event =
                BuildEvent { name: "error", data: serde_json::json!({"error": crate::http::lifecycle::SHUTTING_DOWN}) };
            return Poll::Ready(Some(Ok(Bytes::from(event.to_frame()))));
        }
        while !this.events_done {
            match this.events.poll_recv(cx) {
                Poll::Ready(Some(event)) => {
                    if (this.filter)(&event) {
                        this.heartbeat.reset();
                        let frame = match this.framer.as_mut() {
                            Some(framer) => framer(&event),
                            None => event.to_frame(),
                        };
                        return Poll::Ready(Some(Ok(Bytes::from(frame))));
                    }
                }
                Poll::Ready(None) => this.events_done = true,
                Poll::Pending => {
                    if this.heartbeat.poll_tick(cx).is_ready() {
                        return Poll::Ready(Some(Ok(Bytes::from_static(b"\n"))));
                    }
                    return Poll::Pending;
                }
            }
        }
        if let Some((mut rx, finisher)) = this.outcome.take() {
            match Pin::new(&mut rx).poll(cx) {
                Poll::Ready(result) => {
                    let last = finisher(result.unwrap_or(Err(BuildError::Vanished)));
                    this.complete();
                    return Poll::Ready(Some(Ok(frames(&last))));
                }
                Poll::Pending => {
                    this.outcome = Some((rx, finisher));
                    if this.heartbeat.poll_tick(cx).is_ready() {
                        return Poll::Ready(Some(Ok(Bytes::from_static(b"\n"))));
                    }
                    return Poll::Pending;
                }
            }
        }
        this.complete();
        Poll::Ready(None)
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        if let Some(f) = self.on_abandon.take() {
            f();
        }
    }
}

/// Every event passes.
#[must_use]
pub fn all_events(_: &BuildEvent) -> bool {
    true
}

/// The events `/run?stream=true` forwards (Langflow's smaller registry in practice), plus the
/// `build_start`/`build_end` `{"id": node}` pair around a tool an Agent runs.
#[must_use]
pub fn run_events(e: &BuildEvent) -> bool {
    match e.name {
        "add_message" | "token" | "error" | "remove_message" => true,
        "build_start" | "build_end" => e.data.get("id").is_some(),
        _ => false,
    }
}
