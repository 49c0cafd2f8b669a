/* The page's handle on the engine: a promise API over the engine's Web Worker.
 *
 *   const engine = new EngineClient({ baseUrl: '/engine/' });
 *   await engine.start();                      // picks the build (detect.js)
 *   const result = await engine.load(text);    // {ok, errors, warnings, eventCount, status}
 *   const events = await engine.events(0, 100);
 *   const snap = await engine.snapshot(37);
 *
 * cancel() stops a run that takes too long by terminating the worker, and starts a
 * fresh one: a run does not return to the worker's event loop until it ends, so
 * there is no gentler way (it also ends the real threads of the threaded build). */
import { detectBuild } from './detect.js';

export class EngineCancelled extends Error {
  constructor(message = 'the run was stopped') {
    super(message);
    this.name = 'EngineCancelled';
  }
}

/* A run stopped by its wall-clock limit (load's timeoutMs); the message is for the reader. */
export class EngineTimeout extends EngineCancelled {
  constructor(timeoutMs) {
    super(`The run was stopped after ${Math.round(timeoutMs / 100) / 10} s, the limit for one run: on the real clock, ` +
      'sleep and block really wait. Shorten them, or lower max_events or the counts, then edit to run again.');
    this.name = 'EngineTimeout';
  }
}

export class EngineClient {
  constructor({ baseUrl = 'engine/', build, onProgress } = {}) {
    this.baseUrl = new URL(baseUrl, globalThis.location ? globalThis.location.href : undefined).href;
    this.detected = build ? { build, threads: build === 'threads', reason: 'chosen by the caller' } : detectBuild();
    this.onProgress = onProgress || (() => {});
    this.worker = null;
    this.pending = new Map();
    this.nextId = 1;
    this.ready = null;
  }

  get build() { return this.detected.build; }

  start() {
    if (this.ready) return this.ready;
    this.onProgress({ stage: 'starting', message: `starting the ${this.detected.build === 'threads' ? 'threaded' : 'single-threaded'} engine` });
    this.worker = new Worker(new URL('engine-worker.js', this.baseUrl));
    this.worker.onmessage = (event) => this.#settle(event.data);
    this.worker.onerror = (event) => this.#failAll(new Error(`the engine worker failed: ${event.message || 'unknown error'}`));
    this.ready = this.#send('init', [{ build: this.detected.build }]).then((info) => {
      this.onProgress({ stage: 'ready', message: 'engine ready' });
      return info;
    });
    return this.ready;
  }

  /* Runs `text`; rejects with EngineCancelled if cancel() is called meanwhile, or
   * with EngineTimeout when `timeoutMs` passes (the worker is then replaced). */
  async load(text, { maxEvents = 0, timeoutMs = 0 } = {}) {
    await this.start();
    this.onProgress({ stage: 'running', message: 'running the scenario' });
    const run = this.#send('load', [text, { maxEvents }]);
    if (!timeoutMs) return run;
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const error = new EngineTimeout(timeoutMs);
        this.cancel(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      return await Promise.race([run, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  async eventCount() { await this.start(); return this.#send('eventCount', []); }
  async events(from, to) { await this.start(); return this.#send('events', [from, to]); }
  async snapshot(step) { await this.start(); return this.#send('snapshot', [step]); }
  async status() { await this.start(); return this.#send('status', []); }
  async runJson() { await this.start(); return this.#send('runJson', []); }
  async scenarioJson() { await this.start(); return this.#send('scenarioJson', []); }
  async jsonFromText(text) { await this.start(); return this.#send('jsonFromText', [text]); }
  async textFromJson(json) { await this.start(); return this.#send('textFromJson', [json]); }
  async formatHelp() { await this.start(); return this.#send('formatHelp', []); }
  /* The first event from `from` matching {kinds, task, backward}, searched in the worker. */
  async find(from, query) { await this.start(); return this.#send('find', [from, query]); }

  /* `reason`: a message, or the EngineCancelled every call in flight rejects with. */
  cancel(reason = 'the run was stopped') {
    if (this.worker) this.worker.terminate();
    this.worker = null;
    this.ready = null;
    this.#failAll(reason instanceof EngineCancelled ? reason : new EngineCancelled(reason));
  }

  dispose() { this.cancel('the engine was closed'); }

  #send(method, args) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args });
    });
  }

  #settle({ id, result, error }) {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    if (error !== undefined) call.reject(new Error(error));
    else call.resolve(result);
  }

  #failAll(error) {
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }
}
