/* Formatting helpers shared by the components: durations, counts, status words. */

const UNITS = [
  ['s', 1e9],
  ['ms', 1e6],
  ['us', 1e3],
  ['ns', 1],
];

/* A time on the clock, e.g. 0ns, 5ms, 1.25ms, 2.5s (at most 3 decimals). */
export function formatTime(ns) {
  ns = Number(ns) || 0;
  if (ns === 0) return '0ns';
  const abs = Math.abs(ns);
  for (const [unit, size] of UNITS) {
    if (abs >= size) {
      const value = Math.round((ns / size) * 1000) / 1000;
      return `${value}${unit}`;
    }
  }
  return `${ns}ns`;
}

/* "5ms" | "1500us" | "2µs" -> nanoseconds (null when it is not a duration). */
export function parseDuration(text) {
  const match = /^\s*(\d[\d_]*)\s*(ns|us|µs|ms|s)\s*$/.exec(String(text));
  if (!match) return null;
  const value = Number(match[1].replace(/_/g, ''));
  const unit = match[2] === 'µs' ? 'us' : match[2];
  const size = UNITS.find(([u]) => u === unit)[1];
  return value * size;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatCount(n) {
  return Number(n || 0).toLocaleString('en-US');
}

/* The run's ending as words: {word, detail, tone}. The word is what tests and
 * screen readers look for: completed | stalled | budget exhausted | failed (a task
 * threw: the first one and its message, and how many failed when more did). */
export function describeStatus(status) {
  if (!status) return { word: 'not run', detail: '', tone: 'idle' };
  switch (status.status) {
    case 'completed':
      return { word: 'completed', detail: `in ${plural(status.events, 'event')}`, tone: 'ok' };
    case 'stalled': {
      const names = (status.stuck || []).map((s) => s.name);
      return {
        word: 'stalled',
        detail: names.length ? `${names.join(', ')} can never be woken` : 'no task can make progress',
        tone: 'bad',
      };
    }
    case 'budget exhausted':
      return { word: 'budget exhausted', detail: `stopped after ${plural(status.events, 'event')}`, tone: 'warn' };
    case 'failed': {
      const failures = status.failures || [];
      const first = failures[0];
      const detail = first ? `${first.name} threw an exception: ${first.message}` : 'a task threw an exception';
      return { word: 'failed', detail: failures.length > 1 ? `${detail} (${failures.length} tasks failed)` : detail, tone: 'bad' };
    }
    default:
      return { word: String(status.status), detail: status.summary || '', tone: 'idle' };
  }
}

export const EXECUTORS = [
  { value: 'block_on_busy', label: 'block_on_busy — busy loop, no-op waker' },
  { value: 'block_on', label: 'block_on — parks until woken' },
  { value: 'local', label: 'local — one thread, a run queue' },
  { value: 'thread_per_task', label: 'thread_per_task — a thread per task' },
  { value: 'thread_pool', label: 'thread_pool — work-stealing workers' },
];

export function isThreaded(executor) {
  return executor === 'thread_per_task' || executor === 'thread_pool';
}
