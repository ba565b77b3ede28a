//! The build supervisor: one actor per build. It spawns the vertex actors over the arbiter pool,
//! turns their reports into Langflow's build events, decides when the build is over, and is
//! the single place that ends a build early — cancellation, a dropped event stream, the
//! deadline, or a failing `/run` — by halting every vertex it spawned.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::dev::channel;
use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, AtomicResponse, Context, Handler, Message as ActixMessage,
    WrapFuture,
};
use tokio::sync::oneshot;

use crate::catalog::ComponentKind;

use super::events;
use super::outcome::{BuildRecorder, BuildTrace, RunOutcome, VertexOutcome, VertexState, VertexTrace};
use super::pool::ArbiterPool;
use super::vertex::{ActorTable, Halt, Kick, VertexActor};
use super::{BuildError, BuildShared, Mode};

/// Mailbox capacity of each vertex actor; senders use `do_send`, which is not limited by it.
const VERTEX_MAILBOX: usize = 16;

/// A vertex finished (`/run`: nobody waits for the answer).
#[derive(ActixMessage)]
#[rtype(result = "()")]
pub(crate) struct Finished(pub Arc<VertexOutcome>);

/// A vertex finished (`/build`): answered once its `end_vertex` is on the stream, so its
/// successors start after it, as in Langflow's build driver.
#[derive(ActixMessage)]
#[rtype(result = "()")]
pub(crate) struct FinishedAck(pub Arc<VertexOutcome>);

/// Cancels the build.
#[derive(ActixMessage)]
#[rtype(result = "()")]
pub(crate) struct CancelBuild;

pub(crate) struct BuildSupervisor {
    shared: Arc<BuildShared>,
    pool: ArbiterPool,
    /// The arbiter this supervisor runs on; the first root vertex goes there too, so a small
    /// graph runs without crossing threads.
    home: usize,
    deadline: Duration,
    table: Option<ActorTable>,
    /// The arbiter (engine thread) each vertex runs on, reported in its `end_vertex` event.
    placement: Vec<usize>,
    outcomes: Vec<Option<Arc<VertexOutcome>>>,
    remaining: usize,
    /// The lone first-layer ChatInput and the roots held back until it has run.
    chat_gate: Option<usize>,
    gated: Vec<usize>,
    started: Instant,
    /// Wall-clock time of `started`, for the build's trace.
    started_at: crate::clock::Micros,
    recorder: Option<BuildRecorder>,
    reply: Option<oneshot::Sender<Result<RunOutcome, BuildError>>>,
}

impl BuildSupervisor {
    pub(crate) fn new(
        shared: Arc<BuildShared>,
        pool: ArbiterPool,
        home: usize,
        deadline: Duration,
        reply: oneshot::Sender<Result<RunOutcome, BuildError>>,
        recorder: Option<BuildRecorder>,
    ) -> Self {
        let n = shared.graph.len();
        let remaining = shared.subset.run.len();
        Self {
            shared,
            pool,
            home,
            deadline,
            table: None,
            placement: Vec::new(),
            outcomes: vec![None; n],
            remaining,
            chat_gate: None,
            gated: Vec::new(),
            started: Instant::now(),
            started_at: crate::clock::now_micros(),
            recorder,
            reply: Some(reply),
        }
    }

    /// Creates every vertex actor. Addresses exist before any actor runs, so each actor gets
    /// the complete table and roots may fire immediately; actors are created in one batch per
    /// arbiter.
    fn spawn_vertices(&mut self, ctx: &mut Context<Self>) {
        let shared = &self.shared;
        let g = &shared.graph;
        let run = &shared.subset.run;
        if run.is_empty() {
            return self.complete(ctx);
        }

        // Langflow runs a predecessor-less ChatInput alone, first: roots such as Message
        // History must see the message it stores.
        if let [only] = shared.subset.first_layer() {
            if g.vertices[*only].kind == ComponentKind::ChatInput && shared.subset.in_run[*only] {
                self.chat_gate = Some(*only);
                self.gated = run.iter().copied().filter(|&v| v != *only && self.is_root(v)).collect();
            }
        }

        let mut table: Vec<Option<actix::Addr<VertexActor>>> = vec![None; g.len()];
        let mut receivers = Vec::with_capacity(run.len());
        for &v in run {
            let (tx, rx) = channel::channel(VERTEX_MAILBOX);
            table[v] = Some(actix::Addr::new(tx));
            receivers.push((v, rx));
        }
        let table: ActorTable = table.into();
        self.table = Some(table.clone());

        // Chains stay on their predecessor's arbiter (a hop between threads costs more than
        // the work of a cheap vertex); fan-outs are spread round-robin.
        let arbiters = self.pool.len();
        let mut placement = vec![usize::MAX; g.len()];
        let mut batches: Vec<Vec<_>> = (0..arbiters).map(|_| Vec::new()).collect();
        let mut first_free = true;
        for (v, rx) in receivers {
            let vert = &g.vertices[v];
            let chained = match vert.wait_edges.as_slice() {
                [e] => {
                    let src = g.edges[*e].source;
                    (g.vertices[src].out_edges.len() == 1 && placement[src] != usize::MAX).then_some(placement[src])
                }
                _ => None,
            };
            let a = chained.unwrap_or_else(|| {
                if std::mem::take(&mut first_free) {
                    self.home.min(arbiters - 1)
                } else {
                    self.pool.next_index()
                }
            });
            placement[v] = a;
            batches[a].push((v, rx));
        }
        self.placement.clone_from(&placement);
        let me = ctx.address();
        for (a, batch) in batches.into_iter().enumerate() {
            if batch.is_empty() {
                continue;
            }
            let shared = shared.clone();
            let table = table.clone();
            let me = me.clone();
            let gated: Vec<bool> = batch.iter().map(|(v, _)| self.gated.contains(v)).collect();
            self.pool.handle(a).spawn_fn(move || {
                for ((v, rx), gated) in batch.into_iter().zip(gated) {
                    let vctx = Context::with_receiver(rx);
                    let actor = VertexActor::new(shared.clone(), table.clone(), me.clone(), v, gated);
                    actix_rt::spawn(vctx.into_future(actor));
                }
            });
        }
    }

