/* RunSession: one engine, the run it holds, and the step being watched.
 *
 * The engine records the whole trace once (load); the view then asks for what it
 * draws: snapshot(step) for the current state (one request in flight, the latest
 * step wins) and events in windows through an EventCache. Events:
 *   'loading'  {text}                     a load started
 *   'run'      {run, previousStep}        a new run replaced the old one
 *   'failed'   {result}                   the text had errors; the old run stays
 *   'step'     {step, total}              the step changed (synchronous)
 *   'snapshot' {snapshot}                 the snapshot of the current step arrived
 *   'error'    {error}                    the engine failed */
import { Emitter } from './emitter.js';
import { EventCache } from './event-cache.js';
import { carryStep, clampStep } from './step-model.js';

let nextRunId = 1;

/* The wall-clock limit of one run. Runs on the virtual clock end within their
 * event budget in about a second; on the real clock, sleep and block really wait
 * (a block holds its thread for up to 10 s, a sleep for up to an hour). */
export const RUN_TIMEOUT_MS = 30000;

/* The line of the block operation a frame is at (or the last one before it). */
function blockLine(scenario, frame) {
  const fn = scenario && scenario.tasks[frame.function];
  if (!fn) return frame.line;
  const blocks = fn.ops.filter((op) => op.kind === 'block' && op.line <= (frame.line || Infinity));
  return blocks.length ? blocks[blocks.length - 1].line : frame.line;
}

export class RunSession extends Emitter {
  constructor(engine) {
    super();
    this.engine = engine;
    this.timeoutMs = RUN_TIMEOUT_MS;
    this.run = null;       // {id, text, scenario, status, total, final, cache, result, blocking}
    this.step = 0;
    this.snapshot = null;
    this.loading = null;   // promise of the load in flight
    this.loadSeq = 0;
    this.wantStep = null;
    this.snapshotBusy = false;
  }

  get total() { return this.run ? this.run.total : 0; }

  /* Parses and runs `text`. Resolves to the engine's result ({ok, errors, warnings, ...}).
   * With keepStep the user stays at the same step where it still exists. */
  async load(text, { keepStep = true, maxEvents = 0 } = {}) {
    const seq = ++this.loadSeq;
    const previousStep = keepStep ? this.step : 0;
    if (this.run) this.run.cache.frozen = true;
    this.emit('loading', { text });
    const work = (async () => {
      // Sent together: the worker answers them in order without a round trip between.
      const [parsed, result] = await Promise.all([this.engine.jsonFromText(text),
        this.engine.load(text, { maxEvents, timeoutMs: this.timeoutMs })]);
      if (!result.ok) return { result, parsed };
      const final = await this.engine.snapshot(result.eventCount);
      return { result, parsed, final };
    })();
    this.loading = work;
    let outcome;
    try {
      outcome = await work;
    } catch (error) {
      if (seq === this.loadSeq) {
        this.loading = null;
        if (this.run) this.run.cache.frozen = false;
        this.emit('error', { error });
      }
      throw error;
    }
    if (seq !== this.loadSeq) return Object.assign(outcome.result, { parsed: outcome.parsed, superseded: true });
    this.loading = null;
    const { result, parsed, final } = outcome;
    result.parsed = parsed;
    if (!result.ok) {
      if (this.run) this.run.cache.frozen = false;
      this.emit('failed', { result, parsed });
      return result;
    }
    if (this.run) this.run.cache.dispose();
    const total = result.eventCount;
    const cache = new EventCache((from, to) => this.engine.events(from, to), total);
    this.run = {
      id: nextRunId++,
      text,
      scenario: parsed.scenario,
      status: result.status,
      total,
      final,
      cache,
      result,
      blocking: null,
    };
    this.step = carryStep(previousStep, total);
    this.snapshot = null;
    this.emit('run', { run: this.run, previousStep });
    this.emit('step', { step: this.step, total });
    this.#requestSnapshot();
    return result;
  }

