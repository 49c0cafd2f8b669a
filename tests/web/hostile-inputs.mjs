// Hostile inputs, shared by the browser tests (limits.test.mjs, share.test.mjs) and
// the main-thread measurement (scripts/web-hostile.mjs):
//   LIMITS       a scenario exactly at each limit of runtime/include/pollscope/scenario.hpp
//                (and of the threaded build) and one just past it, with what the page
//                must show: the run's status, or the engine's exact error
//   badLinks()   malformed share links
//   HEAVY        scenarios that are valid but push the page: budgets, an hour on the
//                virtual clock, oversized pastes
// Every scenario carries BAIT in a comment: markup that would run if the text ever
// reached the DOM as HTML (tests check window.__pwned and img[src="x"]).
// Expected event counts come from the engine (they are the same natively and in wasm).
import { encodeLink, checksum } from '../../web/src/core/link.js';
import { compressToURI } from '../../web/src/core/lz.js';

export const BAIT = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';
const bait = `# ${BAIT}\n`;

const repeat = (n, line) => Array.from({ length: n }, (_, i) => line(i + 1)).join('');
/* The root spawns tasks t1..t(n-1) (n tasks in all). */
const spawning = (n, settings = '') => `${settings}task main\n${repeat(n - 1, (i) => `  spawn t${i}\n`)}` +
  `${repeat(n - 1, (i) => `task t${i}\n  yield\n`)}${bait}`;
/* Exactly `bytes` bytes of UTF-8: a small scenario, then comments of two-byte
 * characters (the limit counts bytes, not characters), then ASCII to the end. */
function sized(bytes) {
  let text = `executor local\ntask main\n  count 3\n${bait}`;
  const line = `# ${'é'.repeat(30)}\n`;  // 63 bytes
  const size = (t) => Buffer.byteLength(t, 'utf8');
  while (size(text) + size(line) <= bytes - 2) text += line;
  return `${text}${'#'.repeat(bytes - size(text) - 1)}\n`;
}
const name32 = 'n'.repeat(32);
const name33 = 'n'.repeat(33);
const calls = (n) => `executor thread_per_task\nclock real\nthreads real\n\ntask main\n${'  call f\n'.repeat(n)}\n` +
  `task f\n  spawn x\n\ntask x\n  sleep 1ms\n${bait}`;
const UNKNOWN_OP = {
  message: 'unknown operation "cont"',
  hint: 'did you mean "count"? operations are count, yield, sleep, spawn, join, call, send, recv, block, lose_waker',
};
const REAL_THREAD_HINT = 'the browser starts a Web Worker for each real thread; spawn fewer tasks, use ' +
  '"executor thread_pool", or use "threads simulated"';

/* name: the limit; at: {text, status} (the run-status line; `diagnostics`: how many
 * the list shows, default 0), or for the errors limit {text, error, count}; past:
 * {text, error: the first error, count: how many errors, note: the last item of the
 * list}, or for the warnings limit {text, status, diagnostics, note}. isolated: needs
 * the threaded build. */
