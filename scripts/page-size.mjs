// The playground's size as the budget counts it (docs/web-notes.md, Performance): what
// the single-threaded page loads until its first run, gzip -9, from dist/ (build it
// first: npm run build). Used by scripts/web-perf.mjs (the report) and by
// tests/web/core.test.mjs (the budget as a test of the web leg).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(ROOT, 'dist');

/** The budget of the single-threaded playground page, bytes of gzip -9. */
export const PAGE_BUDGET = 300 * 1024;

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

/* The files a page loads, from Vite's manifest (dist/.vite/manifest-PAGE.json): its
 * entry chunk and everything that chunk imports statically, plus the chunks the
 * entry imports dynamically at start (main.js -> app.js) with their static imports,
 * and their CSS. Chunks imported dynamically from deeper down are loaded on demand
 * (share.js: the Embed dialog and the exports, on first click) and are reported
 * apart. Falls back to every file in assets/ without a manifest. */
export function pageFiles(entry) {
  const manifestFile = path.join(DIST, `.vite/manifest-${entry.replace(/\.html$/, '')}.json`);
  if (!existsSync(manifestFile)) {
    return { files: readdirSync(path.join(DIST, 'assets')).map((f) => `assets/${f}`), onDemand: [] };
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const files = new Set();
  const seen = new Set();
  const visit = (key) => {
    if (seen.has(key) || !manifest[key]) return;
    seen.add(key);
    const chunk = manifest[key];
    files.add(chunk.file);
    for (const css of chunk.css || []) files.add(css);
    for (const dep of chunk.imports || []) visit(dep);
  };
  visit(entry);
  for (const dep of manifest[entry].dynamicImports || []) visit(dep);
  const onDemand = new Set();
  const later = (key) => {
    if (seen.has(key) || !manifest[key]) return;
    seen.add(key);
    onDemand.add(manifest[key].file);
    for (const css of manifest[key].css || []) onDemand.add(css);
    for (const dep of [...(manifest[key].imports || []), ...(manifest[key].dynamicImports || [])]) later(dep);
  };
  for (const key of [...seen]) for (const dep of manifest[key].dynamicImports || []) later(dep);
  return { files: [...files], onDemand: [...onDemand] };
}

export function gzipSizes(files) {
  let raw = 0;
  let gz = 0;
  const parts = [];
  for (const f of files) {
    const data = readFileSync(path.join(DIST, f));
    const z = zlib.gzipSync(data, { level: 9 }).length;
    raw += data.length;
    gz += z;
    parts.push(`${f} ${kb(z)}`);
  }
  return { raw, gz, parts };
}

export const ENGINE_SINGLE = ['engine/engine-worker.js', 'engine/engine-api.js', 'engine/pollscope-engine.js', 'engine/pollscope-engine.wasm'];

export function pageSize(html = 'index.html') {
  const { files, onDemand } = pageFiles(html);
  return { ...gzipSizes([html, ...files, ...ENGINE_SINGLE]), onDemand: gzipSizes(onDemand) };
}

