/* The page's entry: starts the engine's Web Worker at once (downloading and
 * compiling the wasm is the longest part of loading), while the rest of the page
 * (CodeMirror and the views, app.js) downloads and starts in parallel.
 *
 * Which build: detect.js picks the pthread build when the page is cross-origin
 * isolated, else the single-threaded one; if the threaded build fails to start
 * (missing files, no nested workers), the single-threaded one runs, and the page
 * says so. */
import './styles.css';
import { EngineClient } from './engine/client.js';
import { detectBuild } from './engine/detect.js';

const ENGINE_BASE = 'engine/';

/* The loading bar: shown until the first render, then never again (later runs
 * are reported in the run status). */
let loaded = false;
function progress(message) {
  const box = document.getElementById('loading');
  if (!box || loaded) return;
  if (!message) {
    box.hidden = true;
    if (document.body.dataset.ready === 'true') loaded = true;
    return;
  }
  box.hidden = false;
  box.querySelector('.loading-text').textContent = message;
}

const sentence = (message) => (message ? `${message[0].toUpperCase()}${message.slice(1)}…` : null);

async function startEngine(detected) {
  const onProgress = ({ message }) => progress(sentence(message));
  let engine = new EngineClient({ baseUrl: ENGINE_BASE, onProgress });
  let note = '';
  try {
    await engine.start();
  } catch (error) {
    if (detected.build !== 'threads') throw error;
    engine.dispose();
    note = `The threaded build failed to start (${error.message}), so the single-threaded build runs instead.`;
    engine = new EngineClient({ baseUrl: ENGINE_BASE, build: 'single', onProgress });
    await engine.start();
  }
  const build = engine.build;
  return {
    engine,
    build,
    reason: detected.reason,
    note,
    createEngine: () => new EngineClient({ baseUrl: ENGINE_BASE, build }),
  };
}

function fail(message) {
  progress(null);
  const box = document.getElementById('error');
  box.hidden = false;
  box.textContent = message;
}

performance.mark('pollscope:start');
const detected = detectBuild();
const engine = startEngine(detected);
engine.catch(() => {});  // reported by the app (it awaits the same promise)
progress(`Loading the ${detected.build === 'threads' ? 'threaded' : 'single-threaded'} engine and the page…`);

import('./app.js').then(({ Playground }) => {
  const app = new Playground({ engine, detected, progress });
  window.pollscope = app;  // for the browser tests and the perf script
  return app.start();
}).catch((error) => fail(`The page failed to start: ${error.message}`));
