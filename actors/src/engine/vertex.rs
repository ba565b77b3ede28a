//! The vertex actor: one per vertex of a build. It collects the values arriving on its input
//! edges, runs its component once all have arrived, reports to the supervisor and sends its
//! outputs straight to the actors that wait for them. It then stops: a vertex runs at most once.
//!
//! Component panics are caught here, so a broken component fails its vertex, not its arbiter.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message as ActixMessage, WrapFuture,
};
use futures_util::FutureExt;

use crate::components::{ComponentContext, ComponentError, InputSlot, Inputs, Outputs, Value};

use super::events::error_message;
use super::outcome::{VertexOutcome, VertexState};
use super::supervisor::{BuildSupervisor, Finished, FinishedAck};
use super::{BuildShared, Mode};

/// What travels along an edge.
#[derive(Debug, Clone)]
pub(crate) enum Signal {
    Value(Value),
    /// The source is on an excluded branch (or did not produce this output).
    Inactive,
    /// The source (or one of its ancestors) failed.
    Failed,
}

#[derive(ActixMessage)]
#[rtype(result = "()")]
pub(crate) struct Deliver {
    pub slot: usize,
    pub signal: Signal,
}

/// Lets a root vertex that was held back (behind the lone ChatInput) run.
#[derive(ActixMessage)]
#[rtype(result = "()")]
pub(crate) struct Kick;

/// Stops the actor, dropping any component still running.
#[derive(ActixMessage)]
#[rtype(result = "()")]
pub(crate) struct Halt;

pub(crate) type ActorTable = Arc<[Option<Addr<VertexActor>>]>;

pub(crate) struct VertexActor {
    shared: Arc<BuildShared>,
    table: ActorTable,
    supervisor: Addr<BuildSupervisor>,
    idx: usize,
    pending: usize,
    gated: bool,
    fired: bool,
    slots: Vec<Option<Signal>>,
}

type PanicPayload = Box<dyn std::any::Any + Send>;

fn panic_text(p: &PanicPayload) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

type Guarded =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Result<Outputs, ComponentError>, PanicPayload>> + Send>>;

/// Wraps a component run so that a panic becomes a value instead of unwinding through the
/// arbiter's event loop.
fn guarded(run: impl std::future::Future<Output = Result<Outputs, ComponentError>> + Send + 'static) -> Guarded {
    Box::pin(AssertUnwindSafe(run).catch_unwind())
}

impl VertexActor {
    pub(crate) fn new(
        shared: Arc<BuildShared>,
        table: ActorTable,
        supervisor: Addr<BuildSupervisor>,
        idx: usize,
        gated: bool,
    ) -> Self {
        let v = &shared.graph.vertices[idx];
        let in_run = &shared.subset.in_run;
        let edges = &shared.graph.edges;
        let pending = v.wait_edges.iter().filter(|&&e| in_run[edges[e].source]).count();
        let slots = vec![None; v.wait_edges.len()];
        Self { shared, table, supervisor, idx, pending, gated, fired: false, slots }
    }

    fn maybe_fire(&mut self, ctx: &mut Context<Self>) {
        if self.fired || self.pending > 0 || self.gated {
            return;
        }
        self.fired = true;
        self.fire(ctx);
    }

