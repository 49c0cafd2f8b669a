/* The engine's JavaScript API over one instance of an Emscripten build.
 *
 * Shared, as a classic script, by the engine's Web Worker (importScripts) and by
 * Node (require): the same methods answer in the browser and in tests. Every method
 * returns plain data (the engine hands JSON strings across the wasm boundary; field
 * names are documented in runtime/include/pollscope/engine/json.hpp). */
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.PollscopeEngineApi = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  /* A scenario may hold 16 KiB of UTF-8; four times as many UTF-16 units is more
   * than any valid one. Longer strings are refused here, before they are copied
   * into wasm memory, with the engine's own wording. */
  const TEXT_LIMIT_BYTES = 16 * 1024;
  const MAX_TEXT_UNITS = 4 * TEXT_LIMIT_BYTES;

  function tooLong(text) {
    const bytes = new TextEncoder().encode(text).length;
    return {
      ok: false,
      errors: [{
        line: 1, column: 1,
        message: `the scenario is ${bytes} bytes; the limit is ${TEXT_LIMIT_BYTES} bytes (16 KiB)`,
        hint: 'shorten it, e.g. remove comments or unused tasks',
      }],
      warnings: [],
      eventCount: 0,
    };
  }

  function createApi(Module) {
    const engine = new Module.Engine();
    const parse = (json) => JSON.parse(json);
    return {
      build: Module.threadsBuild() ? 'threads' : 'single',
      /* Parses and runs `text`; {ok, errors, warnings, eventCount, status}. On
       * errors the previous run stays loaded. */
      load(text, options) {
        text = String(text);
        if (text.length > MAX_TEXT_UNITS) return tooLong(text);
        const maxEvents = Number((options && options.maxEvents) || 0);
        const result = parse(engine.load(text, Number.isFinite(maxEvents) ? maxEvents : 0));
        result.eventCount = engine.eventCount();
        if (result.ok) result.status = parse(engine.status());
        return result;
      },
      eventCount: () => engine.eventCount(),
      events: (from, to) => parse(engine.events(Number(from) || 0, Number(to) || 0)),
      snapshot: (step) => parse(engine.snapshot(Number(step) || 0)),
      status: () => parse(engine.status()),
      /* The whole run as a JSON string (export). */
      runJson: () => engine.runJson(),
      scenarioJson: () => parse(engine.scenarioJson()),
      jsonFromText: (text) => parse(Module.jsonFromText(String(text).slice(0, MAX_TEXT_UNITS + 1))),
      textFromJson: (json) => parse(Module.textFromJson(typeof json === 'string' ? json : JSON.stringify(json))),
      formatHelp: () => Module.formatHelp(),
      /* Searches events from `from` (forwards, or backwards with `backward`) for
       * the first whose kind is one of `kinds` and whose task is `task` (both
       * optional). Looks at no more than `limit` events (default 50,000), so one
       * call never holds the worker long: {event, next} where event is the match
       * (or null) and next is where to go on searching (-1: nothing left).
       * Uses the engine's own find when the bindings have one (fast), else scans
       * events(from, to) windows here. */
      find(from, query) {
        const q = query || {};
        const count = engine.eventCount();
        const backward = Boolean(q.backward);
        const limit = Math.max(1, Math.floor(Number(q.limit) || 50000));
        const task = q.task == null ? null : Number(q.task);
        let i = Math.floor(Number(from) || 0);
        if (backward ? i < 0 : i >= count) return { event: null, next: -1 };
        i = Math.max(0, Math.min(count - 1, i));
        if (typeof engine.find === 'function') {
          const index = engine.find(i, (q.kinds || []).join(','), task === null ? 0 : task, backward);
          return { event: index >= 0 ? parse(engine.events(index, index + 1))[0] : null, next: -1 };
        }
        const kinds = Array.isArray(q.kinds) ? new Set(q.kinds) : null;
        const match = (e) => (!kinds || kinds.has(e.kind)) && (task === null || e.task === task);
        const window = 1000;
        let scanned = 0;
        while (scanned < limit && (backward ? i >= 0 : i < count)) {
          const size = Math.min(window, limit - scanned);
          const a = backward ? Math.max(0, i - size + 1) : i;
          const b = backward ? i + 1 : Math.min(count, i + size);
          const events = parse(engine.events(a, b));
          if (backward) {
            for (let k = events.length - 1; k >= 0; k--) if (match(events[k])) return { event: events[k], next: -1 };
            i = a - 1;
          } else {
            for (const e of events) if (match(e)) return { event: e, next: -1 };
            i = b;
          }
          scanned += b - a;
        }
        return { event: null, next: backward ? (i >= 0 ? i : -1) : (i < count ? i : -1) };
      },
    };
  }

  return { createApi, TEXT_LIMIT_BYTES };
});
