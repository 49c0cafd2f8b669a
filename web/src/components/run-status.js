/* The run's ending, always on screen: completed / stalled (with the stuck tasks,
 * their lines and why) / budget exhausted / failed (the task that threw and what);
 * and whether the view is stale because
 * the text on screen has errors or is still running. */
import { h, clear } from '../core/dom.js';
import { describeStatus } from '../core/format.js';

export class RunStatus {
  constructor(root, { onShowLine } = {}) {
    this.root = root;
    this.onShowLine = onShowLine || (() => {});
  }

  update(status, { stale = '', running = false, searching = false } = {}) {
    clear(this.root);
    const d = describeStatus(status);
    this.root.dataset.status = status ? status.status : 'none';
    this.root.append(h('span', { class: `status-word tone-${d.tone}` }, d.word), d.detail ? ` — ${d.detail}` : '');
    if (status && status.truncated) this.root.append(h('span', { class: 'muted small' }, ' (trace truncated at the budget)'));
    if (status && status.stuck && status.stuck.length) {
      this.root.append(h('ul', { class: 'stuck-list' }, status.stuck.map((s) => h('li', null,
        h('strong', null, s.name), s.line ? ' at ' : '',
        s.line ? h('button', { type: 'button', class: 'link', onclick: () => this.onShowLine(s.line) }, `line ${s.line}`) : null,
        `: ${s.reason}`))));
    }
    if (running) this.root.append(h('span', { class: 'status-note' }, ' · running…'));
    else if (searching) this.root.append(h('span', { class: 'status-note' }, ' · searching the trace…'));
    else if (stale) this.root.append(h('span', { class: 'status-note' }, ` · ${stale}`));
  }
}
