// Unit tests of the page's core helpers (web/src/core/) and of the engine API's
// find() extension, in Node: no browser needed.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from './helpers.mjs';
import { formatTime, parseDuration, describeStatus } from '../../web/src/core/format.js';
import {
  clampStep, stepLabel, carryStep, playbackAdvance, pairPolls, wakeArrow, fastForwardStride,
} from '../../web/src/core/step-model.js';
import { renderProgram, renderFunction, lineText } from '../../web/src/core/code-render.js';
import { shortcutFor, isTyping } from '../../web/src/core/keyboard.js';
import { computeWarnings } from '../../web/src/core/warnings.js';
import { EventCache } from '../../web/src/core/event-cache.js';

describe('format', () => {
  test('times and durations', () => {
    assert.equal(formatTime(0), '0ns');
    assert.equal(formatTime(5e6), '5ms');
    assert.equal(formatTime(1.25e6), '1.25ms');
    assert.equal(formatTime(1500), '1.5us');
    assert.equal(formatTime(2e9), '2s');
    assert.equal(parseDuration('5ms'), 5e6);
    assert.equal(parseDuration('1_500us'), 1.5e6);
    assert.equal(parseDuration('2µs'), 2000);
    assert.equal(parseDuration('5 parsecs'), null);
  });

  test('status words', () => {
    assert.equal(describeStatus({ status: 'completed', events: 185 }).word, 'completed');
    const stalled = describeStatus({ status: 'stalled', stuck: [{ name: 'main' }, { name: 'worker' }] });
    assert.equal(stalled.word, 'stalled');
    assert.match(stalled.detail, /main, worker/);
    assert.equal(describeStatus({ status: 'budget exhausted', events: 10 }).word, 'budget exhausted');
  });

  test('a run in which a task threw: "failed", the first task and its message, how many failed', () => {
    const one = { status: 'failed', failures: [{ task: 2, name: 'a', step: 7, message: 'resource unavailable' }] };
    assert.deepEqual(describeStatus(one), { word: 'failed', detail: 'a threw an exception: resource unavailable', tone: 'bad' });
    const three = { status: 'failed', failures: [{ task: 2, name: 'a', step: 7, message: 'boom' },
      { task: 1, name: 'main', step: 9, message: 'boom' }, { task: 3, name: 'b', step: 12, message: '' }] };
    assert.deepEqual(describeStatus(three), { word: 'failed', detail: 'a threw an exception: boom (3 tasks failed)', tone: 'bad' });
    assert.deepEqual(describeStatus({ status: 'failed' }), { word: 'failed', detail: 'a task threw an exception', tone: 'bad' });
  });
});

describe('step model', () => {
  test('labels and clamping', () => {
    assert.equal(stepLabel(0, 185), 'Step 0 / 185');
    assert.equal(clampStep(-3, 10), 0);
    assert.equal(clampStep(12, 10), 10);
    assert.equal(clampStep(4.7, 10), 4);
    assert.equal(carryStep(50, 20), 20);
    assert.equal(carryStep(5, 20), 5);
  });

  test('playback advances by speed', () => {
    // 4 steps per second at 1x: 250 ms is one step; 16x: 16 steps.
    assert.deepEqual(playbackAdvance(0, 250, 1), { steps: 1, carry: 0 });
    assert.equal(playbackAdvance(0, 250, 16).steps, 16);
    const slow = playbackAdvance(0, 250, 0.25);
    assert.equal(slow.steps, 0);
    assert.ok(Math.abs(slow.carry - 0.25) < 1e-9);
    assert.equal(playbackAdvance(0.9, 25, 1).steps, 1);
    assert.ok(fastForwardStride(100000) > 1000);
    assert.equal(fastForwardStride(3), 1);
  });

  test('polls pair into blocks, across the window edge too', () => {
    const events = [
      { index: 10, kind: 'poll_pending', task: 2, thread: 1 },
      { index: 11, kind: 'poll_start', task: 1, thread: 0 },
      { index: 12, kind: 'wake_by_ref', task: 1, source: 'self', thread: 0 },
      { index: 13, kind: 'poll_pending', task: 1, thread: 0 },
      { index: 14, kind: 'poll_start', task: 3, thread: 1 },
      { index: 15, kind: 'poll_ready', task: 3, thread: 1 },
      { index: 16, kind: 'poll_start', task: 1, thread: 0 },
    ];
    assert.deepEqual(pairPolls(events), [
      { task: 2, start: -1, end: 10, outcome: 'pending', thread: 1 },
      { task: 1, start: 11, end: 13, outcome: 'pending', thread: 0 },
      { task: 3, start: 14, end: 15, outcome: 'ready', thread: 1 },
      { task: 1, start: 16, end: -1, outcome: null, thread: 0 },
    ]);
    assert.deepEqual(wakeArrow(events[2]), { from: 1, to: 1, self: true });
    assert.deepEqual(wakeArrow({ kind: 'wake', task: 1, source: 'task', other: 2 }), { from: 2, to: 1, self: false });
    assert.equal(wakeArrow(events[0]), null);
  });
});

