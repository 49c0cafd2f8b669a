// The wasm engine in Node against the native CLI: every preset must give the same
// trace, event for event, and the engine's error paths must answer, not crash.
//
// Needs build/native/bin/pollscope (the CLI) and web/public/engine/pollscope-engine.{js,wasm}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeEngine } from '../../web/src/engine/node.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const presetsDir = path.join(root, 'web/presets');
const cli = process.env.POLLSCOPE_CLI || path.join(root, 'build/native/bin/pollscope');
const presets = readdirSync(presetsDir).filter((f) => f.endsWith('.scn')).sort();
const engine = await createNodeEngine();

function nativeRun(file) {
  try {
    return JSON.parse(execFileSync(cli, ['run', file, '--format', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  } catch (error) {
    // Exit 1 (stalled, budget exhausted) still prints the run.
    if (error.status === 1) return JSON.parse(error.stdout);
    throw error;
  }
}

test('the presets index lists every preset file once', () => {
  const index = JSON.parse(readFileSync(path.join(presetsDir, 'index.json'), 'utf8'));
  assert.deepEqual(index.map((p) => p.file).sort(), presets);
  for (const p of index) {
    assert.ok(p.title.length > 0, `${p.file} has a title`);
    assert.ok(p.explanation.length > 80, `${p.file} has a paragraph of explanation`);
  }
});

for (const file of presets) {
  test(`preset ${file} gives the same trace natively and in wasm`, () => {
    const text = readFileSync(path.join(presetsDir, file), 'utf8');
    const native = nativeRun(path.join(presetsDir, file));
    const loaded = engine.load(text);
    assert.equal(loaded.ok, true, JSON.stringify(loaded.errors));
    assert.deepEqual(loaded.warnings, []);
    assert.equal(loaded.eventCount, native.events.length);
    const events = [];
    for (let from = 0; from < loaded.eventCount; from += 5000) events.push(...engine.events(from, from + 5000));
    assert.deepEqual(events, native.events);
    assert.deepEqual(engine.status(), native.status);
  });
}

test('the lost-wakeup preset stalls naming the line of lose_waker', () => {
  engine.load(readFileSync(path.join(presetsDir, 'lost-wakeup.scn'), 'utf8'));
  const status = engine.status();
  assert.equal(status.status, 'stalled');
  assert.deepEqual(status.stuck.map((s) => [s.name, s.line]), [['main', 7], ['worker', 11]]);
});

test('a snapshot carries the caption, the queue and the task states of its step', () => {
  engine.load('task main\n  spawn a\n  join a\ntask a\n  count 2\n');
  const s = engine.snapshot(2);
  assert.equal(s.step, 2);
  assert.deepEqual(s.queues, [[1]]);
  assert.equal(s.tasks[0].state, 'scheduled');
  assert.equal(s.caption, 'main joins the back of the run queue (1 queued); it is polled when it reaches the front.');
});

test('a scenario error reports line, column, message and hint and keeps the last run', () => {
  engine.load('task main\n  count 1\n');
  const before = engine.eventCount();
  const result = engine.load('task main\n  cont 1\n');
  assert.equal(result.ok, false);
  assert.deepEqual(result.errors[0].line, 2);
  assert.deepEqual(result.errors[0].column, 3);
  assert.equal(result.errors[0].message, 'unknown operation "cont"');
  assert.equal(engine.eventCount(), before);
});

test('threads real is refused by the single-threaded build with the reason', () => {
  const result = engine.load('executor thread_pool\nclock real\nthreads real\ntask main\n  count 1\n');
  assert.equal(result.ok, false);
  assert.match(result.errors[0].message, /not cross-origin isolated/);
  assert.match(result.errors[0].hint, /threads simulated/);
});

test('oversized and hostile input gets a clear error, never a crash', () => {
  const huge = engine.load('task main\n' + '  count 1\n'.repeat(100000));
  assert.equal(huge.ok, false);
  assert.match(huge.errors[0].message, /the limit is 16384 bytes/);
  const binary = engine.load('\u0000\u00ff\ud800<script>alert(1)</script>');
  assert.equal(binary.ok, false);
  assert.ok(binary.errors.length > 0);
  const html = engine.load('task <img src=x onerror=alert(1)>\n  count 1\n');
  assert.equal(html.ok, false);
  assert.ok(html.errors.every((e) => typeof e.message === 'string'));
});

test('a run that never ends stops at its event budget', () => {
  const result = engine.load('max_events 1000\ntask main\n  count 1000000\n');
  assert.equal(result.ok, true);
  assert.equal(result.eventCount, 1000);
  assert.equal(result.status.status, 'budget exhausted');
});

test('the form editor round trip keeps the scenario', () => {
  const text = readFileSync(path.join(presetsDir, 'ping-pong.scn'), 'utf8');
  const json = engine.jsonFromText(text);
  assert.equal(json.ok, true);
  const back = engine.textFromJson(json.scenario);
  assert.equal(back.ok, true);
  assert.deepEqual(engine.jsonFromText(back.text).scenario.tasks.map((t) => t.ops.length), [6, 4]);
});

test('the real-thread limit on repeated spawns is applied by the CLI and the wasm engine alike', () => {
  // 16 calls of f, whose spawn of x then runs 16 times: 17 threads (scenario validation).
  const text = `executor thread_per_task\nclock real\nthreads real\n\ntask main\n${'  call f\n'.repeat(16)}\n` +
    'task f\n  spawn x\n\ntask x\n  sleep 1ms\n';
  const message = 'threads real with executor thread_per_task starts a real thread at every spawn: this one runs 16 ' +
    'times, as task "f" runs 16 times, so the run starts 17 threads; the limit is 16';
  const hint = 'the browser runs each real thread in a Web Worker of a fixed pool; spawn fewer tasks, use ' +
    '"executor thread_pool", or use "threads simulated"';
  const loaded = engine.load(text);
  assert.equal(loaded.ok, false);
  assert.deepEqual(loaded.errors, [{ line: 24, column: 3, message, hint }]);
  let native;
  try {
    execFileSync(cli, ['run', '-'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    assert.fail('the CLI ran it');
  } catch (error) {
    native = error;
  }
  assert.equal(native.status, 2);
  assert.equal(native.stderr, `<stdin>:24:3: error: ${message}\nhint: ${hint}\n`);
});
