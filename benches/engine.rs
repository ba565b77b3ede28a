//! Engine benches: whole builds (supervisor + one actor per vertex) on trivial components at
//! 10 … 10,000 vertices for four shapes, CPU-bound parallelism on 1 vs 2 arbiters, the uneven
//! diamond that shows dataflow beats layer barriers, and the compiled-graph cache.
//!
//! Throughput is reported in vertices, so criterion's "elem/s" inverts to the per-vertex cost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flowactor_actors::engine::{ArbiterPool, BuildRequest, Engine, EngineSettings, Mode};
use flowactor_actors::graph::{CompiledGraph, FlowBuilder};
use flowactor_actors::store::messages::MessageStore;
use flowactor_actors::Store;
use serde_json::{json, Value};
use uuid::Uuid;

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

fn input(b: &mut FlowBuilder) {
    b.node("ChatInput-in", "ChatInput", json!({"input_value": "", "should_store_message": false}));
}

fn output(b: &mut FlowBuilder, from: &str, out: &str) {
    b.node("ChatOutput-out", "ChatOutput", json!({"input_value": "", "should_store_message": false}));
    b.edge(from, out, "ChatOutput-out", "input_value");
}

fn pass(b: &mut FlowBuilder, id: &str, from: &str, out: &str) {
    b.node(id, "Pass", json!({"input_message": "", "ignored_message": ""}));
    b.edge(from, out, id, "input_message");
}

/// A join that does not grow its text: `ignored_message` only adds the dependency (Pass).
fn join(b: &mut FlowBuilder, id: &str, a: (&str, &str), c: (&str, &str)) {
    b.node(id, "Pass", json!({"input_message": "", "ignored_message": ""}));
    b.edge(a.0, a.1, id, "input_message");
    b.edge(c.0, c.1, id, "ignored_message");
}

fn combine(b: &mut FlowBuilder, id: &str, a: (&str, &str), c: (&str, &str)) {
    b.node(id, "CombineText", json!({"text1": "", "text2": "", "delimiter": ""}));
    b.edge(a.0, a.1, id, "text1");
    b.edge(c.0, c.1, id, "text2");
}

/// ChatInput → Pass × (n-2) → ChatOutput.
fn chain(n: usize) -> Value {
    let mut b = FlowBuilder::new();
    input(&mut b);
    let mut prev = ("ChatInput-in".to_owned(), "message");
    for i in 0..n.saturating_sub(2) {
        let id = format!("Pass-{i}");
        pass(&mut b, &id, &prev.0, prev.1);
        prev = (id, "output_message");
    }
    output(&mut b, &prev.0, prev.1);
    b.build()
}

/// ChatInput → k Pass → binary tree of CombineText (k-1) → ChatOutput; n ≈ 2k + 1.
fn wide(n: usize) -> Value {
    let k = (n.saturating_sub(1) / 2).max(1);
    let mut b = FlowBuilder::new();
    input(&mut b);
    let mut level: Vec<(String, &str)> = (0..k)
        .map(|i| {
            let id = format!("Pass-{i}");
            pass(&mut b, &id, "ChatInput-in", "message");
            (id, "output_message")
        })
        .collect();
    let mut c = 0;
    while level.len() > 1 {
        let mut next = Vec::new();
        for pair in level.chunks(2) {
            if let [x, y] = pair {
                let id = format!("CombineText-{c}");
                c += 1;
                combine(&mut b, &id, (&x.0, x.1), (&y.0, y.1));
                next.push((id, "combined_text"));
            } else {
                next.push(pair[0].clone());
            }
        }
        level = next;
    }
    output(&mut b, &level[0].0, level[0].1);
    b.build()
}

