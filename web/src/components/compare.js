/* Compare: the same tasks on two executors side by side, each on its own engine
 * (two Web Workers), with their counters next to each other. Each side has its
 * own scrubber and timeline; both start at their last step. */
import { h, clear } from '../core/dom.js';
import { EXECUTORS, describeStatus, formatCount, formatTime } from '../core/format.js';
import { RunSession } from '../core/session.js';
import { EngineTimeout } from '../engine/client.js';
import { stepLabel } from '../core/step-model.js';
import { Timeline } from './timeline.js';
import { countersTable, COUNTER_COLUMNS } from './counters.js';

/* The executor to compare with by default. */
export function partnerOf(executor, hasSpawn) {
  switch (executor) {
    case 'thread_per_task': return 'thread_pool';
    case 'thread_pool': return 'thread_per_task';
    case 'block_on_busy': return 'block_on';
    case 'block_on': return 'block_on_busy';
    default: return hasSpawn ? 'thread_pool' : 'block_on_busy';
  }
}

class Side {
  constructor(root, name, { createEngine, onChange }) {
    this.name = name;
    this.engine = null;
    this.createEngine = createEngine;
    this.onChange = onChange;
    this.executor = 'local';
    this.select = h('select', {
      'data-testid': 'compare-executor', 'aria-label': `Executor ${name}`,
      onchange: () => { this.executor = this.select.value; onChange(this); },
    }, EXECUTORS.map((x) => h('option', { value: x.value }, x.value)));
    this.status = h('div', { class: 'compare-status', 'data-testid': 'compare-status', role: 'status' }, 'not run');
    this.error = h('div', { class: 'compare-error', role: 'alert', hidden: true });
    this.scrubber = h('input', {
      type: 'range', min: 0, max: 0, value: 0, class: 'scrubber', 'aria-label': `Scrub executor ${name}`,
      'data-testid': 'compare-scrubber', oninput: () => this.session && this.session.setStep(Number(this.scrubber.value)),
    });
    this.label = h('output', { class: 'step-label' }, stepLabel(0, 0));
    this.caption = h('p', { class: 'compare-caption small' });
    const timelineRoot = h('div', { class: 'timeline compact' });
    this.counters = h('div', { class: 'compare-task-counters' });
    this.root = h('section', { class: 'compare-pane', 'data-testid': 'compare-pane', 'data-side': name, 'aria-label': `Executor ${name}` },
      h('div', { class: 'compare-head' }, h('span', { class: 'side-name' }, name), this.select), this.status, this.error,
      h('div', { class: 'control-row scrub' }, this.scrubber, this.label), this.caption, timelineRoot, this.counters);
    root.append(this.root);
    this.timeline = new Timeline(timelineRoot, {
      onSeek: (step) => this.session && this.session.setStep(step),
      label: `Timeline of executor ${name}`,
    });
  }

  async ensureEngine() {
    if (this.session) return;
    this.engine = this.createEngine();
    this.session = new RunSession(this.engine);
    this.session.on('run', ({ run }) => {
      this.shown = run;
      this.timeline.setRun(run);
      this.session.setStep(run.total);
      this.#status();
    });
    this.session.on('step', ({ step, total }) => {
      if (!this.shown) return;
      this.scrubber.max = String(total);
      this.scrubber.value = String(step);
      this.label.textContent = stepLabel(step, total);
      this.timeline.setStep(step);
    });
    this.session.on('snapshot', ({ snapshot }) => {
      if (!this.shown) return;
      this.caption.textContent = snapshot.caption;
      this.timeline.setTaskStates(snapshot);
      clear(this.counters);
      this.counters.append(countersTable([...snapshot.tasks, { name: 'total', className: 'total', ...snapshot.totals }],
        { caption: `at step ${snapshot.step}`, testid: 'compare-pane-counters' }));
    });
    this.session.on('error', ({ error }) => this.#fail(`The engine failed: ${error.message}`));
  }

  #status() {
    const run = this.session.run;
    const d = describeStatus(run && run.status);
    clear(this.status);
    this.status.append(h('span', { class: `status-word tone-${d.tone}` }, d.word), d.detail ? ` — ${d.detail}` : '');
  }

