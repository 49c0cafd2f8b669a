/* The code view: each scenario task as the async function it stands for, in C++
 * or Rust, with the line each task is running or suspended at highlighted (from
 * the snapshot's stacks: innermost frame = the current line, outer frames = the
 * calls it is inside of). */
import { h, clear } from '../core/dom.js';
import { renderProgram } from '../core/code-render.js';

const STATE_WORDS = {
  running: 'running',
  waiting: 'suspended here',
  scheduled: 'will resume here',
  done: 'returned',
  aborted: 'aborted',
  not_started: 'not started',
};

export class CodeView {
  constructor(root, { onLanguage } = {}) {
    this.root = root;
    this.lang = 'cpp';
    this.scenario = null;
    this.program = null;
    this.lineEls = [];
    this.onLanguage = onLanguage || (() => {});
    this.cppButton = h('button', { type: 'button', 'aria-pressed': 'true', onclick: () => this.setLanguage('cpp') }, 'C++');
    this.rustButton = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => this.setLanguage('rust') }, 'Rust');
    this.toggle = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Code language', 'data-testid': 'lang-toggle' },
      this.cppButton, this.rustButton);
    // Focusable: it scrolls, and keyboard users must be able to scroll it.
    this.body = h('div', { class: 'code-body', 'data-testid': 'code-view', tabindex: '0', role: 'region',
      'aria-label': 'The tasks as async functions' });
    root.append(this.toggle, this.body);
  }

  setLanguage(lang) {
    if (lang === this.lang) return;
    this.lang = lang;
    this.cppButton.setAttribute('aria-pressed', lang === 'cpp' ? 'true' : 'false');
    this.rustButton.setAttribute('aria-pressed', lang === 'rust' ? 'true' : 'false');
    this.#build();
    this.update(this.snapshot, this.selected);
    this.onLanguage(lang);
  }

  setScenario(scenario) {
    this.scenario = scenario;
    this.#build();
  }

  #build() {
    clear(this.body);
    this.program = renderProgram(this.scenario, this.lang);
    this.lineEls = [];
    const lines = (list) => list.map((line, i) => h('div', {
      class: `code-line role-${line.role}`, 'data-testid': 'code-line', 'data-line': i,
      'data-scenario-line': line.scenarioLine ?? '',
    }, h('span', { class: 'code-text' }, line.segments.map(([cls, text]) => (cls ? h('span', { class: `c-${cls}` }, text) : text))),
    h('span', { class: 'code-marks' })));
    if (this.program.channels.length) {
      this.body.append(h('pre', { class: 'code-block channels', 'aria-label': 'Channels' }, lines(this.program.channels)));
    }
    for (const fn of this.program.functions) {
      const els = lines(fn.lines);
      this.lineEls.push(els);
      this.body.append(h('pre', { class: 'code-block', 'data-function': fn.name, 'aria-label': `async function ${fn.name}` }, els));
    }
  }

  /* Highlights where each task is. */
  update(snapshot, selectedTask) {
    this.snapshot = snapshot;
    this.selected = selectedTask;
    for (const els of this.lineEls) {
      for (const el of els) {
        el.classList.remove('is-current', 'is-caller', 'is-selected', 'is-running');
        el.removeAttribute('aria-current');
        clear(el.lastChild);
      }
    }
    if (!snapshot || !this.program) return;
    for (const task of snapshot.tasks) {
      const frames = task.stack || [];
      frames.forEach((frame, depth) => {
        const fn = this.program.functions[frame.function];
        const els = this.lineEls[frame.function];
        if (!fn || !els) return;
        const i = fn.codeLineOf(frame.line);
        if (i < 0) return;
        const el = els[i];
        const innermost = depth === frames.length - 1;
        el.classList.add(innermost ? 'is-current' : 'is-caller');
        if (innermost && task.state === 'running') el.classList.add('is-running');
        if (task.id === selectedTask) el.classList.add('is-selected');
        if (innermost) el.setAttribute('aria-current', 'step');
        const word = innermost ? (frame.line === 0 ? 'returned' : STATE_WORDS[task.state] || task.state) : 'awaiting the call';
        el.lastChild.append(h('span', { class: `code-badge state-${task.state}` }, `${task.name}: ${word}`));
      });
    }
  }
}