    fn is_root(&self, v: usize) -> bool {
        let g = &self.shared.graph;
        !g.vertices[v].wait_edges.iter().any(|&e| self.shared.subset.in_run[g.edges[e].source])
    }

    fn halt_all(&mut self) {
        if let Some(table) = self.table.take() {
            for addr in table.iter().flatten() {
                addr.do_send(Halt);
            }
        }
    }

    /// Records a vertex result; returns the `end_vertex` event for `/build`.
    fn record(&mut self, outcome: Arc<VertexOutcome>, ctx: &mut Context<Self>) -> Option<super::BuildEvent> {
        let v = outcome.vertex;
        if self.reply.is_none() || self.outcomes[v].is_some() {
            return None;
        }
        self.outcomes[v] = Some(outcome.clone());
        self.remaining = self.remaining.saturating_sub(1);
        if self.chat_gate == Some(v) {
            if let Some(table) = &self.table {
                for &g in &self.gated {
                    if let Some(addr) = &table[g] {
                        addr.do_send(Kick);
                    }
                }
            }
        }
        match (&outcome.state, self.shared.mode) {
            (VertexState::Failed(reason), Mode::Run) => {
                let name = &self.shared.graph.vertices[v].display_name;
                let text = format!("Error running graph: Error building Component {name}: {reason}");
                self.abort(BuildError::Failed(text), ctx);
                None
            }
            (VertexState::Built | VertexState::Failed(_), Mode::Build) => {
                if let VertexState::Failed(reason) = &outcome.state {
                    let name = &self.shared.graph.vertices[v].display_name;
                    tracing::warn!(flow = %self.shared.flow_id, component = %name, error = %reason, "build step failed");
                }
                let next = self.next_vertices(&outcome);
                let inactivated = self.inactivated(&outcome);
                let thread = self.placement.get(v).copied().unwrap_or_default();
                Some(events::end_vertex(
                    &self.shared.graph,
                    &outcome,
                    &self.shared.session_id,
                    &next,
                    &inactivated,
                    thread,
                ))
            }
            _ => None,
        }
    }

    /// Successors that became runnable with this result (Langflow's `next_vertices_ids`).
    fn next_vertices(&self, o: &VertexOutcome) -> Vec<usize> {
        if o.state != VertexState::Built {
            return Vec::new();
        }
        let g = &self.shared.graph;
        let in_run = &self.shared.subset.in_run;
        let mut next: Vec<usize> = Vec::new();
        for &ei in &g.vertices[o.vertex].out_edges {
            let e = &g.edges[ei];
            let Some((w, _)) = e.waiter else { continue };
            if !in_run[w] || self.outcomes[w].is_some() || next.contains(&w) || o.stopped.contains(&e.source_output) {
                continue;
            }
            let ready = g.vertices[w].wait_edges.iter().all(|&we| {
                let s = g.edges[we].source;
                !in_run[s] || self.outcomes[s].is_some()
            });
            if ready {
                next.push(w);
            }
        }
        next
    }

    /// Vertices behind stopped outputs that can no longer run (merge points excluded).
    fn inactivated(&self, o: &VertexOutcome) -> Vec<usize> {
        if o.stopped.is_empty() {
            return Vec::new();
        }
        let g = &self.shared.graph;
        let in_degree = |v: usize| g.vertices[v].in_edges.iter().filter(|&&e| !g.edges[e].feedback).count();
        let mut out = Vec::new();
        let mut stack: Vec<usize> = g.vertices[o.vertex]
            .out_edges
            .iter()
            .map(|&e| &g.edges[e])
            .filter(|e| o.stopped.contains(&e.source_output))
            .map(|e| e.target)
            .collect();
        while let Some(v) = stack.pop() {
            if out.contains(&v) || in_degree(v) > 1 {
                continue;
            }
            out.push(v);
            stack.extend(g.vertices[v].out_edges.iter().map(|&e| g.edges[e].target));
        }
        out.sort_unstable();
        out
    }

    fn maybe_complete(&mut self, ctx: &mut Context<Self>) {
        if self.remaining == 0 && self.reply.is_some() {
            self.complete(ctx);
        }
    }

