/* Which engine build runs, why (detect.js), and what that changes; on a page that
 * is not cross-origin isolated, the offer to isolate it with the service worker
 * (core/coi.js), and to turn that off again. */
import { h, clear } from '../core/dom.js';
import { icon } from '../core/icons.js';

export class BuildInfo {
  constructor(root, { coi, onEnableThreads, onDisableThreads } = {}) {
    this.root = root;
    this.coi = coi || { supported: false, active: false };
    this.onEnableThreads = onEnableThreads;
    this.onDisableThreads = onDisableThreads;
  }

  update({ build, reason, note }) {
    clear(this.root);
    const threads = build === 'threads';
    const coi = this.coi;
    this.root.dataset.threads = threads ? '1' : '0';
    this.root.dataset.build = build || 'none';
    const what = threads
      ? 'thread executors can run on real threads (threads real: one Web Worker per thread, real clock); simulated, seeded threads still work.'
      : 'thread executors run on simulated, seeded threads (the same interleaving every run); threads real is unavailable.';
    let offer = null;
    if (coi.active && this.onDisableThreads) {
      offer = h('p', null, 'Isolated by this site\'s service worker (coi-sw.js). ',
        h('button', { type: 'button', class: 'small', 'data-testid': 'disable-threads', onclick: this.onDisableThreads },
          'Turn it off (reloads)'));
    } else if (!threads && coi.supported && !coi.isolated && this.onEnableThreads) {
      offer = h('p', null, 'This host sends no isolation headers; a small service worker can add them. ',
        h('button', { type: 'button', class: 'small', 'data-testid': 'enable-threads', onclick: this.onEnableThreads },
          'Enable real threads (reloads once)'));
    }
    this.root.append(h('details', { class: 'build-details' },
      h('summary', null, h('span', { class: `build-badge ${threads ? 'threads' : 'single'}` },
        threads ? 'threaded engine ' : 'single-threaded engine ', icon('info', 12))),
      h('div', { class: 'build-popover' },
        h('p', null, h('strong', null, 'Why: '), coi.active && coi.isolated ? `${reason} (through the service worker)` : reason || 'unknown'),
        h('p', null, h('strong', null, 'What it changes: '), what),
        offer,
        note ? h('p', { class: 'warn-text' }, note) : null)));
  }
}
