#!/usr/bin/env node
// npm run bench [-- --peers] — pollscope's benchmarks against their peers.
//
//   node bench/run.mjs [--smoke] [--peers] [--rounds N] [--runs N] [--warmup N] [--only WORKLOAD] [--no-wasm]
//
// Builds and runs bench/bench.cpp natively (build/bench, g++ -O2 -DNDEBUG) and as
// wasm under this Node (build/bench-wasm, em++ -O2 -fwasm-exceptions), runs the
// JavaScript-promise versions (bench/promises.mjs) in this Node and, with --peers,
// the tokio versions (bench/tokio, built offline against Debian's crates). The
// programs run in rounds, one after the other, each round a warm-up and --runs timed
// runs per workload, and the samples of all rounds are pooled: every program sees the
// same conditions (a shared machine's load changes by the minute). Prints a table
// (median and min ns per operation, ratios to the peers measured in this run)
// and every goal of bench/README.md, met or missed and by how much; writes
// build/bench/results.json (--smoke: build/bench/results-smoke.json).
//
// Exit status: 1 when a build fails, a program crashes, a workload computes a wrong
// result or a result is missing; 0 otherwise. Timings never fail a run (--smoke runs
// tiny sizes and is meant for `npm test`; its timings mean nothing).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = join(ROOT, 'build', 'bench');
const CARGO_REGISTRY = '/usr/share/cargo/registry';

/// Operations per run, full and smoke; every program must report these (same
/// sizes everywhere, so results compare across runs and peers).
const WORKLOADS = {
  spawn_many: { full: 100_000, smoke: 1_000, op: 'spawned task (spawn + join)' },
  yield_many: { full: 1_000_000, smoke: 1_000, op: 'yield (100 tasks x 10,000)' },
  ping_pong: { full: 100_000, smoke: 1_000, op: 'round trip over two capacity-1 channels' },
  chained_spawn: { full: 10_000, smoke: 100, op: 'level (spawn + join, nested)' },
  block_on_ready: { full: 1_000_000, smoke: 10_000, op: 'block_on of a ready future' },
  block_on_yield: { full: 100_000, smoke: 1_000, op: 'block_on of 10 self-woken Pendings' },
  clock_read: { full: 1_000_000, smoke: 1_000, op: 'read of the clock a traced poll stamps its events with' },
};

/// Table rows: our configuration, and where its peers are.
const ROWS = [
  ...['spawn_many', 'yield_many', 'ping_pong', 'chained_spawn'].map((w) => ({
    workload: w, executor: 'local', label: 'LocalExecutor', tokio: 'tokio_current_thread', js: true,
  })),
  { workload: 'yield_many', executor: 'local_traced', label: 'Local + TraceRecorder', tokio: 'tokio_current_thread', js: true },
  ...['spawn_many', 'yield_many', 'ping_pong', 'chained_spawn'].map((w) => ({
    workload: w, executor: 'thread_pool_2', label: 'ThreadPool(2)', tokio: 'tokio_multi_thread_2', js: false, nativeOnly: true,
  })),
  ...['block_on_ready', 'block_on_yield'].map((w) => ({
    workload: w, executor: 'block_on', label: 'block_on', tokio: 'tokio_current_thread', futures: 'futures_block_on', js: true,
  })),
  // No peer: the floor under tracing's cost per poll (see the tracing goals).
  { workload: 'clock_read', executor: 'trace_clock', label: 'trace clock', js: false, reference: true },
];

function parseArgs(argv) {
  const o = { smoke: false, peers: false, rounds: null, runs: null, warmup: null, only: '', wasm: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--smoke') o.smoke = true;
    else if (a === '--peers') o.peers = true;
    else if (a === '--no-wasm') o.wasm = false;
    else if ((a === '--rounds' || a === '--runs' || a === '--warmup') && i + 1 < argv.length) o[a.slice(2)] = Number(argv[++i]);
    else if (a === '--only' && i + 1 < argv.length) o.only = argv[++i];
    else {
      console.error('usage: node bench/run.mjs [--smoke] [--peers] [--rounds N] [--runs N] [--warmup N] [--only WORKLOAD] [--no-wasm]');
      process.exit(2);
    }
  }
  if (o.only && !WORKLOADS[o.only]) {
    console.error(`unknown workload '${o.only}' (one of ${Object.keys(WORKLOADS).join(', ')})`);
    process.exit(2);
  }
  // Full runs: 3 rounds of a warm-up and 3 timed runs (9 samples per workload).
  // Smoke: one round of a warm-up and one run (the second run on the same executor
  // is part of what it checks).
  o.rounds ??= o.smoke ? 1 : 3;
  o.runs ??= o.smoke ? 1 : 3;
  o.warmup ??= 1;
  if (!(o.rounds >= 1) || !(o.runs >= 1) || !(o.warmup >= 0) || (!o.smoke && o.rounds * o.runs < 5)) {
    console.error('need --rounds >= 1, --runs >= 1, --warmup >= 0, and for a full run rounds x runs >= 5 samples');
    process.exit(2);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const failures = [];
const notes = [];
const log = (...a) => console.error(...a); // progress on stderr; the table on stdout

function run(cmd, args, { cwd = ROOT, env = process.env, capture = false } = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : ['ignore', 2, 2],
  });
  if (r.error) return { ok: false, status: null, stdout: '', why: r.error.message };
  return { ok: r.status === 0, status: r.status, stdout: r.stdout ?? '', why: r.signal ? `killed by ${r.signal}` : `exit ${r.status}` };
}

