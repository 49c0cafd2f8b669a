//! The peer benchmarks on tokio (and futures::executor::block_on): the same
//! workloads, sizes and output format as bench/bench.cpp. bench/run.mjs runs it
//! with `--peers`; bench/README.md says how each workload maps to pollscope's.
//!
//! Usage: pollscope-peer-tokio [--smoke] [--runs N] [--warmup N] [--only NAME]
//! Prints one JSON document on stdout; exits 1 when a workload computes a wrong result.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::runtime::{Builder, Runtime};
use tokio::sync::mpsc;

/// Workload sizes: the full run, or the smoke run (same shapes, tiny).
struct Sizes {
    spawn_many: u64,
    yield_tasks: u64,
    yields_per_task: u64,
    ping_pong: u64,
    chained_spawn: u64,
    block_on_ready: u64,
    block_on_yield: u64,
}

const FULL: Sizes = Sizes {
    spawn_many: 100_000,
    yield_tasks: 100,
    yields_per_task: 10_000,
    ping_pong: 100_000,
    chained_spawn: 10_000,
    block_on_ready: 1_000_000,
    block_on_yield: 100_000,
};

const SMOKE: Sizes = Sizes {
    spawn_many: 1_000,
    yield_tasks: 10,
    yields_per_task: 100,
    ping_pong: 1_000,
    chained_spawn: 100,
    block_on_ready: 10_000,
    block_on_yield: 1_000,
};

/// Pending `left` times (waking itself each time), then Ready: block_on_yield's future,
/// like bench.cpp's SelfWaking.
struct SelfWaking {
    left: u32,
}

impl Future for SelfWaking {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.left == 0 {
            return Poll::Ready(());
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

async fn spawn_many(n: u64) -> u64 {
    let mut handles = Vec::with_capacity(n as usize);
    for i in 0..n {
        handles.push(tokio::spawn(async move { i }));
    }
    let mut sum = 0;
    for h in handles {
        sum += h.await.unwrap();
    }
    sum
}

async fn yield_many(tasks: u64, yields: u64) -> u64 {
    let mut handles = Vec::with_capacity(tasks as usize);
    for _ in 0..tasks {
        handles.push(tokio::spawn(async move {
            for _ in 0..yields {
                tokio::task::yield_now().await;
            }
            yields
        }));
    }
    let mut sum = 0;
    for h in handles {
        sum += h.await.unwrap();
    }
    sum
}

async fn ping_pong(n: u64) -> u64 {
    let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
    let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
    let ponger = tokio::spawn(async move {
        let mut count = 0u64;
        while let Some(v) = ping_rx.recv().await {
            pong_tx.send(v + 1).await.unwrap();
            count += 1;
        }
        count
    });
    let pinger = tokio::spawn(async move {
        let mut sum = 0u64;
        for i in 0..n {
            ping_tx.send(i).await.unwrap();
            sum += pong_rx.recv().await.unwrap();
        }
        sum
    });
    let sum = pinger.await.unwrap();
    let count = ponger.await.unwrap();
    if count == n {
        sum
    } else {
        u64::MAX
    }
}

/// A task that spawns the next level and awaits it; boxed because it recurses.
fn chain(depth: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            0
        } else {
            tokio::spawn(chain(depth - 1)).await.unwrap() + 1
        }
    })
}

struct Result {
    workload: &'static str,
    executor: &'static str,
    ops: u64,
    ok: bool,
    samples: Vec<f64>,
}

struct Harness {
    runs: usize,
    warmup: usize,
    only: Option<String>,
    results: Vec<Result>,
}

impl Harness {
    /// Runs `body` warmup + runs times; each run returns the check value, which must equal `expected`.
    fn measure(&mut self, workload: &'static str, executor: &'static str, ops: u64, expected: u64, mut body: impl FnMut() -> u64) {
        if let Some(only) = &self.only {
            if only != workload {
                return;
            }
        }
        let mut ok = true;
        let mut samples = Vec::with_capacity(self.runs);
        for run in 0..self.warmup + self.runs {
            let start = Instant::now();
            let got = body();
            let ns = start.elapsed().as_nanos() as f64;
            if got != expected {
                eprintln!("{workload} on {executor}: got {got}, expected {expected}");
                ok = false;
            }
            if run >= self.warmup {
                samples.push(ns / ops as f64);
            }
        }
        self.results.push(Result { workload, executor, ops, ok, samples });
    }
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread().worker_threads(workers).build().unwrap()
}