    fn fire(&mut self, ctx: &mut Context<Self>) {
        let started = Instant::now();
        let shared = &self.shared;
        let v = &shared.graph.vertices[self.idx];
        let delivered = self.slots.iter().flatten();
        let (mut any, mut any_value, mut any_failed) = (false, false, false);
        for s in delivered {
            any = true;
            match s {
                Signal::Value(_) => any_value = true,
                Signal::Failed => any_failed = true,
                Signal::Inactive => {}
            }
        }
        if any_failed {
            return self.finish(ctx, VertexState::UpstreamFailed, Outputs::default(), started);
        }
        if any && !any_value {
            return self.finish(ctx, VertexState::Inactive, Outputs::default(), started);
        }
        let edges = &shared.graph.edges;
        let slots: Vec<InputSlot> = v
            .wait_edges
            .iter()
            .zip(self.slots.iter_mut())
            .map(|(&ei, s)| InputSlot {
                edge: ei,
                target: edges[ei].target,
                field: edges[ei].field.clone(),
                value: match s.take() {
                    Some(Signal::Value(v)) => Some(v),
                    _ => None,
                },
            })
            .collect();
        let inputs = Inputs::new(self.idx, slots);
        let cctx = ComponentContext::new(shared.clone(), self.idx);
        // A vertex used only as an agent's tool yields its tools; the agent runs it.
        if let Some(outputs) = crate::components::tool_outputs(&cctx) {
            return self.finish(ctx, VertexState::Built, outputs, started);
        }
        let component = crate::components::implementation(v.kind);
        let mut fut = guarded(async move { component.run(&cctx, &inputs).await });
        // Most components finish without awaiting anything; running them inline saves a task.
        match fut.as_mut().now_or_never() {
            Some(result) => self.completed(ctx, result, started),
            None => {
                ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| act.completed(ctx, result, started)));
            }
        }
    }

    fn completed(
        &mut self,
        ctx: &mut Context<Self>,
        result: Result<Result<Outputs, ComponentError>, PanicPayload>,
        started: Instant,
    ) {
        let limit = self.shared.limits.max_output_bytes;
        let result = result.map(|r| r.and_then(|outputs| outputs.check_size(limit).map(|()| outputs)));
        let (state, outputs) = match result {
            Ok(Ok(outputs)) => (VertexState::Built, outputs),
            Ok(Err(ComponentError::Failed(reason))) => (VertexState::Failed(reason), Outputs::default()),
            Ok(Err(ComponentError::Cancelled)) => (VertexState::Cancelled, Outputs::default()),
            Err(panic) => {
                (VertexState::Failed(format!("the component panicked: {}", panic_text(&panic))), Outputs::default())
            }
        };
        self.finish(ctx, state, outputs, started);
    }

    fn finish(&mut self, ctx: &mut Context<Self>, state: VertexState, outputs: Outputs, started: Instant) {
        let v = &self.shared.graph.vertices[self.idx];
        let mut values = Vec::with_capacity(outputs.values.len());
        for (name, value) in outputs.values {
            if let Some(i) = v.output_index(name) {
                values.push((i, value));
            }
        }
        let stopped = outputs.stopped.iter().filter_map(|n| v.output_index(n)).collect();
        let outcome =
            Arc::new(VertexOutcome { vertex: self.idx, state, values, stopped, started, duration: started.elapsed() });
        let failed_reason = match &outcome.state {
            VertexState::Failed(r) => Some(r.clone()),
            _ => None,
        };
        let build_mode = self.shared.mode == Mode::Build;
        if failed_reason.is_none() && !build_mode {
            self.supervisor.do_send(Finished(outcome.clone()));
            self.forward(&outcome);
            ctx.stop();
            return;
        }
        let shared = self.shared.clone();
        let supervisor = self.supervisor.clone();
        let idx = self.idx;
        let report = {
            let outcome = outcome.clone();
            async move {
                if let Some(reason) = failed_reason {
                    let v = &shared.graph.vertices[idx];
                    let msg = error_message(v, &reason, &shared.session_id, shared.flow_id, shared.run_id);
                    if let (Some(store), Some(rec)) = (shared.messages.as_ref(), msg.to_record()) {
                        if let Err(e) = store.upsert(&rec) {
                            tracing::warn!(vertex = %v.id, error = %e, "could not store an error message");
                        }
                    }
                    if !shared.quiet {
                        let _ = shared.events.send(super::BuildEvent { name: "error", data: msg.event_json() }).await;
                    }
                }
                if build_mode {
                    let _ = supervisor.send(FinishedAck(outcome)).await;
                } else {
                    supervisor.do_send(Finished(outcome));
                }
            }
        };
        ctx.wait(report.into_actor(self).map(move |(), act, ctx| {
            act.forward(&outcome);
            ctx.stop();
        }));
    }

    /// Sends this vertex's result along every edge that some running vertex waits for.
    fn forward(&self, outcome: &VertexOutcome) {
        let g = &self.shared.graph;
        let in_run = &self.shared.subset.in_run;
        for &ei in &g.vertices[self.idx].out_edges {
            let e = &g.edges[ei];
            let Some((waiter, slot)) = e.waiter else { continue };
            if !in_run[waiter] {
                continue;
            }
            let signal = match &outcome.state {
                VertexState::Built if outcome.stopped.contains(&e.source_output) => Signal::Inactive,
                VertexState::Built => {
                    outcome.value(e.source_output).map_or(Signal::Inactive, |v| Signal::Value(v.clone()))
                }
                VertexState::Inactive => Signal::Inactive,
                VertexState::Failed(_) | VertexState::UpstreamFailed => Signal::Failed,
                VertexState::Cancelled => continue,
            };
            if let Some(addr) = &self.table[waiter] {
                addr.do_send(Deliver { slot, signal });
            }
        }
    }
}

impl Actor for VertexActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.maybe_fire(ctx);
    }
}

impl Handler<Deliver> for VertexActor {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        if let Some(slot) = self.slots.get_mut(msg.slot) {
            if slot.replace(msg.signal).is_none() {
                self.pending = self.pending.saturating_sub(1);
            }
        }
        self.maybe_fire(ctx);
    }
}

impl Handler<Kick> for VertexActor {
    type Result = ();

    fn handle(&mut self, _: Kick, ctx: &mut Self::Context) {
        self.gated = false;
        self.maybe_fire(ctx);
    }
}

impl Handler<Halt> for VertexActor {
    type Result = ();

    fn handle(&mut self, _: Halt, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_component_becomes_a_failure() {
        let result = guarded(async {
            let empty: Vec<u8> = Vec::new();
            let _ = std::hint::black_box(&empty)[1];
            Ok(Outputs::default())
        })
        .await;
        let Err(panic) = result else { panic!("the panic escaped the guard or was lost") };
        assert!(panic_text(&panic).contains("index out of bounds"));
    }
}
