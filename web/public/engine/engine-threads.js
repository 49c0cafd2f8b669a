/* The threaded build's real threads, for engine-worker.js (loaded with that build
 * only). Each real thread runs on a Web Worker, which the engine's worker makes and
 * loads before a `threads real` run rather than at the start, where 17 of them slowed
 * the first render (docs/web-notes.md, Real threads). */
'use strict';
self.PollscopeThreadWorkers = (function () {
  /* How long a `threads real` run may wait for the workers. */
  const WAIT_MS = 20000;

  /* Returns beforeLoad(text), which resolves once `text` can run: at once unless it
   * asks for real threads; else when every worker has loaded and is back in the pool.
   * Both happen through this worker's event loop, which a run blocks until its threads
   * end: a thread without a ready worker would hang it. Emscripten 3.1.6's PThread. */
  function create(Module, api) {
    const { PThread } = Module;
    const size = Module.threadWorkers();
    return async function beforeLoad(text) {
      const parsed = api.jsonFromText(text);
      if (!parsed.scenario || parsed.scenario.settings.threads !== 'real') return;
      while (PThread.unusedWorkers.length + PThread.runningWorkers.length < size) {
        PThread.allocateUnusedWorker();
        PThread.loadWasmModuleToWorker(PThread.unusedWorkers[PThread.unusedWorkers.length - 1]);
      }
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const idle = PThread.unusedWorkers;
        if (idle.length >= size && idle.every((worker) => worker.loaded)) return;
        if (Date.now() > deadline) {
          throw new Error(`the threaded engine's ${size} thread workers were not ready within ${WAIT_MS / 1000} s`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
  }

  return { create };
})();