  setStep(step) {
    if (!this.run) return;
    const k = clampStep(step, this.run.total);
    if (k === this.step) return;
    this.step = k;
    this.emit('step', { step: k, total: this.run.total });
    this.#requestSnapshot();
  }

  /* The first event at/after `from` (or at/before it, backward) matching the query
   * {kinds, task}: from the cache when it is there, else searched in the worker.
   * null: there is none; undefined: the search was cancelled or the run replaced. */
  async find(from, query) {
    if (!this.run) return null;
    const { cache, total } = this.run;
    const kinds = query.kinds ? new Set(query.kinds) : null;
    const match = (e) => (!kinds || kinds.has(e.kind)) && (query.task == null || e.task === query.task);
    const dir = query.backward ? -1 : 1;
    let i = from;
    for (; i >= 0 && i < total; i += dir) {
      const e = cache.get(i);
      if (!e) break;
      if (match(e)) return e;
    }
    if (i < 0 || i >= total) return null;
    // In bounded slices, so that snapshot requests interleave with a long search.
    const runId = this.run.id;
    this.searching = true;
    this.emit('searching', { active: true });
    try {
      for (let next = i; next >= 0;) {
        const { event, next: after } = await this.engine.find(next, { ...query, limit: 20000 });
        if (!this.run || this.run.id !== runId || this.searchCancelled) return undefined;  // cancelled
        if (event) return event;
        next = after;
      }
      return null;
    } finally {
      this.searching = false;
      this.searchCancelled = false;
      this.emit('searching', { active: false });
    }
  }

  /* Stops a search started by find() (the user moved on). */
  cancelSearch() {
    if (this.searching) this.searchCancelled = true;
  }

  /* Blocking calls of the run (for warnings): at most `limit`, each with its line. */
  async blockingCalls(limit = 8) {
    const run = this.run;
    if (!run) return [];
    if (run.blocking) return run.blocking;
    const found = [];
    const scenario = run.scenario;
    const hasBlock = scenario && scenario.tasks.some((t) => t.ops.some((op) => op.kind === 'block'));
    if (hasBlock) {
      // Looks at the first 100,000 events at most: warnings must not hold the worker.
      const seen = new Set();
      let from = 0;
      while (found.length < limit && from >= 0 && from < Math.min(run.total, 100000)) {
        const { event: e, next } = await this.engine.find(from, { kinds: ['blocking'], limit: 20000 });
        if (this.run !== run) break;
        if (!e) {
          from = next;
          continue;
        }
        from = e.index + 1;
        if (seen.has(e.task)) continue;
        seen.add(e.task);
        // The `blocking` event is recorded when the call returns; the state just
        // before it still points at the block operation.
        const snap = await this.engine.snapshot(e.index);
        const task = snap.tasks[e.task - 1];
        const frame = task && task.stack.length ? task.stack[task.stack.length - 1] : null;
        found.push({ index: e.index, task: e.task, name: task ? task.name : `task ${e.task}`,
          line: frame ? blockLine(scenario, frame) : 0, duration: e.deadline });
      }
    }
    if (this.run === run) run.blocking = found;
    return found;
  }

  async #requestSnapshot() {
    this.wantStep = this.step;
    if (this.snapshotBusy) return;
    this.snapshotBusy = true;
    try {
      while (this.run && this.wantStep !== null) {
        if (this.loading) {
          try { await this.loading; } catch { /* reported by load */ }
          continue;
        }
        const step = this.wantStep;
        const runId = this.run.id;
        this.wantStep = null;
        const snapshot = await this.engine.snapshot(step);
        if (!this.run || this.run.id !== runId || this.loading) {
          if (this.run && this.wantStep === null) this.wantStep = this.step;
          continue;
        }
        // Shown even when the step moved on meanwhile (scrubbing): the next
        // iteration fetches the latest one.
        this.snapshot = snapshot;
        this.emit('snapshot', { snapshot });
      }
    } catch (error) {
      this.emit('error', { error });
    } finally {
      this.snapshotBusy = false;
    }
  }
}
