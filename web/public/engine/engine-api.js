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
        message: `the scenario is ${bytes} bytes of UTF-8; the limit is ${TEXT_LIMIT_BYTES} bytes (16 KiB)`,
        hint: 'shorten it: fewer tasks or operations',
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
      /* The first event at or after `from` (at or before it with `backward`) whose
       * kind is one of `kinds` and whose task is `task` (both optional), or null.
       * Scans in windows inside the worker: a search through a long run costs the
       * page one message instead of the whole trace. */
      find(from, query) {
        const q = query || {};
        const kinds = Array.isArray(q.kinds) ? new Set(q.kinds) : null;
        const task = q.task == null ? null : Number(q.task);
        const match = (e) => (!kinds || kinds.has(e.kind)) && (task === null || e.task === task);
        const count = engine.eventCount();
        const window = 5000;
        let start = Math.floor(Number(from) || 0);
        if (!q.backward) {
          for (let a = Math.max(0, start); a < count; a += window) {
            const events = parse(engine.events(a, Math.min(count, a + window)));
            for (const e of events) if (match(e)) return e;
          }
        } else {
          for (let b = Math.min(start, count - 1); b >= 0; b -= window) {
            const a = Math.max(0, b - window + 1);
            const events = parse(engine.events(a, b + 1));
            for (let i = events.length - 1; i >= 0; i--) if (match(events[i])) return events[i];
          }
        }
        return null;
      },
    };
  }

  return { createApi, TEXT_LIMIT_BYTES };
});