/// Runs one benchmark program; returns its parsed results (or null).
function runProgram(name, cmd, args, options = {}) {
  const benchArgs = [...(opts.smoke ? ['--smoke'] : []), '--runs', String(opts.runs), '--warmup', String(opts.warmup)];
  if (opts.only) benchArgs.push('--only', opts.only);
  log(`== run ${name}: ${[cmd, ...args, ...benchArgs].join(' ')}`);
  const r = run(cmd, [...args, ...benchArgs], { ...options, capture: true });
  let doc = null;
  try {
    doc = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    // reported below
  }
  if (!r.ok) failures.push(`${name}: ${r.why}${doc ? ' (wrong results, see above)' : ''}`);
  if (!doc) {
    failures.push(`${name}: no JSON result on stdout`);
    return null;
  }
  for (const res of doc.results) {
    const w = WORKLOADS[res.workload];
    const want = w && (opts.smoke ? w.smoke : w.full);
    if (want !== res.ops) failures.push(`${name}: ${res.workload} ran ${res.ops} operations, expected ${want}`);
    if (!res.ok) failures.push(`${name}: ${res.workload} on ${res.executor} computed a wrong result`);
  }
  return doc;
}

function build(what) {
  log(`== build ${what}`);
  const r = run('bash', [join(ROOT, 'bench', 'build.sh'), what]);
  if (!r.ok) failures.push(`build ${what}: ${r.why}`);
  return r.ok;
}

/// tokio: cargo plus Debian's librust-tokio-dev and librust-futures-dev. Builds the
/// peer; returns its program, or why it is skipped.
function tokioPeer() {
  const cargo = run('cargo', ['--version'], { capture: true });
  if (!cargo.ok) return { skipped: 'cargo is not installed (the tokio peer needs it; see bench/README.md)' };
  const crates = existsSync(CARGO_REGISTRY) ? readdirSync(CARGO_REGISTRY) : [];
  const missing = ['tokio-1.', 'futures-0.3', 'futures-executor-0.3'].filter((p) => !crates.some((c) => c.startsWith(p)));
  if (missing.length) {
    return {
      skipped: `Debian's crates are missing in ${CARGO_REGISTRY} (${missing.join(', ')}): apt-get install -y librust-tokio-dev librust-futures-dev`,
    };
  }
  const target = join(ROOT, 'build', 'bench-tokio');
  log(`== build tokio peer (${cargo.stdout.trim()}, offline, Debian crates)`);
  const b = run('cargo', ['build', '--release', '--offline', '--quiet'], {
    cwd: join(ROOT, 'bench', 'tokio'),
    env: { ...process.env, CARGO_TARGET_DIR: target },
  });
  if (!b.ok) {
    failures.push(`build tokio peer: ${b.why}`);
    return { skipped: 'the tokio peer did not build' };
  }
  return { program: { name: 'tokio', cmd: join(target, 'release', 'pollscope-peer-tokio'), args: [] }, cargo: cargo.stdout.trim() };
}

// --- build everything, then run the programs in rounds ---------------------------------
const programs = [];
if (build('native')) programs.push({ name: 'native', cmd: join(ROOT, 'build', 'bench', 'bin', 'pollscope_bench'), args: [] });
if (!opts.wasm) notes.push('wasm: skipped (--no-wasm)');
else if (build('wasm')) {
  programs.push({
    name: 'wasm',
    cmd: process.execPath,
    // Emscripten 3.1.6 fetch()es the .wasm by path unless fetch is off.
    args: ['--no-experimental-fetch', join(ROOT, 'build', 'bench-wasm', 'bin', 'pollscope_bench.js')],
  });
}
programs.push({ name: 'promises', cmd: process.execPath, args: [join(ROOT, 'bench', 'promises.mjs')] });
let cargoVersion = null;
if (opts.peers) {
  const t = tokioPeer();
  if (t.skipped) notes.push(`tokio: skipped: ${t.skipped}`);
  if (t.program) programs.push(t.program);
  cargoVersion = t.cargo ?? null;
} else {
  notes.push('tokio: not run (add --peers)');
}

