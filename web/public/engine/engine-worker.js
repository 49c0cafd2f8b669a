/* The engine's Web Worker: no run, however long, can freeze the page.
 *
 * A classic worker, so that it can importScripts Emscripten's output untouched.
 * Protocol: the page posts {id, method, args}; the worker answers {id, result} or
 * {id, error}. The first call must be {method: 'init', args: [{build}]}, build being
 * 'single' or 'threads'. */
'use strict';
importScripts('engine-api.js');

const BUILDS = {
  single: { script: 'pollscope-engine.js', factory: 'createPollscopeEngine' },
  threads: { script: 'pollscope-engine-threads.js', factory: 'createPollscopeEngineThreads' },
};
const METHODS = new Set(['load', 'eventCount', 'events', 'snapshot', 'status', 'runJson', 'scenarioJson',
  'jsonFromText', 'textFromJson', 'formatHelp', 'find']);

let api = null;

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
  return { build: api.build };
}

self.onmessage = async (event) => {
  const { id, method, args } = event.data || {};
  try {
    let result;
    if (method === 'init') {
      result = await init(args && args[0]);
    } else if (!api) {
      throw new Error('the engine is not started yet');
    } else if (!METHODS.has(method)) {
      throw new Error(`unknown engine method "${method}"`);
    } else {
      result = api[method](...(Array.isArray(args) ? args : []));
    }
    self.postMessage({ id, result });
  } catch (error) {
    self.postMessage({ id, error: String((error && error.message) || error) });
  }
};