export const LIMITS = [
  {
    name: 'text of 16384 bytes',
    at: { text: sized(16384), status: 'completed — in 16 events' },
    past: { text: sized(16385), error: { line: 1, column: 1, message: 'the scenario is 16385 bytes; the limit is 16384 bytes (16 KiB)',
      hint: 'shorten it, e.g. remove comments or unused tasks' } },
  },
  {
    name: '64 tasks',
    at: { text: spawning(64), status: 'completed — in 699 events' },
    past: { text: spawning(65), error: { line: 192, column: 1, message: 'too many tasks: 65 defined, the limit is 64',
      hint: 'merge tasks or remove unused ones' } },
  },
  {
    name: '256 operations in a task',
    at: { text: `task main\n${'  yield\n'.repeat(256)}${bait}`, status: 'completed — in 1286 events' },
    past: { text: `task main\n${'  yield\n'.repeat(257)}${bait}`, error: { line: 258, column: 3,
      message: 'too many operations in task "main": 257, the limit is 256', hint: 'move some of them into another task and call it' } },
  },
  {
    name: '64 channels',
    at: { text: `${repeat(64, (i) => `channel c${i}\n`)}task main\n${repeat(64, (i) => `  send c${i} ${i}\n  recv c${i}\n`)}${bait}`,
      status: 'completed — in 6 events' },
    past: { text: `${repeat(65, (i) => `channel c${i}\n`)}task main\n  yield\n${bait}`, error: { line: 65, column: 1,
      message: 'too many channels: 65 declared, the limit is 64', hint: 'remove unused channels' } },
  },
  {
    name: 'names of 32 characters',
    at: { text: `channel ${name32}\ntask main\n  call ${name32}\n  send ${name32} 1\n  recv ${name32}\ntask ${name32}\n  yield\n${bait}`,
      status: 'completed — in 11 events' },
    past: { text: `task main\n  yield\ntask ${name33}\n  yield\n${bait}`, error: { line: 3, column: 6,
      message: `task name "${name33}" is 33 characters long; the limit is 32`, hint: 'use a shorter name' } },
  },
  {
    name: 'count 1000000',
    at: { text: `task main\n  count 1000000\n${bait}`, status: 'budget exhausted — stopped after 100000 events (trace truncated at the budget)' },
    past: { text: `task main\n  count 1000001\n${bait}`, error: { line: 2, column: 9,
      message: 'count must be between 0 and 1000000, got 1000001', hint: '' } },
  },
  {
    name: 'yield 1000000',
    at: { text: `task main\n  yield 1000000\n${bait}`, status: 'budget exhausted — stopped after 100000 events (trace truncated at the budget)' },
    past: { text: `task main\n  yield 1000001\n${bait}`, error: { line: 2, column: 9,
      message: 'yield must be between 1 and 1000000, got 1000001', hint: '' } },
  },
  {
    name: 'channel capacity 1000000',
    at: { text: `channel c 1000000\ntask main\n  send c 1\n  recv c\n${bait}`, status: 'completed — in 6 events' },
    past: { text: `channel c 1000001\ntask main\n  send c 1\n  recv c\n${bait}`, error: { line: 1, column: 11,
      message: 'channel capacity must be between 1 and 1000000, got 1000001', hint: '' } },
  },
  {
    name: 'max_events 1000000',
    at: { text: `max_events 1000000\ntask main\n  count 1000000\n${bait}`, status: 'budget exhausted — stopped after 1000000 events (trace truncated at the budget)' },
    past: { text: `max_events 1000001\ntask main\n  count 1\n${bait}`, error: { line: 1, column: 12,
      message: 'max_events must be between 1 and 1000000, got 1000001', hint: '' } },
  },
  {
    name: 'workers 8',
    at: { text: `executor thread_pool\nworkers 8\ntask main\n  spawn a\n  join a\ntask a\n  count 3\n${bait}`,
      status: 'completed — in 41 events' },
    past: { text: `executor thread_pool\nworkers 9\ntask main\n  yield\n${bait}`, error: { line: 2, column: 9,
      message: 'workers must be between 1 and 8, got 9', hint: '' } },
  },
  {
    name: 'durations of an hour',
    at: { text: `task main\n  sleep 3600s\n  block 3600s\n${bait}`, status: 'completed — in 15 events' },
    past: { text: `task main\n  sleep 3600000000001ns\n${bait}`, error: { line: 2, column: 9,
      message: 'sleep duration must be between 0 and 3600s (1 hour), got 3600000000001ns', hint: '' } },
  },
  {
    name: 'seed 18446744073709551615',
    at: { text: `executor thread_pool\nseed 18446744073709551615\ntask main\n  yield\n${bait}`, status: 'completed — in 11 events' },
    past: { text: `executor thread_pool\nseed 18446744073709551616\ntask main\n  yield\n${bait}`, error: { line: 2, column: 6,
      message: 'seed must be between 0 and 18446744073709551615, got 18446744073709551616', hint: '' } },
  },
  {
    name: 'send values of 64 bits',
    at: { text: `channel c 2\ntask main\n  send c -9223372036854775808\n  send c 9223372036854775807\n  recv c\n  recv c\n${bait}`,
      status: 'completed — in 6 events' },
    past: { text: `channel c 2\ntask main\n  send c 9223372036854775808\n${bait}`, error: { line: 3, column: 10,
      message: 'send value must be between -9223372036854775808 and 9223372036854775807, got 9223372036854775808', hint: '' } },
  },
  {
    name: '50 errors',
    at: { text: `task main\n${'  cont 1\n'.repeat(50)}${bait}`, error: { line: 2, column: 3, ...UNKNOWN_OP }, count: 50 },
    past: { text: `task main\n${'  cont 1\n'.repeat(51)}${bait}`, error: { line: 2, column: 3, ...UNKNOWN_OP }, count: 50,
      note: 'warning: too many errors; only the first 50 are shown' },
  },
  {
    name: '50 warnings',
    at: { text: `task main\n  yield\n${repeat(50, (i) => `task u${i}\n  yield\n`)}${bait}`, status: 'completed — in 11 events', diagnostics: 50 },
    past: { text: `task main\n  yield\n${repeat(51, (i) => `task u${i}\n  yield\n`)}${bait}`, status: 'completed — in 11 events',
      diagnostics: 51, note: 'warning: too many warnings; only the first 50 are shown' },
  },
  {
    name: '16 real threads',
    isolated: true,
    // The root and 15 spawned tasks, each sleeping (a sleep starts the runtime's timer
    // thread): every worker of the threaded build's pool of 17 is used.
    at: { text: `executor thread_per_task\nclock real\nthreads real\n\ntask main\n${repeat(15, (i) => `  spawn t${i}\n`)}` +
      `${repeat(15, (i) => `  join t${i}\n`)}\n${repeat(15, (i) => `task t${i}\n  sleep 1ms\n  count 2\n`)}${bait}`,
    status: /^completed — in \d+ events$/ },
    past: { text: spawning(17, 'executor thread_per_task\nclock real\nthreads real\n'), error: { line: 3, column: 9,
      message: 'threads real with executor thread_per_task needs one real thread per task: this scenario runs 17 tasks ' +
        '(the root and 16 spawned), the limit is 16', hint: REAL_THREAD_HINT } },
  },
  {
    name: '16 real threads started by repeated spawns',
    isolated: true,
    at: { text: calls(15), status: /^completed — in \d+ events$/ },
    past: { text: calls(16), error: { line: 24, column: 3,
      message: 'threads real with executor thread_per_task starts a real thread at every spawn: this one runs 16 times, ' +
        'as task "f" runs 16 times, so the run starts 17 threads; the limit is 16',
      hint: 'the browser runs each real thread in a Web Worker of a fixed pool; spawn fewer tasks, use "executor thread_pool", ' +
        'or use "threads simulated"' } },
  },
];

