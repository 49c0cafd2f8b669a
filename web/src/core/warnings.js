/* Warnings in the spirit of tokio-console, derived from a finished run:
 *   busy loop   a task woke itself on more than half of its polls
 *   lost waker  the run stalled because a task returned Pending from lose_waker
 *   blocking    a task made a blocking call inside poll (a `blocking` event)
 *   stall       other stuck tasks, with the engine's reason
 *   failed      a task threw an exception (a task_error event), with a link to its step
 *   budget      the run hit its event budget */
import { formatTime } from './format.js';

export function computeWarnings({ status, final, blocking = [] }) {
  const warnings = [];
  if (!status) return warnings;
  for (const task of (final && final.tasks) || []) {
    if (task.polls > 0 && task.self_wakes > task.polls / 2) {
      warnings.push({
        kind: 'busy-loop',
        severity: 'warning',
        task: task.name,
        message: `${task.name} woke itself on ${task.self_wakes} of its ${task.polls} polls: a busy loop ` +
          `(${task.wasted_polls} wasted polls that found nothing new).`,
      });
    }
  }
  for (const stuck of status.stuck || []) {
    const lost = /lose_waker/.test(stuck.reason || '');
    warnings.push({
      kind: lost ? 'lost-waker' : 'stall',
      severity: 'error',
      task: stuck.name,
      line: stuck.line || 0,
      message: lost
        ? `${stuck.name} lost its waker${stuck.line ? ` at line ${stuck.line}` : ''}: ${stuck.reason}.`
        : `${stuck.name} is stuck${stuck.line ? ` at line ${stuck.line}` : ''}: ${stuck.reason}.`,
    });
  }
  for (const f of status.failures || []) {
    warnings.push({
      kind: 'failed',
      severity: 'error',
      task: f.name,
      step: f.step + 1,
      message: `${f.name} threw an exception: ${f.message || '(no message)'}.`,
    });
  }
  for (const b of blocking) {
    warnings.push({
      kind: 'blocking',
      severity: 'warning',
      task: b.name,
      line: b.line || 0,
      step: b.index + 1,
      message: `${b.name} made a blocking call inside poll${b.line ? ` at line ${b.line}` : ''}: its thread ran ` +
        `nothing else for ${formatTime(b.duration)}.`,
    });
  }
  if (status.status === 'budget exhausted') {
    warnings.push({
      kind: 'budget',
      severity: 'warning',
      message: `The run hit its budget of ${status.max_events} events and was stopped: a busy loop, or raise max_events.`,
    });
  }
  return warnings;
}