/// The four task workloads on `rt`, each as one root task (like pollscope's harness).
fn task_workloads(h: &mut Harness, s: &Sizes, rt: &Runtime, executor: &'static str) {
    let n = s.spawn_many;
    h.measure("spawn_many", executor, n, n * (n - 1) / 2, || {
        rt.block_on(async move { tokio::spawn(spawn_many(n)).await.unwrap() })
    });
    let (tasks, yields) = (s.yield_tasks, s.yields_per_task);
    h.measure("yield_many", executor, tasks * yields, tasks * yields, || {
        rt.block_on(async move { tokio::spawn(yield_many(tasks, yields)).await.unwrap() })
    });
    let n = s.ping_pong;
    h.measure("ping_pong", executor, n, n * (n + 1) / 2, || {
        rt.block_on(async move { tokio::spawn(ping_pong(n)).await.unwrap() })
    });
    let n = s.chained_spawn;
    h.measure("chained_spawn", executor, n, n, || {
        rt.block_on(async move { tokio::spawn(chain(n)).await.unwrap() })
    });
}

fn main() {
    let mut smoke = false;
    let mut runs = 7usize;
    let mut warmup = 1usize;
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--smoke" => smoke = true,
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--warmup" => warmup = args.next().and_then(|v| v.parse().ok()).expect("--warmup N"),
            "--only" => only = args.next(),
            _ => {
                eprintln!("usage: pollscope-peer-tokio [--smoke] [--runs N] [--warmup N] [--only WORKLOAD]");
                std::process::exit(2);
            }
        }
    }
    let s = if smoke { &SMOKE } else { &FULL };
    let mut h = Harness { runs, warmup, only, results: Vec::new() };

    let ct = current_thread();
    task_workloads(&mut h, s, &ct, "tokio_current_thread");
    let mt = multi_thread(2);
    task_workloads(&mut h, s, &mt, "tokio_multi_thread_2");
    drop(mt);

    let n = s.block_on_ready;
    h.measure("block_on_ready", "tokio_current_thread", n, n * (n - 1) / 2, || {
        let mut sum = 0u64;
        for i in 0..n {
            sum += ct.block_on(async move { black_box(i) });
        }
        sum
    });
    h.measure("block_on_ready", "futures_block_on", n, n * (n - 1) / 2, || {
        let mut sum = 0u64;
        for i in 0..n {
            sum += futures::executor::block_on(async move { black_box(i) });
        }
        sum
    });
    let n = s.block_on_yield;
    h.measure("block_on_yield", "tokio_current_thread", n, n, || {
        let mut done = 0u64;
        for _ in 0..n {
            ct.block_on(SelfWaking { left: black_box(10) });
            done += 1;
        }
        done
    });
    h.measure("block_on_yield", "futures_block_on", n, n, || {
        let mut done = 0u64;
        for _ in 0..n {
            futures::executor::block_on(SelfWaking { left: black_box(10) });
            done += 1;
        }
        done
    });

    let mut out = String::from("{\"program\":\"tokio\",\"version\":\"tokio 1.24 (Debian)\",\"results\":[");
    for (i, r) in h.results.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let samples: Vec<String> = r.samples.iter().map(|v| format!("{v:.3}")).collect();
        out.push_str(&format!(
            "{{\"workload\":\"{}\",\"executor\":\"{}\",\"ops\":{},\"ok\":{},\"ns_per_op\":[{}]}}",
            r.workload,
            r.executor,
            r.ops,
            r.ok,
            samples.join(",")
        ));
    }
    out.push_str("]}");
    println!("{out}");
    if h.results.iter().any(|r| !r.ok) {
        std::process::exit(1);
    }
}