describe('code rendering', () => {
  const scenario = {
    settings: { executor: 'local' },
    channels: [{ name: 'ping', capacity: 1, line: 2 }],
    tasks: [
      { name: 'main', line: 4, ops: [
        { kind: 'spawn', task: 'a', line: 5 }, { kind: 'join', task: 'a', line: 6 },
        { kind: 'call', task: 'fetch_answer', line: 7 }, { kind: 'send', channel: 'ping', value: 1, line: 8 },
        { kind: 'recv', channel: 'ping', line: 9 }, { kind: 'block', duration: '20ms', line: 10 },
        { kind: 'lose_waker', line: 11 }, { kind: 'yield', amount: 1, line: 12 }, { kind: 'sleep', duration: '5ms', line: 13 },
        { kind: 'count', amount: 10, line: 14 }, { kind: 'yield', amount: 3, line: 15 },
      ] },
      { name: 'a', line: 17, ops: [{ kind: 'count', amount: 2, line: 18 }] },
      { name: 'fetch_answer', line: 20, ops: [] },
    ],
  };

  test('C++', () => {
    const fn = renderFunction(scenario.tasks[0], 0, 'cpp');
    const lines = fn.lines.map(lineText);
    assert.deepEqual(lines, [
      'Async<> main() {',
      '    auto handle_a = spawn(a);',
      '    co_await handle_a;',
      '    co_await fetch_answer();',
      '    co_await ping.send(1);',
      '    co_await ping.recv();',
      '    blocking_call(20ms);  // blocks the thread',
      '    co_await lose_waker();  // Pending, waker dropped',
      '    co_await yield_now();',
      '    co_await sleep(5ms);',
      '    co_await count(10);',
      '    for (int i = 0; i < 3; ++i) co_await yield_now();',
      '}',
    ]);
    assert.equal(fn.codeLineOf(14), 10);
    assert.equal(fn.codeLineOf(0), 12);  // returned: the closing brace
    assert.equal(fn.codeLineOf(99), -1);
  });

  test('Rust', () => {
    const program = renderProgram(scenario, 'rust');
    const lines = program.functions[0].lines.map(lineText);
    assert.equal(lines[0], 'async fn main() {');
    assert.equal(lines[1], '    let handle_a = spawn(a());');
    assert.equal(lines[2], '    handle_a.await;');
    assert.equal(lines[3], '    fetch_answer().await;');
    assert.equal(lines[4], '    ping.send(1).await;');
    assert.equal(lines[5], '    ping.recv().await;');
    assert.match(lines[6], /std::thread::sleep\(Duration::from_millis\(20\)\);/);
    assert.equal(lines[7].trim().split('  ')[0], 'lose_waker().await;');
    assert.equal(lines[9], '    sleep(Duration::from_millis(5)).await;');
    assert.equal(lines[10], '    count(10).await;');
    assert.equal(lineText(program.channels[0]), 'static ping: Channel<i64> = Channel::new(1);');
    assert.equal(lineText(renderProgram(scenario, 'cpp').channels[0]), 'Channel<std::int64_t> ping{1};');
  });
});

