/* Warnings for the whole run (tokio-console style), each with a link to its line. */
import { h, clear } from '../core/dom.js';
import { icon } from '../core/icons.js';

export class WarningsPanel {
  constructor(root, { onShowLine, onSeek } = {}) {
    this.root = root;
    this.onShowLine = onShowLine || (() => {});
    this.onSeek = onSeek || (() => {});
  }

  update(warnings) {
    clear(this.root);
    if (!warnings.length) {
      this.root.append(h('li', { class: 'muted small no-warnings' }, 'No warnings: no busy loops, lost wakers or blocking calls.'));
      return;
    }
    for (const w of warnings) {
      this.root.append(h('li', { class: `warning ${w.severity}`, 'data-kind': w.kind },
        h('span', { class: 'warning-icon', 'aria-hidden': 'true' }, icon(w.severity === 'error' ? 'error' : 'warning')),
        h('span', { class: 'warning-text' }, h('span', { class: 'visually-hidden' }, `${w.severity}: `), w.message),
        w.line ? h('button', { type: 'button', class: 'link', onclick: () => this.onShowLine(w.line) }, `line ${w.line}`) : null,
        w.step ? h('button', { type: 'button', class: 'link', onclick: () => this.onSeek(w.step) }, `step ${w.step}`) : null));
    }
  }
}
