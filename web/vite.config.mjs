// Vite builds and serves the playground (index.html) and its embed (embed.html) from web/. Emscripten's outputs live in
// web/public/engine/ and are copied to dist/engine/ untouched (public dir); the
// presets are bundled (import.meta.glob) and also copied to dist/presets/.
import { defineConfig } from 'vite';
import { cpSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const page = process.env.POLLSCOPE_PAGE === 'embed' ? 'embed' : 'index';

// Cross-origin isolation (SharedArrayBuffer for the pthread build) and the CSP
// the page is written for. Dev and preview servers send the same headers as
// scripts/web-serve.mjs.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function copyPresets() {
  return {
    name: 'pollscope-copy-presets',
    apply: 'build',
    closeBundle() {
      const from = path.join(here, 'presets');
      const to = path.join(root, 'dist', 'presets');
      if (existsSync(from)) cpSync(from, to, { recursive: true });
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  publicDir: path.join(here, 'public'),
  plugins: [copyPresets()],
  build: {
    outDir: path.join(root, 'dist'),
    target: 'es2022',
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    // Two pages, built as two Vite entries in two passes (scripts/web-build.mjs sets
    // POLLSCOPE_PAGE): the playground (index.html, first: it empties dist/) and the
    // embed (embed.html, for iframes). Separate passes share no chunk, so neither
    // page loads the other's code or pays for split chunks (~2 KB gzip on the
    // playground's 300 KB budget). The manifests (dist/.vite/) tell
    // scripts/web-perf.mjs which files each page loads.
    emptyOutDir: page === 'index',
    manifest: `.vite/manifest-${page}.json`,
    rolldownOptions: { input: path.join(here, `${page}.html`) },
  },
  server: { headers: isolation, host: '127.0.0.1' },
  preview: { headers: isolation, host: '127.0.0.1' },
});