describe('keyboard', () => {
  const target = (typing) => ({ closest: (sel) => (typing && /input|cm-editor/.test(sel) ? {} : null) });
  test('shortcuts', () => {
    assert.equal(shortcutFor({ key: ' ' }), 'togglePlay');
    assert.equal(shortcutFor({ key: 'ArrowRight' }), 'forward');
    assert.equal(shortcutFor({ key: 'ArrowRight', shiftKey: true }), 'nextPoll');
    assert.equal(shortcutFor({ key: 'ArrowLeft' }), 'back');
    assert.equal(shortcutFor({ key: 'Home' }), 'start');
    assert.equal(shortcutFor({ key: 'End' }), 'end');
    assert.equal(shortcutFor({ key: 'ArrowRight', ctrlKey: true }), null);
    assert.equal(isTyping(target(true)), true);
    assert.equal(isTyping(target(false)), false);
  });
});

describe('warnings', () => {
  test('busy loop, lost waker, blocking, budget', () => {
    const warnings = computeWarnings({
      status: {
        status: 'stalled', max_events: 100,
        stuck: [{ name: 'worker', line: 11, reason: 'it returned Pending from lose_waker without keeping its waker; nothing can wake it' },
          { name: 'main', line: 7, reason: 'it waits for worker to finish, which is stuck too' }],
      },
      final: { tasks: [
        { name: 'a', polls: 10, self_wakes: 9, wasted_polls: 9 },
        { name: 'b', polls: 10, self_wakes: 5, wasted_polls: 5 },
      ] },
      blocking: [{ index: 22, name: 'worker', line: 18, duration: 20e6 }],
    });
    assert.deepEqual(warnings.map((w) => w.kind), ['busy-loop', 'lost-waker', 'stall', 'blocking']);
    assert.match(warnings[0].message, /a woke itself on 9 of its 10 polls/);
    assert.match(warnings[1].message, /worker lost its waker at line 11/);
    assert.equal(warnings[3].step, 23);
    assert.match(warnings[3].message, /20ms/);
    const budget = computeWarnings({ status: { status: 'budget exhausted', max_events: 50, stuck: [] }, final: { tasks: [] } });
    assert.deepEqual(budget.map((w) => w.kind), ['budget']);
  });

  test('each task that threw, with its message and a link to the step after its task_error event', () => {
    const warnings = computeWarnings({
      status: { status: 'failed', stuck: [], failures: [{ task: 2, name: 'a', step: 7, message: 'boom' },
        { task: 1, name: 'main', step: 9, message: '' }] },
      final: { tasks: [] },
    });
    assert.deepEqual(warnings, [
      { kind: 'failed', severity: 'error', task: 'a', step: 8, message: 'a threw an exception: boom.' },
      { kind: 'failed', severity: 'error', task: 'main', step: 10, message: 'main threw an exception: (no message).' },
    ]);
  });
});

describe('event cache', () => {
  test('fetches aligned windows once, evicts the least recently used, freezes', async () => {
    const calls = [];
    const fetchRange = async (from, to) => {
      calls.push([from, to]);
      return Array.from({ length: to - from }, (_, i) => ({ index: from + i }));
    };
    const cache = new EventCache(fetchRange, 2500, { chunk: 1000, maxChunks: 2 });
    assert.equal(cache.get(5), undefined);
    await cache.ensure(900, 1100);
    assert.deepEqual(calls, [[0, 1000], [1000, 2000]]);
    assert.equal(cache.get(1050).index, 1050);
    await cache.ensure(0, 50);
    assert.equal(calls.length, 2);
    await cache.ensure(2100, 2500);  // evicts chunk 1 (0 was touched last)
    assert.deepEqual(calls[2], [2000, 2500]);
    assert.equal(cache.get(1500), undefined);
    assert.equal(cache.get(10).index, 10);
    cache.frozen = true;
    assert.equal(await cache.ensure(1000, 2000), false);
    assert.equal(calls.length, 3);
  });
});

