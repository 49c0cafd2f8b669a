// The JavaScript-promise peer: the workloads of bench/bench.cpp written the way
// JavaScript would (an async function call is a spawn, `await` of a promise is a
// join, `await null` is a yield), run by Node's own microtask queue. bench/README.md
// maps each one to pollscope's.
//
// Usage: node bench/promises.mjs [--smoke] [--runs N] [--warmup N] [--only WORKLOAD]
// Prints one JSON document on stdout (the format of bench/bench.cpp); exits 1 when
// a workload computes a wrong result.
import { performance } from 'node:perf_hooks';

const FULL = {
  spawn_many: 100_000,
  yield_tasks: 100,
  yields_per_task: 10_000,
  ping_pong: 100_000,
  chained_spawn: 10_000,
  block_on_ready: 1_000_000,
  block_on_yield: 100_000,
};
const SMOKE = {
  spawn_many: 1_000,
  yield_tasks: 10,
  yields_per_task: 100,
  ping_pong: 1_000,
  chained_spawn: 100,
  block_on_ready: 10_000,
  block_on_yield: 1_000,
};

/// A bounded channel like pollscope::channel: a buffer, one waiting receiver,
/// a FIFO of waiting senders; `close()` is the last sender going away.
class Channel {
  constructor(capacity) {
    this.capacity = capacity;
    this.buffer = [];
    this.receiver = null;
    this.senders = [];
    this.closed = false;
  }
  async send(value) {
    while (this.buffer.length >= this.capacity) {
      await new Promise((resolve) => this.senders.push(resolve));
    }
    this.buffer.push(value);
    this.#wakeReceiver();
    return true;
  }
  async recv() {
    while (this.buffer.length === 0) {
      if (this.closed) return undefined;
      await new Promise((resolve) => {
        this.receiver = resolve;
      });
    }
    const value = this.buffer.shift();
    if (this.senders.length > 0) this.senders.shift()();
    return value;
  }
  close() {
    this.closed = true;
    this.#wakeReceiver();
  }
  #wakeReceiver() {
    const r = this.receiver;
    if (r) {
      this.receiver = null;
      r();
    }
  }
}

async function indexTask(i) {
  return i;
}

async function spawnMany(n) {
  const tasks = new Array(n);
  for (let i = 0; i < n; i++) tasks[i] = indexTask(i);
  let sum = 0;
  for (const v of await Promise.all(tasks)) sum += v;
  return sum;
}

async function yielder(yields) {
  for (let k = 0; k < yields; k++) await null;
  return yields;
}

async function yieldMany(tasks, yields) {
  const all = [];
  for (let t = 0; t < tasks; t++) all.push(yielder(yields));
  let sum = 0;
  for (const v of await Promise.all(all)) sum += v;
  return sum;
}

async function ponger(rx, tx) {
  let count = 0;
  for (;;) {
    const v = await rx.recv();
    if (v === undefined) return count;
    await tx.send(v + 1);
    count++;
  }
}

async function pinger(tx, rx, n) {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    await tx.send(i);
    sum += await rx.recv();
  }
  tx.close();
  return sum;
}

async function pingPong(n) {
  const ping = new Channel(1);
  const pong = new Channel(1);
  const [count, sum] = await Promise.all([ponger(ping, pong), pinger(ping, pong, n)]);
  return count === n ? sum : 0;
}

/// Starts `fn(arg)` from the microtask queue, the way a spawned task starts from
/// the run queue. (A direct call would run the child at once, inside the parent:
/// 10,000 nested calls overflow Node's stack.)
function spawn(fn, arg) {
  return Promise.resolve(arg).then(fn);
}

async function chain(depth) {
  if (depth === 0) return 0;
  return (await spawn(chain, depth - 1)) + 1;
}

async function blockOnReady(n) {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await i;
  return sum;
}

/// Ten yields, then done: block_on_yield's future (Pending 10 times, waking itself).
async function selfWaking() {
  for (let k = 0; k < 10; k++) await null;
}

async function blockOnYield(n) {
  let done = 0;
  for (let i = 0; i < n; i++) {
    await selfWaking();
    done++;
  }
  return done;
}

function parseArgs(argv) {
  const opts = { smoke: false, runs: 7, warmup: 1, only: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--smoke') opts.smoke = true;
    else if ((a === '--runs' || a === '--warmup') && i + 1 < argv.length) opts[a.slice(2)] = Number(argv[++i]);
    else if (a === '--only' && i + 1 < argv.length) opts.only = argv[++i];
    else {
      console.error('usage: node bench/promises.mjs [--smoke] [--runs N] [--warmup N] [--only WORKLOAD]');
      process.exit(2);
    }
  }
  if (!(opts.runs >= 1) || !(opts.warmup >= 0)) {
    console.error('--runs must be >= 1 and --warmup >= 0');
    process.exit(2);
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const s = opts.smoke ? SMOKE : FULL;
  const results = [];
  async function measure(workload, ops, expected, body) {
    if (opts.only && opts.only !== workload) return;
    const r = { workload, executor: 'promises', ops, ok: true, ns_per_op: [] };
    for (let run = 0; run < opts.warmup + opts.runs; run++) {
      const start = performance.now();
      const got = await body();
      const ns = (performance.now() - start) * 1e6;
      if (got !== expected) {
        r.ok = false;
        console.error(`${workload} on promises: got ${got}, expected ${expected}`);
      }
      if (run >= opts.warmup) r.ns_per_op.push(Number((ns / ops).toFixed(3)));
    }
    results.push(r);
  }
  const n = s.spawn_many;
  await measure('spawn_many', n, (n * (n - 1)) / 2, () => spawnMany(n));
  const ops = s.yield_tasks * s.yields_per_task;
  await measure('yield_many', ops, ops, () => yieldMany(s.yield_tasks, s.yields_per_task));
  const pp = s.ping_pong;
  await measure('ping_pong', pp, (pp * (pp + 1)) / 2, () => pingPong(pp));
  const depth = s.chained_spawn;
  await measure('chained_spawn', depth, depth, () => chain(depth));
  const ready = s.block_on_ready;
  await measure('block_on_ready', ready, (ready * (ready - 1)) / 2, () => blockOnReady(ready));
  const yields = s.block_on_yield;
  await measure('block_on_yield', yields, yields, () => blockOnYield(yields));

  console.log(JSON.stringify({ program: 'promises', version: `node ${process.version}`, results }));
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

await main();
