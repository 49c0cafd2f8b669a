/* The executor at the current step: the clock, the run queue(s) in order (on a
 * pool: the injection queue and one local queue per worker), the pending timers
 * with their deadlines, a lane per thread (running / searching / parked / blocked
 * / idle) and every task's state. */
import { h, clear } from '../core/dom.js';
import { formatTime } from '../core/format.js';

const THREAD_WORDS = {
  idle: 'idle',
  running: 'running',
  searching: 'searching for work',
  parked: 'parked',
  blocked: 'blocked',
};

export class ExecutorPanel {
  constructor(root) {
    this.root = root;
    this.executor = 'local';
    this.clockKind = 'virtual';
  }

  setRun(run) {
    this.key = null;
    this.executor = run && run.scenario ? run.scenario.settings.executor : 'local';
    this.clockKind = run && run.status ? run.status.clock : 'virtual';
    this.names = new Map((run && run.final ? run.final.tasks : []).map((t) => [t.id, t.name]));
  }

  #name(id) { return this.names.get(id) || `task ${id}`; }

  update(snapshot) {
    // Rebuilt only when what it shows changed (stepping often changes nothing here).
    const key = snapshot ? JSON.stringify([snapshot.time, snapshot.queues, snapshot.timers, snapshot.threads,
      snapshot.tasks.map((t) => [t.state, t.live_wakers])]) : '';
    if (key === this.key && this.root.firstChild) return;
    this.key = key;
    clear(this.root);
    if (!snapshot) {
      this.root.append(h('p', { class: 'muted' }, 'No run yet.'));
      return;
    }
    const pool = this.executor === 'thread_pool';
    const noQueue = this.executor === 'block_on' || this.executor === 'block_on_busy';
    this.root.append(h('p', { class: 'clock', 'data-testid': 'clock' },
      h('span', { class: 'field-label' }, 'Clock'), ' ', h('strong', null, formatTime(snapshot.time)),
      h('span', { class: 'muted small' }, ` (${this.clockKind === 'real' ? 'real' : 'virtual'} time)`)));

    // Run queues.
    const queueList = (ids, attrs, title) => h('div', { class: 'queue-block' },
      h('div', { class: 'queue-title' }, title, h('span', { class: 'muted small' }, ids.length ? ` · ${ids.length} queued` : ' · empty')),
      h('ol', { class: 'queue', 'aria-label': `${title}, front first`, ...attrs },
        ids.length ? ids.map((id) => h('li', { class: 'queue-item', 'data-testid': 'queue-item', 'data-task': this.#name(id) },
          this.#name(id))) : h('li', { class: 'queue-empty', 'aria-hidden': 'true' }, '—')));
    const queues = snapshot.queues || [];
    const section = h('div', { class: 'exec-section' }, h('h4', null, pool ? 'Run queues (front first)' : 'Run queue (front first)'));
    if (noQueue) {
      section.append(h('p', { class: 'muted small' },
        `${this.executor} has no run queue: it polls its one future directly.`),
      h('ol', { class: 'queue', 'data-testid': 'run-queue', hidden: true }));
    } else if (pool) {
      section.append(queueList(queues[0] || [], { 'data-testid': 'injection-queue', 'data-queue': 'injection' }, 'Injection queue'));
      const workers = Math.max(0, queues.length - 1, (snapshot.threads || []).length);
      for (let w = 0; w < workers; w++) {
        section.append(queueList(queues[w + 1] || [], { 'data-testid': 'run-queue', 'data-worker': w }, `Worker ${w}`));
      }
    } else {
      if (this.executor === 'thread_per_task') {
        section.append(h('p', { class: 'muted small' },
          'No shared queue: each task has a thread of its own, which parks until the task\'s waker unparks it.'));
      }
      section.append(queueList(queues[0] || [], { 'data-testid': 'run-queue' }, 'Run queue'));
    }
    this.root.append(section);

    // Threads.
    const threads = snapshot.threads || [];
    const threadWord = this.executor === 'thread_pool' ? 'worker' : 'thread';
    this.root.append(h('div', { class: 'exec-section' }, h('h4', null, 'Threads'),
      h('ul', { class: 'threads', 'data-testid': 'threads' }, threads.map((t, i) => {
        let detail = '';
        if (t.state === 'running') detail = `polling ${this.#name(t.task)}`;
        else if (t.state === 'blocked') detail = `in ${this.#name(t.task)}'s blocking call${t.until ? ` until ${formatTime(t.until)}` : ''}`;
        else if (t.state === 'parked') detail = t.until ? `until ${formatTime(t.until)}` : 'until woken';
        return h('li', { class: 'thread-lane', 'data-testid': 'thread-lane', 'data-state': t.state, 'data-thread': i },
          h('span', { class: 'thread-name' }, threads.length === 1 && threadWord === 'thread' ? 'executor thread' : `${threadWord} ${i}`),
          h('span', { class: `thread-state state-${t.state}` }, THREAD_WORDS[t.state] || t.state),
          detail ? h('span', { class: 'thread-detail muted small' }, detail) : null);
      }))));

    // Timers.
    const timers = snapshot.timers || [];
    this.root.append(h('div', { class: 'exec-section' }, h('h4', null, 'Timers'),
      timers.length
        ? h('ul', { class: 'timers', 'data-testid': 'timers' }, timers.map((t) => h('li', { 'data-testid': 'timer' },
          h('strong', null, formatTime(t.deadline)), ` wakes ${this.#name(t.task)}`,
          h('span', { class: 'muted small' }, ` (timer ${t.id}, in ${formatTime(Math.max(0, t.deadline - snapshot.time))})`))))
        : h('p', { class: 'muted small', 'data-testid': 'timers' }, 'No pending timers.')));

    // Tasks.
    this.root.append(h('div', { class: 'exec-section' }, h('h4', null, 'Tasks'),
      h('ul', { class: 'task-states', 'data-testid': 'task-states' }, snapshot.tasks.map((t) => h('li', {
        'data-task': t.name, 'data-state': t.state,
      }, h('span', { class: `state-dot state-${t.state}`, 'aria-hidden': 'true' }), h('span', { class: 'task-name' }, t.name), ' ',
      h('span', { class: 'muted small' }, t.state.replace('_', ' '),
        t.live_wakers ? ` · ${t.live_wakers} waker${t.live_wakers === 1 ? '' : 's'} held` : ''))))));
  }
}
