#!/usr/bin/env node
// `npm run build`: the playground as a self-contained static folder, dist/.
//   1. the engine's wasm builds in web/public/engine/, built when one is missing or
//      when runtime/, wasm/ or scripts/web-engine.sh changed since they were built
//      (a SHA-256 of those files, kept in web/public/engine/engine-inputs.sha256:
//      content, not mtimes, so that a fresh clone with committed outputs is judged
//      right), by $POLLSCOPE_ENGINE_BUILD if set, else by scripts/web-engine.sh,
//   2. vite build (web/ -> dist/; web/public/ copied untouched, presets bundled and
//      copied to dist/presets/), once per page: index.html, then embed.html,
//   3. a check that dist/ has everything a static host needs.
//
//   node scripts/web-build.mjs [--skip-engine] [--engine-only]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENGINE_DIR = path.join(ROOT, 'web/public/engine');
export const ENGINE_FILES = [
  'pollscope-engine.js', 'pollscope-engine.wasm',
  'pollscope-engine-threads.js', 'pollscope-engine-threads.wasm', 'pollscope-engine-threads.worker.js',
];
const STATIC_FILES = ['engine-api.js', 'engine-worker.js', 'engine-threads.js'];

const STAMP = path.join(ENGINE_DIR, 'engine-inputs.sha256');

/* SHA-256 over the engine's inputs: runtime sources and headers, the bindings, the
 * build script (its flags), and the build command if overridden. */
export function engineInputsHash() {
  const files = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(cpp|hpp|h|txt|cmake)$/.test(entry.name)) files.push(p);
    }
  };
  for (const dir of ['runtime/src', 'runtime/include', 'wasm']) walk(path.join(ROOT, dir));
  files.push(path.join(ROOT, 'scripts/web-engine.sh'));
  const hash = createHash('sha256');
  hash.update(`command:${process.env.POLLSCOPE_ENGINE_BUILD || 'scripts/web-engine.sh'}\n`);
  for (const f of files.sort()) {
    if (!existsSync(f)) continue;
    hash.update(`${path.relative(ROOT, f)}\n`);
    hash.update(readFileSync(f));
  }
  return hash.digest('hex');
}

export function engineStatus() {
  const missing = ENGINE_FILES.filter((f) => !existsSync(path.join(ENGINE_DIR, f)));
  if (missing.length) return { fresh: false, why: `missing ${missing.join(', ')}` };
  const recorded = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
  if (!recorded) return { fresh: false, why: 'no record of the inputs they were built from' };
  if (recorded !== engineInputsHash()) return { fresh: false, why: 'runtime/, wasm/ or the build script changed since' };
  return { fresh: true, why: 'up to date' };
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${[command, ...args].join(' ')} failed (${result.status ?? result.signal})`);
  }
}

export function buildEngine() {
  const status = engineStatus();
  if (status.fresh) {
    console.log('web-build: engine builds are up to date');
    return;
  }
  console.log(`web-build: building the engine (${status.why})`);
  const inputs = engineInputsHash();
  if (process.env.POLLSCOPE_ENGINE_BUILD) run('bash', ['-c', process.env.POLLSCOPE_ENGINE_BUILD]);
  else run('bash', [path.join(ROOT, 'scripts/web-engine.sh')]);
  const missing = ENGINE_FILES.filter((f) => !existsSync(path.join(ENGINE_DIR, f)));
  if (missing.length) throw new Error(`the engine build did not produce ${missing.join(', ')}`);
  writeFileSync(STAMP, `${inputs}\n`);
}

export function buildPage() {
  // Two passes, one per page (web/vite.config.mjs): index.html empties dist/ first.
  for (const page of ['index', 'embed']) {
    console.log(`web-build: vite build (web/${page}.html -> dist/)`);
    run(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.mjs',
      '--logLevel', 'warn'], { env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true', POLLSCOPE_PAGE: page } });
  }
  const need = ['index.html', 'embed.html', 'coi-sw.js', 'presets/index.json', 'presets/counter.scn',
    ...[...ENGINE_FILES, ...STATIC_FILES].map((f) => `engine/${f}`)];
  const missing = need.filter((f) => !existsSync(path.join(ROOT, 'dist', f)));
  if (missing.length) throw new Error(`dist/ lacks ${missing.join(', ')}`);
  const assets = readdirSync(path.join(ROOT, 'dist/assets'));
  console.log(`web-build: dist/ ready (index.html, embed.html, coi-sw.js, assets/${assets.join(', assets/')}, engine/, presets/)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = new Set(process.argv.slice(2));
  try {
    if (!args.has('--skip-engine')) buildEngine();
    if (!args.has('--engine-only')) buildPage();
  } catch (error) {
    console.error(`web-build: ${error.message}`);
    process.exit(1);
  }
}