    /// Hands the build's trace to the recorder, if there is one.
    fn trace(&self, error: Option<String>) {
        let Some(recorder) = &self.recorder else { return };
        let mut vertices: Vec<VertexTrace> = self
            .outcomes
            .iter()
            .flatten()
            .map(|o| VertexTrace {
                vertex: o.vertex,
                start: o.started.saturating_duration_since(self.started),
                duration: o.duration,
                state: o.state.clone(),
                arbiter: self.placement.get(o.vertex).copied().unwrap_or_default(),
            })
            .collect();
        vertices.sort_by_key(|v| v.start + v.duration);
        (recorder.0)(BuildTrace {
            graph: self.shared.graph.clone(),
            run_id: self.shared.run_id,
            flow_id: self.shared.flow_id,
            user_id: self.shared.user_id,
            mode: self.shared.mode,
            started_at: self.started_at,
            duration: self.started.elapsed(),
            error,
            vertices,
        });
    }

    fn complete(&mut self, ctx: &mut Context<Self>) {
        self.trace(None);
        let elapsed = self.started.elapsed();
        let outcome = RunOutcome {
            graph: self.shared.graph.clone(),
            subset: self.shared.subset.clone(),
            mode: self.shared.mode,
            flow_id: self.shared.flow_id,
            run_id: self.shared.run_id,
            session_id: self.shared.session_id.clone(),
            vertices: std::mem::take(&mut self.outcomes),
            duration: elapsed,
        };
        let Some(reply) = self.reply.take() else { return };
        self.table = None;
        if self.shared.mode == Mode::Build {
            let tx = self.shared.events.clone();
            ctx.wait(
                async move {
                    let _ = tx.send(events::end(elapsed.as_secs_f64())).await;
                }
                .into_actor(self)
                .map(move |(), _, ctx| {
                    let _ = reply.send(Ok(outcome));
                    ctx.stop();
                }),
            );
        } else {
            let _ = reply.send(Ok(outcome));
            ctx.stop();
        }
    }

    fn abort(&mut self, err: BuildError, ctx: &mut Context<Self>) {
        let Some(reply) = self.reply.take() else { return };
        self.trace(Some(err.to_string()));
        match &err {
            BuildError::Cancelled => tracing::info!(flow = %self.shared.flow_id, "build cancelled"),
            other => tracing::warn!(flow = %self.shared.flow_id, error = %other, "build failed"),
        }
        self.shared.cancel.cancel();
        self.halt_all();
        if let BuildError::DeadlineExceeded(_) = &err {
            let event = events::build_error(&err.to_string(), &self.shared.session_id, self.shared.flow_id);
            let tx = self.shared.events.clone();
            ctx.wait(
                async move {
                    let _ = tx.send(event).await;
                }
                .into_actor(self)
                .map(move |(), _, ctx| {
                    let _ = reply.send(Err(err));
                    ctx.stop();
                }),
            );
            return;
        }
        let _ = reply.send(Err(err));
        ctx.stop();
    }
}

impl Actor for BuildSupervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.started = Instant::now();
        self.started_at = crate::clock::now_micros();
        let deadline = self.deadline;
        ctx.run_later(deadline, move |act, ctx| act.abort(BuildError::DeadlineExceeded(deadline), ctx));
        let tx = self.shared.events.clone();
        ctx.spawn(
            async move { tx.closed().await }.into_actor(self).map(|(), act, ctx| act.abort(BuildError::Cancelled, ctx)),
        );

        if self.shared.mode == Mode::Build {
            let sorted = events::vertices_sorted(
                &self.shared.graph,
                self.shared.subset.first_layer(),
                &self.shared.subset.to_run,
            );
            let tx = self.shared.events.clone();
            ctx.wait(
                async move {
                    let _ = tx.send(sorted).await;
                    let _ = tx.send(events::build_start()).await;
                }
                .into_actor(self)
                .map(|(), act, ctx| act.spawn_vertices(ctx)),
            );
        } else {
            self.spawn_vertices(ctx);
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.halt_all();
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(Err(BuildError::Vanished));
        }
    }
}

impl Handler<Finished> for BuildSupervisor {
    type Result = ();

    fn handle(&mut self, msg: Finished, ctx: &mut Self::Context) {
        let _ = self.record(msg.0, ctx);
        self.maybe_complete(ctx);
    }
}

impl Handler<FinishedAck> for BuildSupervisor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: FinishedAck, ctx: &mut Self::Context) -> Self::Result {
        let event = self.record(msg.0, ctx);
        let tx = self.shared.events.clone();
        AtomicResponse::new(Box::pin(
            async move {
                if let Some(e) = event {
                    let _ = tx.send(e).await;
                }
            }
            .into_actor(self)
            .map(|(), act, ctx| act.maybe_complete(ctx)),
        ))
    }
}

impl Handler<CancelBuild> for BuildSupervisor {
    type Result = ();

    fn handle(&mut self, _: CancelBuild, ctx: &mut Self::Context) {
        self.abort(BuildError::Cancelled, ctx);
    }
}
