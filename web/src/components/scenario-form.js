/* The scenario as a form: the executor and its settings, the channels, the tasks
 * and each task's operations as rows (kind + inputs), with add / remove / reorder.
 * The form edits a copy of the scenario's JSON form; the page turns it into text
 * with the engine's textFromJson (and back with jsonFromText). */
import { h, clear } from '../core/dom.js';
import { EXECUTORS, isThreaded } from '../core/format.js';

const OP_KINDS = [
  ['count', 'count — Pending N−1 times, waking itself'],
  ['yield', 'yield — give the executor a turn'],
  ['sleep', 'sleep — wait for a timer'],
  ['block', 'block — blocking call inside poll'],
  ['spawn', 'spawn — start a task'],
  ['join', 'join — await a spawned task'],
  ['call', 'call — await another async fn inline'],
  ['send', 'send — send on a channel'],
  ['recv', 'recv — receive from a channel'],
  ['lose_waker', 'lose_waker — Pending, waker dropped'],
];

/* What each kind takes: target (a task or channel name) and value (number or duration). */
const SHAPE = {
  count: { value: 'number', min: 0, max: 1000000, key: 'amount', label: 'times' },
  yield: { value: 'number', min: 1, max: 1000000, key: 'amount', label: 'times' },
  sleep: { value: 'duration', key: 'duration', label: 'duration' },
  block: { value: 'duration', key: 'duration', label: 'duration' },
  spawn: { target: 'task' },
  join: { target: 'task' },
  call: { target: 'task' },
  send: { target: 'channel', value: 'integer', key: 'value', label: 'value' },
  recv: { target: 'channel' },
  lose_waker: {},
};

/* A select of the kinds, built once: each row's select clones its options (a task of
 * 256 operations has 2,560 of them). */
let kindTemplate = null;
function kindOptions() {
  kindTemplate ||= h('select', null, OP_KINDS.map(([value, text]) => h('option', { value, title: text }, value)));
  return [...kindTemplate.cloneNode(true).options];
}

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

/* The JSON form without source positions (they belong to the old text). */
export function stripPositions(scenario) {
  const s = clone(scenario);
  for (const c of s.channels || []) delete c.line;
  for (const t of s.tasks || []) {
    delete t.line;
    for (const op of t.ops || []) {
      delete op.line;
      delete op.column;
    }
  }
  return s;
}

function numberOrRaw(text) {
  const trimmed = String(text).trim().replace(/_/g, '');
  if (/^-?\d+$/.test(trimmed) && Math.abs(Number(trimmed)) <= Number.MAX_SAFE_INTEGER) return Number(trimmed);
  return trimmed;
}

export function defaultOp(kind, scenario, taskIndex) {
  const others = scenario.tasks.filter((_, i) => i !== taskIndex && i !== 0).map((t) => t.name);
  const channel = (scenario.channels[0] || {}).name || '';
  switch (kind) {
    case 'count': return { kind, amount: 3 };
    case 'yield': return { kind, amount: 1 };
    case 'sleep': return { kind, duration: '1ms' };
    case 'block': return { kind, duration: '1ms' };
    case 'spawn':
    case 'join':
    case 'call': return { kind, task: others[0] || '' };
    case 'send': return { kind, channel, value: 1 };
    case 'recv': return { kind, channel };
    default: return { kind };
  }
}

function uniqueName(base, taken) {
  for (let i = 1; ; i++) {
    const name = `${base}${i}`;
    if (!taken.includes(name)) return name;
  }
}

export class ScenarioForm {
  /* onEdit(scenario) after every edit of the form. */
  constructor(root, { onEdit }) {
    this.root = root;
    this.onEdit = onEdit;
    this.scenario = null;
    this.invalid = new Map();  // data-path -> message
    root.addEventListener('submit', (e) => e.preventDefault());
  }

  setScenario(scenario) {
    this.scenario = scenario ? stripPositions(scenario) : null;
    this.invalid.clear();
    this.render();
  }