const engineBuilt = existsSync(path.join(ROOT, 'web/public/engine/pollscope-engine.wasm'));
describe('engine API find()', { skip: !engineBuilt && 'no engine build in web/public/engine' }, () => {
  /* The API over the real module; with native = false, over an Engine without the
   * native find binding (the JS fallback that scans events() in slices). */
  async function api({ native }) {
    const require = createRequire(import.meta.url);
    const dir = path.join(ROOT, 'web/public/engine');
    const factory = require(path.join(dir, 'pollscope-engine.js'));
    const Module = await factory({ wasmBinary: readFileSync(path.join(dir, 'pollscope-engine.wasm')) });
    const { createApi } = require(path.join(dir, 'engine-api.js'));
    if (native) return createApi(Module);
    class WithoutFind {
      constructor() { this.inner = new Module.Engine(); }
    }
    for (const name of ['load', 'eventCount', 'events', 'snapshot', 'status', 'runJson', 'scenarioJson']) {
      WithoutFind.prototype[name] = function call(...args) { return this.inner[name](...args); };
    }
    return createApi(Object.assign(Object.create(Module), { Engine: WithoutFind }));
  }

  for (const native of [true, false]) {
    test(`searches forwards and backwards (${native ? 'native binding' : 'JS fallback'})`, async () => {
      const engine = await api({ native });
      const result = engine.load(readFileSync(path.join(ROOT, 'web/presets/counter.scn'), 'utf8'));
      assert.equal(result.ok, true);
      assert.equal(engine.find(0, { kinds: ['poll_start'] }).event.index, 3);
      assert.equal(engine.find(4, { kinds: ['poll_start'] }).event.index, 11);
      assert.equal(engine.find(12, { task: 3 }).event.index, 15);
      assert.equal(engine.find(10, { kinds: ['poll_start'], backward: true }).event.index, 3);
      assert.equal(engine.find(0, { kinds: ['poll_pending', 'poll_ready'] }).event.index, 9);
      assert.deepEqual(engine.find(0, { kinds: ['blocking'] }), { event: null, next: -1 });
      assert.equal(engine.find(result.eventCount, { kinds: ['spawn'] }).next, -1);
      const sliced = engine.find(0, { kinds: ['complete'], limit: 10 });
      if (native) {
        assert.equal(sliced.event.kind, 'complete');  // the native scan has no need to stop early
      } else {
        assert.deepEqual(sliced, { event: null, next: 10 });  // looked at 10 events, go on from 10
        assert.equal(engine.find(sliced.next, { kinds: ['complete'] }).event.kind, 'complete');
      }
    });
  }
});

describe('browser test set-up', () => {
  test('every browser test file starts Chromium and the two servers through helpers.mjs, none on its own', () => {
    const dir = path.join(ROOT, 'tests/web');
    const browserFiles = ['limits.test.mjs', 'playground.test.mjs', 'share.test.mjs'];
    for (const file of browserFiles) {
      const source = readFileSync(path.join(dir, file), 'utf8');
      assert.equal((source.match(/^const env = useBrowserAndServers\(\);$/gm) || []).length, 1, file);
      assert.doesNotMatch(source, /\b(launch|serve)\(|^(before|after)\(/m, `${file} sets up a browser or a server itself`);
    }
  });
});

describe('page size', () => {
  const built = existsSync(path.join(ROOT, 'dist/.vite/manifest-index.json'));
  test('the single-threaded playground page fits its budget: 300 KB gzip -9 (npm run web:perf counts the same)',
    { skip: !built && 'no dist/: npm run build first (the web leg builds it)' }, async () => {
      const { pageSize, PAGE_BUDGET } = await import('../../scripts/page-size.mjs');
      const size = pageSize();
      assert.equal(PAGE_BUDGET, 300 * 1024);
      assert.ok(size.gz <= PAGE_BUDGET, `${(size.gz / 1024).toFixed(1)} KB: ${size.parts.join(' · ')}`);
    });
});
