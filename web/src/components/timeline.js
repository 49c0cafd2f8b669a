/* The task timeline: one swimlane per task, each poll a block marked Pending or
 * Ready, arrows for wakes (who woke whom), the current step as a cursor. The
 * x axis is the step number; only the visible window of steps is fetched (through
 * the run's EventCache) and drawn on a canvas, so a 100,000-event trace scrubs as
 * smoothly as a short one. Clicking a block jumps to the step that shows its
 * outcome; clicking elsewhere jumps to that step; a lane's label selects the task. */
import { h, clear, cssVar } from '../core/dom.js';
import { pairPolls, wakeArrow } from '../core/step-model.js';

const AXIS = 20;
const LANE = 26;
const MIN_VIEW = 16;
const MAX_VIEW = 4000;
const MARGIN = 300;  // events fetched beyond each side, to pair polls cut by the window

function niceTick(pixelsPerStep) {
  const target = 70 / pixelsPerStep;
  for (const base of [1, 2, 5]) {
    for (let p = 1; p <= 1e7; p *= 10) if (base * p >= target) return { v: base * p };
  }
  return { v: 1e7 };
}

export class Timeline {
  constructor(root, { onSeek, onSelectTask, label = 'Task timeline' } = {}) {
    this.onSeek = onSeek || (() => {});
    this.onSelectTask = onSelectTask || (() => {});
    this.run = null;
    this.step = 0;
    this.selected = 0;
    this.taskStates = new Map();
    this.viewStart = 0;
    this.viewSize = 200;
    this.width = 600;
    this.frame = 0;
    this.blocks = [];
    this.label = label;
    this.drawMs = 0;

    this.zoomOut = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Zoom out (more steps)', title: 'Zoom out',
      onclick: () => this.zoom(2) }, '−');
    this.zoomIn = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Zoom in (fewer steps)', title: 'Zoom in',
      onclick: () => this.zoom(0.5) }, '+');
    this.fit = h('button', { type: 'button', class: 'small', title: 'Show as many steps as fit', onclick: () => this.fitAll() }, 'fit');
    this.range = h('span', { class: 'muted small timeline-range', 'aria-live': 'off' });
    const legend = h('span', { class: 'legend small' },
      h('span', { class: 'swatch pending' }), 'Pending', h('span', { class: 'swatch ready' }), 'Ready',
      h('span', { class: 'swatch wake' }), 'wake', h('span', { class: 'swatch cursor' }), 'now');
    this.labels = h('div', { class: 'timeline-labels' });
    this.canvas = h('canvas', { class: 'timeline-canvas', role: 'img', 'aria-label': label });
    this.tooltip = h('div', { class: 'timeline-tooltip', hidden: true, role: 'presentation' });
    this.canvasWrap = h('div', { class: 'timeline-canvas-wrap' }, this.canvas, this.tooltip);
    this.body = h('div', { class: 'timeline-body' }, h('div', { class: 'timeline-grid' }, this.labels, this.canvasWrap));
    root.append(h('div', { class: 'timeline-toolbar' }, this.zoomOut, this.zoomIn, this.fit, this.range, legend), this.body);

    this.canvas.addEventListener('click', (e) => this.#click(e));
    this.canvas.addEventListener('mousemove', (e) => this.#hover(e));
    this.canvas.addEventListener('mouseleave', () => { this.tooltip.hidden = true; });
    this.canvas.addEventListener('wheel', (e) => this.#wheel(e), { passive: false });
    new ResizeObserver(() => this.#resize()).observe(this.canvasWrap);
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    media.addEventListener('change', () => { this.colors = null; this.render(); });
  }

  setRun(run) {
    this.run = run;
    if (this.unlisten) this.unlisten();
    this.unlisten = null;
    if (run) {
      this.unlisten = run.cache.addListener((from, to) => {
        if (to > this.viewStart - MARGIN && from < this.viewStart + this.viewSize + MARGIN) this.render();
      });
      if (!this.userZoomed) this.viewSize = this.#defaultView(run.total);
      this.viewSize = Math.min(this.viewSize, Math.max(MIN_VIEW, run.total));
    }
    this.#buildLabels();
    this.#follow(true);
    this.render();
  }

  setStep(step) {
    this.step = step;
    this.#follow(false);
    this.render();
  }

  setSelected(taskId) {
    this.selected = taskId || 0;
    for (const el of this.labels.querySelectorAll('.task-lane')) {
      el.setAttribute('aria-pressed', Number(el.dataset.id) === this.selected ? 'true' : 'false');
    }
    this.render();
  }

  setTaskStates(snapshot) {
    if (!snapshot) return;
    for (const t of snapshot.tasks) {
      const el = this.labels.querySelector(`.task-lane[data-id="${t.id}"]`);
      if (el) {
        el.dataset.state = t.state;
        el.querySelector('.lane-state').textContent = t.state.replace('_', ' ');
      }
    }
  }

  zoom(factor) {
    const total = this.run ? this.run.total : 0;
    const size = Math.round(Math.min(MAX_VIEW, Math.max(MIN_VIEW, this.viewSize * factor)));
    if (size === this.viewSize) return;
    this.userZoomed = true;
    const anchor = this.step;
    const rel = (anchor - this.viewStart) / this.viewSize;
    this.viewSize = size;
    this.viewStart = Math.max(0, Math.min(Math.max(0, total - size + 1), Math.round(anchor - rel * size)));
    this.render();
  }

  fitAll() {
    const total = this.run ? this.run.total : 0;
    this.userZoomed = true;
    this.viewSize = Math.min(MAX_VIEW, Math.max(MIN_VIEW, total + 1));
    this.viewStart = 0;
    this.#follow(false);
    this.render();
  }

  render() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /* Draws now (the page's batched frame calls this; render() schedules it). */
  draw() {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    this.#draw();
  }

  #defaultView(total) {
    // About 8 px per step: a poll of a few events is a readable block.
    const fitWidth = Math.max(MIN_VIEW, Math.floor(this.width / 8));
    return Math.min(MAX_VIEW, Math.max(MIN_VIEW, Math.min(total + 1, fitWidth)));
  }

  #buildLabels() {
    clear(this.labels);
    this.labels.append(h('div', { class: 'timeline-axis-spacer', 'aria-hidden': 'true' }, 'step'));
    const tasks = this.run && this.run.final ? this.run.final.tasks : [];
    for (const t of tasks) {
      this.labels.append(h('button', {
        type: 'button', class: 'task-lane', 'data-testid': 'task-lane', 'data-task': t.name, 'data-id': t.id,
        'aria-pressed': t.id === this.selected ? 'true' : 'false', title: `Select ${t.name} (for “next event of the task”)`,
        onclick: () => this.onSelectTask(t.id === this.selected ? 0 : t.id),
      }, h('span', { class: 'lane-name' }, t.name), h('span', { class: 'lane-state' }, '')));
    }
    this.#resize();
  }

  #follow(center) {
    const total = this.run ? this.run.total : 0;
    const size = this.viewSize;
    const maxStart = Math.max(0, total + 1 - size);
    let start = this.viewStart;
    if (center || this.step < start || this.step > start + size - 1) {
      start = this.step - Math.floor(size / 2);
    } else if (this.step > start + size * 0.9) {
      start = this.step - Math.floor(size * 0.1);
    } else if (this.step < start + size * 0.05 && start > 0) {
      start = this.step - Math.floor(size * 0.9);
    }
    this.viewStart = Math.max(0, Math.min(maxStart, start));
  }

  #resize() {
    const width = Math.max(120, Math.floor(this.canvasWrap.clientWidth || 600));
    const lanes = this.run && this.run.final ? this.run.final.tasks.length : 0;
    const height = AXIS + Math.max(1, lanes) * LANE + 4;
    const dpr = window.devicePixelRatio || 1;
    this.width = width;
    this.height = height;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.canvas.style.width = '100%';  // never wider than its column
    this.canvas.style.height = `${height}px`;
    this.dpr = dpr;
    this.render();
  }

  #palette() {
    if (this.colors) return this.colors;
    this.colors = {
      text: cssVar('--text'), muted: cssVar('--text-muted'), grid: cssVar('--grid'), laneA: cssVar('--lane-a'),
      laneB: cssVar('--lane-b'), laneSel: cssVar('--lane-selected'), pending: cssVar('--pending'), ready: cssVar('--ready'),
      wake: cssVar('--wake'), timer: cssVar('--timer'), danger: cssVar('--danger'), cursor: cssVar('--cursor'),
      onBlock: cssVar('--on-block'),
    };
    return this.colors;
  }

  #x(i) { return ((i - this.viewStart) * this.width) / this.viewSize; }
  #laneY(task) { return AXIS + (task - 1) * LANE; }

  #draw() {
    const t0 = performance.now();
    const ctx = this.canvas.getContext('2d');
    const c = this.#palette();
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    const run = this.run;
    if (!run) return;
    const tasks = run.final ? run.final.tasks : [];
    const total = run.total;
    const a = this.viewStart;
    const b = Math.min(total, a + this.viewSize);
    const colW = this.width / this.viewSize;
    this.range.textContent = `steps ${a}–${Math.min(total, a + this.viewSize)} of ${total}`;

    // Lanes.
    tasks.forEach((t, i) => {
      ctx.fillStyle = t.id === this.selected ? c.laneSel : i % 2 ? c.laneB : c.laneA;
      ctx.fillRect(0, AXIS + i * LANE, this.width, LANE);
    });
    // Axis and grid.
    const tick = niceTick(colW).v;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = c.muted;
    ctx.strokeStyle = c.grid;
    ctx.lineWidth = 1;
    for (let s = Math.ceil(a / tick) * tick; s <= a + this.viewSize; s += tick) {
      const x = Math.round(this.#x(s)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, AXIS - 4);
      ctx.lineTo(x, this.height);
      ctx.stroke();
      ctx.fillText(String(s), x + 3, AXIS / 2);
    }

    // Events: fetch what is missing, draw what is there.
    const from = Math.max(0, a - MARGIN);
    const to = Math.min(total, b + MARGIN);
    run.cache.want(this, from, to);
    const events = run.cache.slice(from, to);
    const blocks = pairPolls(events).filter((bk) => (bk.end === -1 ? to : bk.end) >= a && (bk.start === -1 ? from : bk.start) < b);
    this.blocks = blocks;
    const step = this.step;
    const future = (i) => i >= step;
    const executor = run.scenario ? run.scenario.settings.executor : '';
    const threaded = executor === 'thread_pool' || executor === 'thread_per_task';
    const threadWord = executor === 'thread_pool' ? 'w' : 't';

    for (const bk of blocks) {
      const start = bk.start === -1 ? from : bk.start;
      const end = bk.end === -1 ? to - 1 : bk.end;
      const x0 = this.#x(start);
      const x1 = this.#x(end + 1);
      const y = this.#laneY(bk.task) + 4;
      const hgt = LANE - 8;
      ctx.globalAlpha = future(start) ? 0.3 : 1;
      ctx.fillStyle = bk.outcome === 'ready' ? c.ready : c.pending;
      ctx.fillRect(x0, y, Math.max(1, x1 - x0 - 1), hgt);
      if (bk.end >= step && bk.start < step && bk.start !== -1) {
        // Running now: the part after the cursor is hatched.
        ctx.globalAlpha = 0.55;
        ctx.fillStyle = c.laneA;
        ctx.fillRect(this.#x(step), y, Math.max(0, x1 - this.#x(step) - 1), hgt);
      }
      ctx.globalAlpha = future(start) ? 0.45 : 1;
      const w = x1 - x0;
      if (w > 14) {
        ctx.fillStyle = c.onBlock;
        ctx.font = '600 11px system-ui, sans-serif';
        let text = w > 60 ? (bk.outcome === 'ready' ? 'Ready' : 'Pending') : bk.outcome === 'ready' ? 'R' : 'P';
        if (threaded && bk.thread >= 0 && w > 30) text += ` ${threadWord}${bk.thread}`;
        ctx.fillText(text, x0 + 4, y + hgt / 2);
      }
    }
    ctx.globalAlpha = 1;

    // Markers and wake arrows.
    const first = Math.max(a, from);
    const fine = colW >= 3;
    for (let i = first; i < b; i++) {
      const e = events[i - from];
      if (!e || !e.task || e.task > tasks.length) continue;
      const cx = this.#x(i) + colW / 2;
      const laneTop = this.#laneY(e.task);
      const cy = laneTop + LANE / 2;
      ctx.globalAlpha = future(i) ? 0.35 : 1;
      const arrow = wakeArrow(e);
      if (arrow) {
        ctx.strokeStyle = arrow.source === 'timer' ? c.timer : c.wake;
        ctx.fillStyle = ctx.strokeStyle;
        ctx.lineWidth = 1.5;
        if (arrow.self) {
          ctx.beginPath();
          ctx.arc(cx, laneTop + 5, Math.max(3, Math.min(7, colW / 2)), Math.PI, 0);
          ctx.stroke();
          this.#head(ctx, cx + Math.max(3, Math.min(7, colW / 2)), laneTop + 6, Math.PI / 2);
        } else if (arrow.from) {
          const y0 = this.#laneY(arrow.from) + LANE / 2;
          const y1 = cy + (y0 < cy ? -LANE / 2 + 4 : LANE / 2 - 4);
          ctx.beginPath();
          ctx.moveTo(cx, y0);
          ctx.lineTo(cx, y1);
          ctx.stroke();
          this.#head(ctx, cx, y1, y0 < cy ? Math.PI / 2 : -Math.PI / 2);
        } else {
          ctx.setLineDash([3, 2]);
          ctx.beginPath();
          ctx.moveTo(cx, AXIS);
          ctx.lineTo(cx, laneTop + 4);
          ctx.stroke();
          ctx.setLineDash([]);
          this.#head(ctx, cx, laneTop + 4, Math.PI / 2);
        }
        continue;
      }
      switch (e.kind) {
        case 'spawn':
          ctx.strokeStyle = c.text;
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          ctx.arc(cx, cy, 4, 0, Math.PI * 2);
          ctx.stroke();
          break;
        case 'complete':
          ctx.fillStyle = c.ready;
          ctx.fillRect(cx - 1.5, laneTop + 3, 3, LANE - 6);
          break;
        case 'stall':
        case 'abort':
        case 'task_error':
          ctx.strokeStyle = c.danger;
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(cx - 5, cy - 5); ctx.lineTo(cx + 5, cy + 5);
          ctx.moveTo(cx + 5, cy - 5); ctx.lineTo(cx - 5, cy + 5);
          ctx.stroke();
          break;
        case 'blocking':
          ctx.fillStyle = c.danger;
          ctx.fillRect(cx - Math.max(2, colW / 2), laneTop + 2, Math.max(4, colW), 4);
          ctx.fillRect(cx - Math.max(2, colW / 2), laneTop + LANE - 6, Math.max(4, colW), 4);
          break;
        case 'timer_register':
        case 'timer_fire':
          if (!fine) break;
          ctx.strokeStyle = c.timer;
          ctx.fillStyle = c.timer;
          ctx.lineWidth = 1.2;
          ctx.beginPath();
          ctx.arc(cx, cy, 3.5, 0, Math.PI * 2);
          if (e.kind === 'timer_fire') ctx.fill(); else ctx.stroke();
          break;
        case 'enqueue':
        case 'dequeue':
          if (!fine) break;
          ctx.fillStyle = c.muted;
          ctx.fillRect(cx - 1, laneTop + LANE - 6, 2, 3);
          break;
        default:
          break;
      }
    }
    ctx.globalAlpha = 1;

    // The cursor: the state after `step` events, i.e. the boundary before event `step`.
    const x = Math.round(this.#x(step)) + 0.5;
    ctx.strokeStyle = c.cursor;
    ctx.fillStyle = c.cursor;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x, 2);
    ctx.lineTo(x, this.height);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(x - 5, 0); ctx.lineTo(x + 5, 0); ctx.lineTo(x, 7);
    ctx.fill();
    this.canvas.setAttribute('aria-label',
      `${this.label}: ${tasks.length} lanes, steps ${a} to ${b} of ${total}; the cursor is at step ${step}`);
    this.drawMs = performance.now() - t0;
  }

  #head(ctx, x, y, angle) {
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x - 4 * Math.cos(angle - 0.5), y - 4 * Math.sin(angle - 0.5));
    ctx.lineTo(x - 4 * Math.cos(angle + 0.5), y - 4 * Math.sin(angle + 0.5));
    ctx.closePath();
    ctx.fill();
  }

  #at(event) {
    const rect = this.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const index = Math.floor(this.viewStart + (x * this.viewSize) / this.width);
    const lane = y < AXIS ? 0 : Math.floor((y - AXIS) / LANE) + 1;
    return { x, y, index, lane };
  }

  #blockAt(index, lane) {
    return this.blocks.find((bk) => bk.task === lane && (bk.start === -1 || bk.start <= index) && (bk.end === -1 || index <= bk.end));
  }

  #click(event) {
    if (!this.run) return;
    const { index, lane } = this.#at(event);
    const block = this.#blockAt(index, lane);
    if (block && block.end !== -1) this.onSeek(block.end + 1);
    else this.onSeek(Math.min(this.run.total, Math.max(0, index + 1)));
  }

  #hover(event) {
    if (!this.run) return;
    const { x, y, index, lane } = this.#at(event);
    const block = this.#blockAt(index, lane);
    const e = this.run.cache.get(index);
    let text = '';
    if (block && block.end !== -1) {
      const name = (this.run.final.tasks[block.task - 1] || {}).name;
      const executor = this.run.scenario ? this.run.scenario.settings.executor : '';
      const on = executor === 'thread_pool' ? ` on worker ${block.thread}`
        : executor === 'thread_per_task' ? ` on thread ${block.thread}` : '';
      text = `${name}: poll${on} returned ${block.outcome === 'ready' ? 'Ready' : 'Pending'} (click: step ${block.end + 1})`;
    } else if (e && (lane === 0 || e.task === lane)) {
      text = `#${index}: ${e.text}`;
    }
    this.tooltip.hidden = !text;
    if (text) {
      this.tooltip.textContent = text;
      this.tooltip.style.left = `${Math.min(x + 12, this.width - 220)}px`;
      this.tooltip.style.top = `${y + 14}px`;
    }
  }

  #wheel(event) {
    if (event.ctrlKey) {
      event.preventDefault();
      this.zoom(event.deltaY > 0 ? 1.25 : 0.8);
    } else if (Math.abs(event.deltaX) > Math.abs(event.deltaY) || event.shiftKey) {
      event.preventDefault();
      const delta = (event.shiftKey ? event.deltaY : event.deltaX) * (this.viewSize / this.width);
      const total = this.run ? this.run.total : 0;
      this.viewStart = Math.max(0, Math.min(Math.max(0, total + 1 - this.viewSize), Math.round(this.viewStart + delta)));
      this.render();
    }
  }
}