/// A chain of diamonds: split into two Pass, join them; 3 vertices per diamond.
fn diamonds(n: usize) -> Value {
    let mut b = FlowBuilder::new();
    input(&mut b);
    let mut prev = ("ChatInput-in".to_owned(), "message");
    for i in 0..(n.saturating_sub(2) / 3).max(1) {
        let (l, r, j) = (format!("Pass-l{i}"), format!("Pass-r{i}"), format!("Pass-j{i}"));
        pass(&mut b, &l, &prev.0, prev.1);
        pass(&mut b, &r, &prev.0, prev.1);
        join(&mut b, &j, (&l, "output_message"), (&r, "output_message"));
        prev = (j, "output_message");
    }
    output(&mut b, &prev.0, prev.1);
    b.build()
}

/// A random DAG (fixed seed): each vertex takes one or two earlier vertices as inputs.
fn random_dag(n: usize) -> Value {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % (m as u64)).unwrap()
    };
    let mut b = FlowBuilder::new();
    input(&mut b);
    let mut nodes: Vec<(String, &str)> = vec![("ChatInput-in".to_owned(), "message")];
    for i in 0..n.saturating_sub(2) {
        let a = nodes[next(nodes.len())].clone();
        if i % 2 == 0 || nodes.len() < 2 {
            let id = format!("Pass-{i}");
            pass(&mut b, &id, &a.0, a.1);
            nodes.push((id, "output_message"));
        } else {
            let c = nodes[next(nodes.len())].clone();
            let id = format!("Pass-j{i}");
            join(&mut b, &id, (&a.0, a.1), (&c.0, c.1));
            nodes.push((id, "output_message"));
        }
    }
    let last = nodes.last().unwrap().clone();
    output(&mut b, &last.0, last.1);
    b.build()
}

struct Rig {
    system: actix_rt::SystemRunner,
    engine: Engine,
}

impl Rig {
    fn new(arbiters: usize) -> Self {
        let system = actix_rt::System::new();
        let messages = MessageStore::open(&Store::temporary().unwrap()).unwrap();
        let engine = system.block_on(async {
            Engine::new(
                ArbiterPool::new(arbiters),
                messages,
                EngineSettings {
                    build_deadline: Duration::from_secs(600),
                    test_components: true,
                    ..EngineSettings::default()
                },
            )
        });
        Self { system, engine }
    }

    fn run(&self, graph: &Arc<CompiledGraph>, mode: Mode) {
        let req = BuildRequest { mode, ..BuildRequest::run(Uuid::new_v4()) }.with_input("bench");
        let handle = self.engine.start(graph.clone(), req).unwrap();
        self.system.block_on(handle.finish()).unwrap();
    }
}

fn shapes(c: &mut Criterion) {
    let rig = Rig::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get));
    type Shape = fn(usize) -> Value;
    let shapes: [(&str, Shape); 4] =
        [("chain", chain), ("wide", wide), ("diamond", diamonds), ("random_dag", random_dag)];
    for (name, make) in shapes {
        let mut group = c.benchmark_group(format!("build_{name}"));
        group.sample_size(10).measurement_time(Duration::from_secs(3));
        for n in SIZES {
            let graph = Arc::new(CompiledGraph::parse(&make(n)).unwrap());
            group.throughput(Throughput::Elements(graph.len() as u64));
            group.bench_with_input(BenchmarkId::from_parameter(graph.len()), &graph, |b, g| {
                b.iter(|| rig.run(g, Mode::Run))
            });
        }
        group.finish();
    }
}

/// 64 vertices of ~1 ms real CPU work each, fanned out from the input and joined.
fn burn_wide() -> Value {
    let mut b = FlowBuilder::new();
    input(&mut b);
    let mut level: Vec<(String, &str)> = Vec::new();
    for i in 0..64 {
        let id = format!("Burn-{i}");
        b.node(&id, "Burn", json!({"microseconds": 1000, "input_value": ""}));
        b.edge("ChatInput-in", "message", &id, "input_value");
        level.push((id, "output"));
    }
    let mut c = 0;
    while level.len() > 1 {
        let mut next = Vec::new();
        for pair in level.chunks(2) {
            let id = format!("CombineText-{c}");
            c += 1;
            combine(&mut b, &id, (&pair[0].0, pair[0].1), (&pair[1].0, pair[1].1));
            next.push((id, "combined_text"));
        }
        level = next;
    }
    output(&mut b, &level[0].0, level[0].1);
    b.build()
}