  /* Marks fields named by the engine's JSON diagnostics ("tasks[1].ops[0].amount: ..."). */
  setErrors(errors) {
    this.invalid.clear();
    for (const e of errors || []) {
      const m = /^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*)(?::)/i.exec(e.message || '');
      if (m) this.invalid.set(m[1], e.message);
    }
    for (const el of this.root.querySelectorAll('[data-path]')) {
      const message = this.#errorFor(el.dataset.path);
      if (message) el.setAttribute('aria-invalid', 'true');
      else el.removeAttribute('aria-invalid');
      el.title = message || '';
    }
  }

  #errorFor(path) {
    for (const [p, message] of this.invalid) if (p === path || p.startsWith(`${path}.`)) return message;
    return null;
  }

  #edit(structural = false) {
    if (structural) this.render();
    this.onEdit(clone(this.scenario));
  }

  render() {
    const focused = document.activeElement && this.root.contains(document.activeElement)
      ? document.activeElement.dataset.focusKey : null;
    clear(this.root);
    const s = this.scenario;
    if (!s) {
      this.root.append(h('p', { class: 'muted' }, 'The form appears once the text is valid.'));
      return;
    }
    this.root.append(this.#settings(s), this.#channels(s), this.#tasks(s));
    const key = this.nextFocus || focused;
    this.nextFocus = null;
    if (key) {
      const el = this.root.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
      if (el && !el.disabled) el.focus();
    }
  }

  #settings(s) {
    const st = s.settings;
    const executor = st.executor || 'local';
    const field = (label, control, hint) => h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control,
      hint ? h('span', { class: 'field-hint' }, hint) : null);
    const setSetting = (key, value, structural = false) => {
      if (value === '' || value === undefined) delete st[key];
      else st[key] = value;
      this.#edit(structural);
    };
    const select = h('select', {
      'data-testid': 'executor-select', 'data-path': 'settings.executor', 'data-focus-key': 'settings.executor',
      onchange: (e) => setSetting('executor', e.target.value, true),
    }, EXECUTORS.map((x) => h('option', { value: x.value, selected: x.value === executor }, x.label)));
    const threaded = isThreaded(executor);
    const workers = h('input', {
      type: 'number', min: 1, max: 8, value: st.workers ?? 2, 'data-path': 'settings.workers',
      'data-focus-key': 'settings.workers', disabled: executor !== 'thread_pool',
      oninput: (e) => setSetting('workers', e.target.value === '' ? '' : numberOrRaw(e.target.value)),
    });
    const threads = h('select', {
      'data-path': 'settings.threads', 'data-focus-key': 'settings.threads', disabled: !threaded,
      onchange: (e) => setSetting('threads', e.target.value === 'simulated' ? '' : e.target.value, true),
    }, ['simulated', 'real'].map((v) => h('option', { value: v, selected: (st.threads || 'simulated') === v }, v)));
    const clock = h('select', {
      'data-path': 'settings.clock', 'data-focus-key': 'settings.clock',
      onchange: (e) => setSetting('clock', e.target.value === 'virtual' ? '' : e.target.value, true),
    }, ['virtual', 'real'].map((v) => h('option', { value: v, selected: (st.clock || 'virtual') === v }, v)));
    const seed = h('input', {
      type: 'text', inputmode: 'numeric', value: st.seed ?? 1, 'data-path': 'settings.seed', 'data-focus-key': 'settings.seed',
      size: 8, oninput: (e) => setSetting('seed', e.target.value === '' ? '' : numberOrRaw(e.target.value)),
    });
    const budget = h('input', {
      type: 'number', min: 1, max: 1000000, value: st.max_events ?? 100000, 'data-path': 'settings.max_events',
      'data-focus-key': 'settings.max_events',
      oninput: (e) => setSetting('max_events', e.target.value === '' ? '' : numberOrRaw(e.target.value)),
    });
    return h('fieldset', { class: 'form-settings' }, h('legend', null, 'Executor'),
      field('Executor', select),
      h('div', { class: 'field-row' },
        field('Workers', workers, 'thread_pool only'),
        field('Threads', threads, 'thread executors'),
        field('Clock', clock),
        field('Seed', seed, 'interleaving'),
        field('Event budget', budget)));
  }

  #channels(s) {
    const rows = s.channels.map((c, i) => h('li', { class: 'channel-row', 'data-testid': 'channel-row' },
      h('label', null, h('span', { class: 'visually-hidden' }, `Channel ${i + 1} name`),
        h('input', {
          type: 'text', value: c.name, size: 8, 'data-path': `channels[${i}].name`, 'data-focus-key': `channels[${i}].name`,
          oninput: (e) => {
            const old = c.name;
            c.name = e.target.value;
            for (const t of s.tasks) for (const op of t.ops) if (op.channel === old) op.channel = c.name;
            this.#edit();
          },
          onchange: () => this.render(),
        })),
      h('label', null, h('span', { class: 'field-label' }, 'capacity'),
        h('input', {
          type: 'number', min: 1, max: 1000000, value: c.capacity ?? 1, 'data-path': `channels[${i}].capacity`,
          'data-focus-key': `channels[${i}].capacity`,
          oninput: (e) => { c.capacity = numberOrRaw(e.target.value); this.#edit(); },
        })),
      h('button', {
        type: 'button', class: 'icon-button', 'aria-label': `Remove channel ${c.name}`, title: 'Remove channel',
        onclick: () => { s.channels.splice(i, 1); this.nextFocus = 'add-channel'; this.#edit(true); },
      }, '✕')));
    const add = h('button', {
      type: 'button', class: 'small', 'data-testid': 'add-channel', 'data-focus-key': 'add-channel',
      onclick: () => {
        s.channels.push({ name: uniqueName('ch', s.channels.map((c) => c.name)), capacity: 1 });
        this.#edit(true);
      },
    }, '+ channel');
    return h('fieldset', { class: 'form-channels' }, h('legend', null, 'Channels'),
      rows.length ? h('ul', { class: 'plain' }, rows) : h('p', { class: 'muted small' }, 'No channels.'), add);
  }

  #tasks(s) {
    const taskNames = s.tasks.map((t) => t.name);
    const channelNames = s.channels.map((c) => c.name);
    const blocks = s.tasks.map((task, ti) => {
      const ops = task.ops.map((op, oi) => this.#opRow(s, task, ti, op, oi, taskNames, channelNames));
      const move = (delta) => {
        const j = ti + delta;
        if (j < 0 || j >= s.tasks.length) return;
        [s.tasks[ti], s.tasks[j]] = [s.tasks[j], s.tasks[ti]];
        this.#edit(true);
      };
      return h('fieldset', { class: 'form-task', 'data-testid': 'form-task', 'data-task': task.name },
        h('legend', null, ti === 0 ? 'Root task' : `Task ${ti + 1}`),
        h('div', { class: 'task-head' },
          h('label', { class: 'field inline' }, h('span', { class: 'field-label' }, 'name'),
            h('input', {
              type: 'text', value: task.name, size: 10, 'data-path': `tasks[${ti}].name`, 'data-focus-key': `tasks[${ti}].name`,
              'data-testid': 'task-name',
              oninput: (e) => {
                const old = task.name;
                task.name = e.target.value;
                for (const t of s.tasks) for (const op of t.ops) if (op.task === old) op.task = task.name;
                this.#edit();
              },
              onchange: () => this.render(),
            })),
          h('span', { class: 'task-buttons' },
            h('button', { type: 'button', class: 'icon-button', 'aria-label': `Move task ${task.name} up`, title: 'Move up',
              disabled: ti === 0, onclick: () => move(-1), 'data-focus-key': `task-up-${ti}` }, '↑'),
            h('button', { type: 'button', class: 'icon-button', 'aria-label': `Move task ${task.name} down`, title: 'Move down',
              disabled: ti === s.tasks.length - 1, onclick: () => move(1), 'data-focus-key': `task-down-${ti}` }, '↓'),
            h('button', { type: 'button', class: 'icon-button', 'aria-label': `Remove task ${task.name}`, title: 'Remove task',
              disabled: s.tasks.length === 1, onclick: () => { s.tasks.splice(ti, 1); this.nextFocus = 'add-task'; this.#edit(true); } }, '✕'))),
        h('ol', { class: 'op-list' }, ops),
        h('button', {
          type: 'button', class: 'small', 'data-testid': 'add-op', 'data-focus-key': `add-op-${ti}`,
          onclick: () => { task.ops.push(defaultOp('count', s, ti)); this.#edit(true); },
        }, '+ operation'));
    });
    const add = h('button', {
      type: 'button', class: 'small', 'data-testid': 'add-task', 'data-focus-key': 'add-task',
      onclick: () => {
        s.tasks.push({ name: uniqueName('t', taskNames), ops: [{ kind: 'count', amount: 3 }] });
        this.#edit(true);
      },
    }, '+ task');
    return h('div', { class: 'form-tasks' }, blocks, add);
  }

  #opRow(s, task, ti, op, oi, taskNames, channelNames) {
    const shape = SHAPE[op.kind] || {};
    const path = `tasks[${ti}].ops[${oi}]`;
    const label = `${task.name}, operation ${oi + 1}`;
    const kind = h('select', {
      'data-testid': 'op-kind', 'aria-label': `${label}: kind`, 'data-path': `${path}.kind`, 'data-focus-key': `${path}.kind`,
      onchange: (e) => { task.ops[oi] = defaultOp(e.target.value, s, ti); this.#edit(true); },
    }, kindOptions());
    kind.value = op.kind;
    let target = null;
    if (shape.target) {
      const key = shape.target === 'task' ? 'task' : 'channel';
      const names = shape.target === 'task' ? taskNames : channelNames;
      const current = op[key] || '';
      const missing = names.includes(current) ? null
        : h('option', { value: current, selected: true }, current ? `${current} (missing)` : '—');
      // The other names only once the select is used: at the limits (64 channels, 128
      // sends and receives) the lists came to 8,000 options, and building and laying
      // them out held the page for half a second on every run.
      const fill = () => {
        if (target.dataset.filled) return;
        target.dataset.filled = 'true';
        target.replaceChildren(...[missing, ...names.map((n) => h('option', { value: n, selected: n === current }, n))]
          .filter(Boolean));
      };
      target = h('select', {
        'data-testid': 'op-target', 'aria-label': `${label}: ${shape.target}`, 'data-path': `${path}.${key}`,
        'data-focus-key': `${path}.${key}`,
        onfocus: fill, onpointerdown: fill,
        onchange: (e) => { op[key] = e.target.value; this.#edit(); },
      }, missing || h('option', { value: current, selected: true }, current));
    }
    let value = null;
    if (shape.value) {
      const attrs = {
        'data-testid': 'op-value', 'aria-label': `${label}: ${shape.label}`, 'data-path': `${path}.${shape.key}`,
        'data-focus-key': `${path}.${shape.key}`, value: op[shape.key] ?? '',
      };
      if (shape.value === 'number') {
        Object.assign(attrs, { type: 'number', min: shape.min, max: shape.max, step: 1, class: 'num' });
        attrs.oninput = (e) => { op[shape.key] = numberOrRaw(e.target.value); this.#edit(); };
      } else if (shape.value === 'integer') {
        Object.assign(attrs, { type: 'number', step: 1, class: 'num' });
        attrs.oninput = (e) => { op[shape.key] = numberOrRaw(e.target.value); this.#edit(); };
      } else {
        Object.assign(attrs, { type: 'text', size: 7, placeholder: '5ms', class: 'dur', spellcheck: 'false' });
        attrs.oninput = (e) => { op[shape.key] = e.target.value.trim(); this.#edit(); };
      }
      value = h('input', attrs);
    }
    const move = (delta) => {
      const j = oi + delta;
      if (j < 0 || j >= task.ops.length) return;
      [task.ops[oi], task.ops[j]] = [task.ops[j], task.ops[oi]];
      this.#edit(true);
    };
    return h('li', { class: 'op-row', 'data-testid': 'op-row', 'data-kind': op.kind },
      kind, target, value,
      h('span', { class: 'op-buttons' },
        h('button', { type: 'button', class: 'icon-button', 'aria-label': `Move ${label} up`, title: 'Move up',
          disabled: oi === 0, onclick: () => move(-1), 'data-focus-key': `${path}.up` }, '↑'),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': `Move ${label} down`, title: 'Move down',
          disabled: oi === task.ops.length - 1, onclick: () => move(1), 'data-focus-key': `${path}.down` }, '↓'),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': `Remove ${label}`, title: 'Remove',
          onclick: () => { task.ops.splice(oi, 1); this.nextFocus = `add-op-${ti}`; this.#edit(true); } }, '✕')));
  }
}