/// Pools the samples of one more round into `into` (a result that went wrong stays wrong).
function merge(into, doc) {
  if (!into) return structuredClone(doc);
  for (const r of doc.results) {
    const have = into.results.find((x) => x.workload === r.workload && x.executor === r.executor);
    if (!have) into.results.push(structuredClone(r));
    else {
      have.ok = have.ok && r.ok;
      have.ns_per_op.push(...r.ns_per_op);
    }
  }
  return into;
}

const docs = {};
const broken = new Set();
for (let round = 1; round <= opts.rounds; round++) {
  for (const p of programs) {
    if (broken.has(p.name)) continue;
    const doc = runProgram(p.name, p.cmd, p.args);
    if (doc) docs[p.name] = merge(docs[p.name], doc);
    else broken.add(p.name);  // crashed or printed nothing: reported once
  }
}

// --- statistics -------------------------------------------------------------------
function stats(doc, workload, executor) {
  const r = doc?.results.find((x) => x.workload === workload && x.executor === executor);
  if (!r || !r.ok || r.ns_per_op.length === 0) return null;
  const s = [...r.ns_per_op].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], samples: r.ns_per_op };
}

const rows = ROWS.filter((row) => !opts.only || row.workload === opts.only).map((row) => {
  const out = {
    workload: row.workload,
    executor: row.executor,
    label: row.label,
    native: stats(docs.native, row.workload, row.executor),
    wasm: row.nativeOnly ? null : stats(docs.wasm, row.workload, row.executor),
    promises: row.js ? stats(docs.promises, row.workload, 'promises') : null,
    tokio: stats(docs.tokio, row.workload, row.tokio),
    tokio_executor: row.tokio,
    futures: row.futures ? stats(docs.tokio, row.workload, row.futures) : null,
  };
  // A result our programs should have produced but did not: the benchmark rotted.
  if (!out.native && docs.native) failures.push(`native: no result for ${row.workload} on ${row.executor}`);
  if (!row.nativeOnly && !out.wasm && docs.wasm) failures.push(`wasm: no result for ${row.workload} on ${row.executor}`);
  return out;
});

// --- goals (bench/README.md); medians of this run ------------------------------------
const goals = [];
const find = (w, e) => rows.find((r) => r.workload === w && r.executor === e);
/// `value` ≤ `limit` × `peer` (or ≤ peer + `plusNs`).
/// `floor`: what one clock read costs, printed with the tracing goals (a traced
/// poll reads the clock once).
function goal(text, value, peer, { factor = null, plusNs = null, needs = '', floor = null } = {}) {
  if (value == null || peer == null) {
    goals.push({ goal: text, status: 'n/a', detail: needs || 'not measured in this run' });
    return;
  }
  const limit = factor != null ? factor * peer : peer + plusNs;
  const ratio = value / peer;
  const met = value <= limit;
  const detail =
    factor != null
      ? `${fmtRatio(ratio)} (${fmt(value)} vs ${fmt(peer)} ns)${met ? '' : `: missed by ${pct(value / limit - 1)} (needs ${fmt(value - limit)} ns/op less)`}`
      : `${fmt(value)} vs ${fmt(peer)} + ${plusNs} ns${met ? '' : `: missed by ${fmt(value - limit)} ns`}`;
  const withFloor = floor == null ? detail : `${detail}; the clock read alone: ${fmt(floor)} ns`;
  goals.push({ goal: text, status: met ? 'met' : 'missed', value, peer, limit, ratio, detail: withFloor });
}
if (!opts.smoke) {
  const noTokio = docs.tokio ? '' : 'needs --peers (tokio)';
  for (const w of ['spawn_many', 'yield_many', 'ping_pong', 'chained_spawn']) {
    const r = find(w, 'local');
    goal(`${w}: LocalExecutor <= 0.5x tokio current_thread`, r?.native?.median, r?.tokio?.median, { factor: 0.5, needs: noTokio });
  }
  const ready = find('block_on_ready', 'block_on');
  goal('block_on_ready: block_on <= futures::block_on + 2 ns', ready?.native?.median, ready?.futures?.median, { plusNs: 2, needs: noTokio });
  for (const [w, f] of [['spawn_many', 1], ['yield_many', 1], ['chained_spawn', 1], ['ping_pong', 0.5]]) {
    const r = find(w, 'thread_pool_2');
    goal(`${w}: ThreadPool(2) <= ${f}x tokio multi_thread(2)`, r?.native?.median, r?.tokio?.median, { factor: f, needs: noTokio });
  }
  const spec = (x) => ROWS.find((y) => y.workload === x.workload && y.executor === x.executor);
  for (const r of rows.filter((x) => !spec(x).nativeOnly && !spec(x).reference)) {
    goal(`${r.workload} (${r.label}): wasm <= 2x native`, r.wasm?.median, r.native?.median, { factor: 2, needs: opts.wasm ? '' : 'needs the wasm build' });
  }
  for (const w of ['spawn_many', 'yield_many', 'ping_pong', 'chained_spawn']) {
    const r = find(w, 'local');
    goal(`${w}: wasm LocalExecutor <= 0.5x JS promises`, r?.wasm?.median, r?.promises?.median, { factor: 0.5 });
  }
  const on = find('yield_many', 'local_traced');
  const off = find('yield_many', 'local');
  const clock = find('clock_read', 'trace_clock');
  goal('yield_many: tracing on <= 2x tracing off (native)', on?.native?.median, off?.native?.median, { factor: 2, floor: clock?.native?.median });
  goal('yield_many: tracing on <= 2x tracing off (wasm)', on?.wasm?.median, off?.wasm?.median, { factor: 2, floor: clock?.wasm?.median });
}

