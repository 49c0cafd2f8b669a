/* The engine's Web Worker: no run, however long, can freeze the page.
 *
 * A classic worker, so that it can importScripts Emscripten's output untouched.
 * Protocol: the page posts {id, method, args}; the worker answers {id, result} or
 * {id, error}. The first call must be {method: 'init', args: [{build}]}, build being
 * 'single' or 'threads'. Calls are answered one at a time, in order. */
'use strict';
importScripts('engine-api.js');

const BUILDS = {
  single: { script: 'pollscope-engine.js', factory: 'createPollscopeEngine' },
  threads: { script: 'pollscope-engine-threads.js', factory: 'createPollscopeEngineThreads' },
};
const METHODS = new Set(['load', 'eventCount', 'events', 'snapshot', 'status', 'runJson', 'scenarioJson',
  'jsonFromText', 'textFromJson', 'formatHelp', 'find']);

let api = null;
let beforeLoad = null;  // the threaded build's, see engine-threads.js

async function init(options) {
  const build = BUILDS[options && options.build];
  if (!build) throw new Error(`unknown engine build "${options && options.build}"`);
  const url = new URL(build.script, self.location.href).href;
  importScripts(url);
  const Module = await self[build.factory]({
    // The pthread build starts its threads as nested workers from this URL.
    mainScriptUrlOrBlob: url,
    locateFile: (path) => new URL(path, self.location.href).href,
  });
  api = self.PollscopeEngineApi.createApi(Module);
  if (Module.threadWorkers) {
    importScripts('engine-threads.js');
    beforeLoad = self.PollscopeThreadWorkers.create(Module, api);
  }
  return { build: api.build };
}

async function handle({ id, method, args }) {
  try {
    let result;
    if (method === 'init') {
      result = await init(args && args[0]);
    } else if (!api) {
      throw new Error('the engine is not started yet');
    } else if (!METHODS.has(method)) {
      throw new Error(`unknown engine method "${method}"`);
    } else {
      const list = Array.isArray(args) ? args : [];
      if (method === 'load' && beforeLoad) await beforeLoad(list[0]);
      result = api[method](...list);
    }
    self.postMessage({ id, result });
  } catch (error) {
    self.postMessage({ id, error: String((error && error.message) || error) });
  }
}

// In order: a load waiting for its thread workers must not be overtaken.
let queue = Promise.resolve();
self.onmessage = (event) => {
  queue = queue.then(() => handle(event.data || {}));
};