/* Malformed share links (fragments without the '#'), around a good link to `counterText`. */
export function badLinks(counterText) {
  const good = encodeLink({ text: counterText, step: 5 });
  const bomb = `${compressToURI('a'.repeat(200000))}.${checksum('a'.repeat(200000))}`;
  return {
    'random bytes': '%ff%fe%00%01%3Cscript%3Ewindow.__pwned=1%3C/script%3E',
    'random alphabet soup': 'v1/Zm9vYmFyYmF6cXV4$$$+--+.deadbeef',
    truncated: good.slice(0, Math.floor(good.indexOf('?') / 2)),
    'truncated check digits': good.slice(0, good.indexOf('?') - 3),
    oversized: `v1/${'A'.repeat(70 * 1024)}.00000000`,
    'decompression bomb': `v1/${bomb}`,
    'wrong version': good.replace(/^v1/, 'v7'),
    '<script> in a task name': encodeLink({ text: `task <script>window.__pwned=1</script>\n  count 1\n` }),
    'HTML in a channel name and a value': encodeLink({ text: `channel ${BAIT} 1\ntask main\n  send ${BAIT} 1\n` }),
    'HTML in a parameter': `${good}&panels=${encodeURIComponent(BAIT)}`,
    'huge step': good.replace('step=5', 'step=1e400'),
    'huge numbers in the scenario': encodeLink({ text: 'executor local\nmax_events 99999999999999999999\ntask main\n  count 1e400\n' }),
  };
}

/* Valid or oversized scenarios that make the page work hard. */
export const HEAVY = {
  'never-ending scenario, budget of 1000000 events': `max_events 1000000\n\ntask main\n  spawn a\n  spawn b\n  join a\n  join b\n\n` +
    `task a\n  count 1000000\n\ntask b\n  sleep 1ms\n  count 1000000\n${bait}`,
  'block of an hour on the virtual clock': `executor thread_pool\n\ntask main\n  spawn a\n  block 3600s\n  join a\n\n` +
    `task a\n  block 3600s\n  count 3\n${bait}`,
  'threads real (thread_pool, 8 workers)': `executor thread_pool\nworkers 8\nclock real\nthreads real\n\ntask main\n` +
    `${repeat(20, (i) => `  spawn t${i}\n`)}${repeat(20, (i) => `  join t${i}\n`)}\n` +
    `${repeat(20, (i) => `task t${i}\n  sleep 1ms\n  count 50\n`)}${bait}`,
  'pasted text of 1 MB (100000 lines)': `task main\n${'  count 1\n'.repeat(100000)}${bait}`,
};