// --- output ---------------------------------------------------------------------------
function fmt(v) {
  if (v == null) return '—';
  return v >= 1000 ? v.toFixed(0) : v >= 100 ? v.toFixed(1) : v.toFixed(2);
}
function fmtRatio(v) {
  return v == null ? '—' : `${v.toFixed(2)}x`;
}
function pct(v) {
  return `${(v * 100).toFixed(0)}%`;
}
const ratio = (a, b) => (a && b ? a.median / b.median : null);

const header = ['workload', 'executor', 'native med', 'min', 'wasm med', 'min', 'JS prom.', 'tokio', 'futures', 'nat/tokio', 'wasm/nat', 'wasm/JS'];
const table = rows.map((r) => [
  r.workload,
  r.label,
  fmt(r.native?.median),
  fmt(r.native?.min),
  fmt(r.wasm?.median),
  fmt(r.wasm?.min),
  fmt(r.promises?.median),
  r.tokio ? `${fmt(r.tokio.median)}${r.tokio_executor === 'tokio_multi_thread_2' ? ' (mt2)' : ' (ct)'}` : '—',
  fmt(r.futures?.median),
  fmtRatio(ratio(r.native, r.tokio)),
  fmtRatio(ratio(r.wasm, r.native)),
  fmtRatio(ratio(r.wasm, r.promises)),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
const loadavg = os.loadavg();
console.log(`\npollscope benchmarks${opts.smoke ? ' (SMOKE: tiny sizes, timings meaningless)' : ''}: ns per operation, ` +
  `median and min of ${opts.rounds * opts.runs} runs (${opts.rounds} rounds of a warm-up and ${opts.runs} runs, ` +
  `the programs interleaved); ${os.cpus().length} CPUs ` +
  `(${os.cpus()[0]?.model ?? 'unknown'}), load ${loadavg.map((l) => l.toFixed(1)).join(' ')}`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of table) console.log(line(row));
console.log('\nOne operation: ' + Object.entries(WORKLOADS).map(([w, d]) => `${w} = one ${d.op}`).join('; ') + '.');
if (goals.length) {
  console.log('\nGoals (medians of this run):');
  for (const g of goals) console.log(`  ${g.status === 'met' ? 'MET   ' : g.status === 'missed' ? 'MISSED' : 'n/a   '} ${g.goal}: ${g.detail}`);
  const missed = goals.filter((g) => g.status === 'missed').length;
  console.log(`  ${goals.filter((g) => g.status === 'met').length} met, ${missed} missed, ${goals.filter((g) => g.status === 'n/a').length} not measured`);
}
for (const n of notes) console.log(`note: ${n}`);

mkdirSync(OUT_DIR, { recursive: true });
const file = join(OUT_DIR, opts.smoke ? 'results-smoke.json' : 'results.json');
writeFileSync(
  file,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      mode: opts.smoke ? 'smoke' : 'full',
      rounds: opts.rounds,
      runs: opts.runs,
      warmup: opts.warmup,
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? null, loadavg, node: process.version, cargo: cargoVersion },
      workloads: WORKLOADS,
      rows,
      goals,
      notes,
      failures,
      raw: docs,
    },
    null,
    1,
  ) + '\n',
);
console.log(`results: ${file}`);
if (failures.length) {
  console.log(`\nFAILED:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  process.exitCode = 1;
}