  #fail(message) {
    this.error.hidden = false;
    this.error.textContent = message;
    this.root.classList.add('stale');
  }

  async load(scenario) {
    await this.ensureEngine();
    this.select.value = this.executor;
    this.error.hidden = true;
    this.root.classList.remove('stale');
    const json = JSON.parse(JSON.stringify(scenario));
    json.settings.executor = this.executor;
    const seq = (this.seq = (this.seq || 0) + 1);
    const converted = await this.engine.textFromJson(json);
    if (seq !== this.seq) return undefined;
    if (!converted.ok) {
      const e = converted.errors[0];
      return this.#notRun(`${this.executor} cannot run these tasks: ${e.message.replace(/^tasks\[\d+\]\.ops\[\d+\]: /, '')}` +
        `${converted.errors.length > 1 ? ` (and ${converted.errors.length - 1} more)` : ''}`);
    }
    let result;
    try {
      result = await this.session.load(converted.text, { keepStep: false });
    } catch (error) {
      if (seq !== this.seq) return undefined;
      return this.#notRun(error instanceof EngineTimeout ? error.message : `The engine failed: ${error.message}`);
    }
    if (seq !== this.seq) return undefined;
    if (!result.ok) {
      const e = result.errors[0];
      return this.#notRun(`${this.executor} cannot run these tasks: ${e.message}${e.hint ? ` (${e.hint})` : ''}`);
    }
    this.shown = this.session.run;
    return this.session.run;
  }

  /* This executor cannot run the tasks: nothing of an earlier run stays on screen. */
  #notRun(message) {
    this.#fail(message);
    this.shown = null;
    clear(this.status);
    this.status.append(h('span', { class: 'status-word tone-bad' }, 'not run'));
    this.timeline.setRun(null);
    clear(this.counters);
    this.caption.textContent = '';
    this.scrubber.max = '0';
    this.scrubber.value = '0';
    this.label.textContent = stepLabel(0, 0);
    return null;
  }

  dispose() {
    if (this.engine) this.engine.dispose();
    this.engine = null;
    this.session = null;
  }
}

export class ComparePanel {
  constructor(root, { createEngine }) {
    this.root = root;
    this.scenario = null;
    const panes = h('div', { class: 'compare-panes' });
    this.table = h('div', { class: 'compare-table', 'data-testid': 'compare-counters' });
    root.append(this.table, panes);
    const onChange = () => this.refresh();
    this.a = new Side(panes, 'A', { createEngine, onChange });
    this.b = new Side(panes, 'B', { createEngine, onChange });
    this.seq = 0;
  }

  /* Shows the scenario on both sides; executors default to the scenario's and its partner. */
  setScenario(scenario, { resetExecutors = false } = {}) {
    if (!scenario) return;
    const hasSpawn = scenario.tasks.some((t) => t.ops.some((op) => op.kind === 'spawn'));
    if (resetExecutors || !this.scenario) {
      this.a.executor = scenario.settings.executor;
      this.b.executor = partnerOf(scenario.settings.executor, hasSpawn);
    }
    this.scenario = scenario;
    return this.refresh();
  }

  async refresh() {
    if (!this.scenario) return;
    const seq = ++this.seq;
    this.table.setAttribute('aria-busy', 'true');
    const [runA, runB] = await Promise.all([this.a.load(this.scenario), this.b.load(this.scenario)]);
    if (seq !== this.seq) return;
    this.table.removeAttribute('aria-busy');
    this.#table(runA, runB);
  }

  #table(runA, runB) {
    clear(this.table);
    const value = (run, key) => (run ? run.status.totals[key] : null);
    const rows = [
      ['status', (run) => (run ? describeStatus(run.status).word : 'not run')],
      ['events', (run) => (run ? formatCount(run.total) : '—')],
      ['clock at the end', (run) => (run ? formatTime(run.status.time) : '—')],
      ...COUNTER_COLUMNS.map(([key, label]) => [label, (run) => (run ? formatCount(value(run, key)) : '—'), key]),
      ['threads', (run) => (run && run.final ? String(run.final.threads.length) : '—')],
    ];
    this.table.append(h('table', { class: 'counters compare' },
      h('caption', { class: 'muted small' }, 'Whole run, side by side'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, ''),
        h('th', { scope: 'col' }, `A: ${this.a.executor}`), h('th', { scope: 'col' }, `B: ${this.b.executor}`))),
      h('tbody', null, rows.map(([label, get, key]) => {
        const va = get(runA);
        const vb = get(runB);
        let better = '';
        if (key && runA && runB && value(runA, key) !== value(runB, key)) better = value(runA, key) < value(runB, key) ? 'a' : 'b';
        return h('tr', { 'data-row': key || label },
          h('th', { scope: 'row' }, label),
          h('td', { class: `num ${better === 'a' ? 'fewer' : ''}` }, va),
          h('td', { class: `num ${better === 'b' ? 'fewer' : ''}` }, vb));
      }))));
  }

  dispose() {
    this.a.dispose();
    this.b.dispose();
  }
}