fn parallelism(c: &mut Criterion) {
    let graph = Arc::new(CompiledGraph::parse(&burn_wide()).unwrap());
    let mut group = c.benchmark_group("cpu_wide_64x1ms");
    group.sample_size(10);
    let mut means = Vec::new();
    for arbiters in [1usize, 2] {
        let rig = Rig::new(arbiters);
        group.bench_function(BenchmarkId::new("arbiters", arbiters), |b| b.iter(|| rig.run(&graph, Mode::Run)));
        let t = Instant::now();
        for _ in 0..10 {
            rig.run(&graph, Mode::Run);
        }
        means.push(t.elapsed() / 10);
    }
    group.finish();
    println!(
        "cpu_wide_64x1ms: 1 arbiter {:.1} ms, 2 arbiters {:.1} ms, speed-up {:.2}x",
        means[0].as_secs_f64() * 1e3,
        means[1].as_secs_f64() * 1e3,
        means[0].as_secs_f64() / means[1].as_secs_f64()
    );
}

/// Branch A sleeps 100 ms; branch B → C sleep 10 ms each; all join at the output.
fn uneven_diamond(c: &mut Criterion) {
    let mut b = FlowBuilder::new();
    input(&mut b);
    for (id, ms, from, out) in [
        ("Delay-A", 100, "ChatInput-in", "message"),
        ("Delay-B", 10, "ChatInput-in", "message"),
        ("Delay-C", 10, "Delay-B", "output"),
    ] {
        b.node(id, "Delay", json!({"milliseconds": ms, "input_value": ""}));
        b.edge(from, out, id, "input_value");
    }
    combine(&mut b, "CombineText-j", ("Delay-A", "output"), ("Delay-C", "output"));
    output(&mut b, "CombineText-j", "combined_text");
    let graph = Arc::new(CompiledGraph::parse(&b.build()).unwrap());
    let rig = Rig::new(2);
    let req = BuildRequest::build(Uuid::new_v4()).with_input("x");
    let start = Instant::now();
    let (events, outcome) = rig.system.block_on(rig.engine.start(graph.clone(), req).unwrap().collect());
    outcome.unwrap();
    let mut order = Vec::new();
    for e in &events {
        if e.name == "end_vertex" {
            order.push(e.data["build_data"]["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    let pos = |id: &str| order.iter().position(|o| o == id).unwrap();
    println!(
        "uneven_diamond: total {:.1} ms (critical path 100 ms, sum of Langflow layers 110 ms); C finished before A: {}",
        start.elapsed().as_secs_f64() * 1e3,
        pos("Delay-C") < pos("Delay-A")
    );
    let mut group = c.benchmark_group("uneven_diamond");
    group.sample_size(10);
    group.bench_function("build", |bch| bch.iter(|| rig.run(&graph, Mode::Build)));
    group.finish();
}

fn compile_cache(c: &mut Criterion) {
    let rig = Rig::new(2);
    let flow = wide(100);
    let bytes = serde_json::to_vec(&flow).unwrap();
    let hash = flowactor_actors::engine::content_hash(&bytes);
    let flow_id = Uuid::new_v4();
    let mut group = c.benchmark_group("compiled_graph_cache_100");
    group.bench_function("first_run_parse_and_run", |b| {
        b.iter(|| {
            let g = Arc::new(CompiledGraph::parse(&serde_json::from_slice::<Value>(&bytes).unwrap()).unwrap());
            rig.run(&g, Mode::Run);
        });
    });
    rig.engine.compile(flow_id, hash, &flow).unwrap();
    group.bench_function("repeated_run_cached", |b| {
        b.iter(|| {
            let g = rig.engine.cached(flow_id, hash).unwrap();
            rig.run(&g, Mode::Run);
        });
    });
    group.finish();
}

criterion_group!(benches, shapes, parallelism, uneven_diamond, compile_cache);
criterion_main!(benches);
