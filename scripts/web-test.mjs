#!/usr/bin/env node
// The web leg of `npm test`: builds dist/ (engine when needed), then runs the
// browser tests and the page's unit tests with node --test (tests/web/*.test.mjs).
// Prints node's own report and, last, one line "web: N passed, M failed"; exits
// non-zero when a test failed or none ran.
//
//   node scripts/web-test.mjs [--no-build] [node --test args...]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEngine, buildPage } from './web-build.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const extra = args.filter((a) => a !== '--no-build');

if (!noBuild) {
  try {
    buildEngine();
    buildPage();
  } catch (error) {
    console.error(`web-test: build failed: ${error.message}`);
    console.log('web: 0 passed, 1 failed');
    process.exit(1);
  }
}
const files = readdirSync(path.join(ROOT, 'tests/web')).filter((f) => f.endsWith('.test.mjs')).sort()
  .map((f) => path.join('tests/web', f));
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...extra, ...files],
  { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
process.stdout.write(result.stdout || '');
const count = (name) => Number((new RegExp(`ℹ ${name} (\\d+)`).exec(result.stdout || '') || [])[1] || 0);
const passed = count('pass');
const failed = count('fail') + count('cancelled');
console.log(`web: ${passed} passed, ${failed} failed`);
process.exit(result.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
