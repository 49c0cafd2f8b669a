/* Which engine build runs, why (detect.js), and what that changes. */
import { h, clear } from '../core/dom.js';
import { icon } from '../core/icons.js';

export class BuildInfo {
  constructor(root) {
    this.root = root;
  }

  update({ build, reason, note }) {
    clear(this.root);
    const threads = build === 'threads';
    this.root.dataset.threads = threads ? '1' : '0';
    this.root.dataset.build = build || 'none';
    const what = threads
      ? 'thread executors can run on real threads (threads real: one Web Worker per thread, real clock); simulated, seeded threads still work.'
      : 'thread executors run on simulated, seeded threads (the same interleaving every run); threads real is unavailable.';
    this.root.append(h('details', { class: 'build-details' },
      h('summary', null, h('span', { class: `build-badge ${threads ? 'threads' : 'single'}` },
        threads ? 'threaded engine ' : 'single-threaded engine ', icon('info', 12))),
      h('div', { class: 'build-popover' },
        h('p', null, h('strong', null, 'Why: '), reason || 'unknown'),
        h('p', null, h('strong', null, 'What it changes: '), what),
        note ? h('p', { class: 'warn-text' }, note) : null)));
  }
}
