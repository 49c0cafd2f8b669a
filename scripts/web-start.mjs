#!/usr/bin/env node
// `npm start` (web part): builds everything (engine if needed, then dist/) and
// serves the playground on 127.0.0.1 with the cross-origin isolation headers,
// opening on counter.scn; prints the URL. Options go to scripts/web-serve.mjs
// (e.g. --port 9000, --no-isolation to see the single-threaded build).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEngine, buildPage } from './web-build.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
try {
  buildEngine();
  buildPage();
} catch (error) {
  console.error(`web-start: ${error.message}`);
  process.exit(1);
}
const child = spawn(process.execPath, [path.join(ROOT, 'scripts/web-serve.mjs'), path.join(ROOT, 'dist'),
  ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
