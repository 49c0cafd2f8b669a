/* Counters per task and in total at the current step: polls, Pending polls,
 * wakes, self-wakes and wasted polls (Pending polls after which the task woke
 * itself). Tasks flagged as busy loops are marked. */
import { h, clear } from '../core/dom.js';
import { formatCount } from '../core/format.js';
import { icon } from '../core/icons.js';

export const COUNTER_COLUMNS = [
  ['polls', 'polls'],
  ['pending_polls', 'Pending'],
  ['wakes', 'wakes'],
  ['self_wakes', 'self-wakes'],
  ['wasted_polls', 'wasted'],
];

export function countersTable(rows, { caption, testid = 'counters' } = {}) {
  return h('table', { class: 'counters', 'data-testid': testid },
    caption ? h('caption', { class: 'muted small' }, caption) : null,
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'task'),
      COUNTER_COLUMNS.map(([, label]) => h('th', { scope: 'col', class: 'num' }, label)))),
    h('tbody', null, rows.map((r) => h('tr', { class: r.className || '', 'data-task': r.name },
      h('th', { scope: 'row' }, r.name, r.flag ? h('span', { class: 'flag', title: r.flag }, ' ', icon('warning', 11),
        h('span', { class: 'visually-hidden' }, ` (${r.flag})`)) : null),
      COUNTER_COLUMNS.map(([key]) => h('td', { class: 'num', 'data-counter': key }, formatCount(r[key])))))));
}

export class Counters {
  constructor(root) {
    this.root = root;
  }

  update(snapshot, { busy = new Set() } = {}) {
    const key = snapshot ? JSON.stringify([snapshot.step, snapshot.totals, [...busy]]) : '';
    if (key === this.key) return;
    this.key = key;
    clear(this.root);
    if (!snapshot) return;
    const rows = snapshot.tasks.map((t) => ({ ...t, flag: busy.has(t.name) ? 'wakes itself on most polls' : '' }));
    rows.push({ name: 'total', className: 'total', ...snapshot.totals });
    this.root.append(countersTable(rows, { caption: `at step ${snapshot.step}`, testid: 'counters-table' }));
  }
}
