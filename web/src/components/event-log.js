/* The event log: the engine's line for every event up to the current step, the
 * current one highlighted. Virtualised: only the rows in view exist in the DOM,
 * so a 100,000-event log scrolls like a short one. Clicking a row jumps there. */
import { h } from '../core/dom.js';

const ROW = 22;
const OVERSCAN = 4;

export class EventLog {
  constructor(root, { onSeek } = {}) {
    this.onSeek = onSeek || (() => {});
    this.run = null;
    this.step = 0;
    this.viewport = h('div', {
      class: 'event-log', 'data-testid': 'event-log', tabindex: '0', role: 'list',
      'aria-label': 'Event log up to the current step',
    });
    this.spacer = h('div', { class: 'event-log-spacer' });
    this.empty = h('p', { class: 'event-log-empty muted small' }, 'No events yet: step forward to see the first one.');
    this.viewport.append(this.empty, this.spacer);
    root.append(this.viewport);
    this.pool = [];
    this.frame = 0;
    // Layout is read only here (scroll and resize events), never while updating:
    // no forced synchronous layout per step.
    this.height = 300;
    this.scrollTop = 0;
    this.viewport.addEventListener('scroll', () => {
      this.scrollTop = this.viewport.scrollTop;
      this.render();
    });
    this.viewport.addEventListener('click', (e) => {
      const row = e.target.closest('.log-entry');
      if (row) this.onSeek(Number(row.dataset.index) + 1);
    });
    new ResizeObserver((entries) => {
      this.height = entries[0].contentRect.height || this.height;
      this.render();
    }).observe(this.viewport);
  }

  setRun(run) {
    this.run = run;
    if (this.unlisten) this.unlisten();
    this.unlisten = run ? run.cache.addListener(() => this.render()) : null;
    this.render();
  }

  setStep(step) {
    this.step = step;
    // Keep the current entry (the last one) in view; applied when drawing.
    const top = (step - 1) * ROW;
    if (step > 0 && (top < this.scrollTop || top + ROW > this.scrollTop + this.height)) {
      this.scrollTop = Math.max(0, top - this.height + ROW * 2);
      this.pendingScroll = true;
    } else if (step === 0) {
      this.scrollTop = 0;
      this.pendingScroll = true;
    }
    this.render();
  }

  render() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /* Writes only (the layout values come from events). */
  draw() {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    const count = this.run ? this.step : 0;
    this.empty.hidden = count > 0;
    this.spacer.style.height = `${count * ROW}px`;
    if (this.pendingScroll) {
      this.pendingScroll = false;
      this.viewport.scrollTop = this.scrollTop;
    }
    const height = this.height;
    const first = Math.max(0, Math.floor(this.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(count, Math.ceil((this.scrollTop + height) / ROW) + OVERSCAN);
    if (this.run && last > first) this.run.cache.want(this, first, last);
    // A pool of row elements, reused: moving far only rewrites their text.
    const needed = Math.max(0, last - first);
    while (this.pool.length < needed) {
      const row = h('div', { class: 'log-entry', 'data-testid': 'log-entry', role: 'listitem' },
        h('span', { class: 'log-index' }), h('span', { class: 'log-text' }));
      this.pool.push(row);
      this.spacer.append(row);
    }
    while (this.pool.length > needed) this.pool.pop().remove();
    this.pool.forEach((row, k) => {
      const i = first + k;
      const e = this.run.cache.get(i);
      const text = e ? e.text : '…';
      if (row.dataset.index !== String(i)) {
        row.dataset.index = String(i);
        row.style.top = `${i * ROW}px`;
        row.firstChild.textContent = String(i + 1);
      }
      const span = row.lastChild;
      if (span.textContent !== text) {
        span.textContent = text;
        row.title = text;
      }
      const kind = e ? e.kind : '';
      if (row.dataset.kind !== kind) row.dataset.kind = kind;
      const current = i === count - 1;
      if (row.classList.contains('current') !== current) {
        row.classList.toggle('current', current);
        if (current) row.setAttribute('aria-current', 'step');
        else row.removeAttribute('aria-current');
      }
    });
  }
}
