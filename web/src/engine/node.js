/* The engine in Node (tests, scripts): the same API as the browser's EngineClient,
 * loaded in-process from the Emscripten build in web/public/engine/. */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const ENGINE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public/engine');

export async function createNodeEngine({ dir = ENGINE_DIR } = {}) {
  const factory = require(path.join(dir, 'pollscope-engine.js'));
  // Emscripten 3.1.6 fetch()es its .wasm by path, which Node's fetch cannot do:
  // hand it the bytes instead (toolchain notes, trap 2).
  const Module = await factory({ wasmBinary: readFileSync(path.join(dir, 'pollscope-engine.wasm')) });
  const { createApi } = require(path.join(dir, 'engine-api.js'));
  return createApi(Module);
}
