/* The step model: a run is a recorded trace of N events; step K (0..N) shows the
 * state after events [0, K). Everything here is pure, so it is tested without a
 * browser. */

export function clampStep(step, total) {
  const k = Math.floor(Number(step) || 0);
  return Math.max(0, Math.min(total, k));
}

/* The step label, exactly "Step K / N". */
export function stepLabel(step, total) {
  return `Step ${step} / ${total}`;
}

/* The step that shows event `index` having happened. */
export function stepAfterEvent(index) {
  return index + 1;
}

/* After a re-run, the user stays where they were if that step still exists. */
export function carryStep(previousStep, newTotal) {
  return clampStep(previousStep, newTotal);
}

/* Playback speeds offered (x real speed) and the rate at 1x, in steps per second. */
export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16];
export const STEPS_PER_SECOND_AT_1X = 4;

/* Advances a playback clock: given the fraction of a step carried from earlier
 * frames, the elapsed milliseconds and the speed, how many whole steps to move. */
export function playbackAdvance(carry, elapsedMs, speed) {
  const exact = carry + (Math.max(0, elapsedMs) / 1000) * STEPS_PER_SECOND_AT_1X * speed;
  const steps = Math.floor(exact);
  return { steps, carry: exact - steps };
}

/* Steps per frame for "run to end": gets there in about `durationMs`. */
export function fastForwardStride(remaining, frameMs = 16, durationMs = 1500) {
  return Math.max(1, Math.ceil((remaining * frameMs) / durationMs));
}

/* Polls as blocks: pairs each poll_start with the poll_pending / poll_ready of the
 * same task that follows it. `events` is a dense array (events[i].index === from + i).
 * Returns [{task, start, end, outcome, thread}] where end is the index of the ending
 * event (or -1 when the poll is still open at the end of the array) and thread the
 * logical thread that polled. */
export function pairPolls(events) {
  const open = new Map();
  const blocks = [];
  for (const e of events) {
    if (!e) continue;
    if (e.kind === 'poll_start') {
      const block = { task: e.task, start: e.index, end: -1, outcome: null, thread: e.thread };
      open.set(e.task, block);
      blocks.push(block);
    } else if (e.kind === 'poll_pending' || e.kind === 'poll_ready') {
      const block = open.get(e.task);
      if (block) {
        block.end = e.index;
        block.outcome = e.kind === 'poll_ready' ? 'ready' : 'pending';
        open.delete(e.task);
      } else {
        // The poll started before the window: a block from the window's start.
        blocks.push({ task: e.task, start: -1, end: e.index, outcome: e.kind === 'poll_ready' ? 'ready' : 'pending',
          thread: e.thread });
      }
    }
  }
  return blocks;
}

/* Whether an event is a wake with a known waker task (an arrow between lanes). */
export function wakeArrow(e) {
  if (e.kind !== 'wake' && e.kind !== 'wake_by_ref') return null;
  if (e.source === 'task' && e.other) return { from: e.other, to: e.task, self: false };
  if (e.source === 'self') return { from: e.task, to: e.task, self: true };
  return { from: 0, to: e.task, self: false, source: e.source };
}
