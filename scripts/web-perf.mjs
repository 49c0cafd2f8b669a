#!/usr/bin/env node
// Measures the playground's performance budgets with playwright-core and the
// system Chromium, over dist/ (build it first: npm run build), and prints the numbers:
//
//   1. size      single-threaded page (HTML, JS, CSS, engine glue + worker, wasm) gzip <= 300 KB
//   2. first     first render of counter.scn within 1 s of navigation (local server)
//   3. scrub     stepping / scrubbing a 100,000-event trace: frames under 16 ms
//   4. million   a 1,000,000-event run never blocks the page more than 50 ms at a time
//
// Not a test: numbers vary with the machine. Exit status 0 unless a measurement
// could not be made; `--strict` also fails when a budget is missed; `--size-only`
// measures the sizes only (no browser).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './web-serve.mjs';
import { pageSize, PAGE_BUDGET } from './page-size.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const CHROMIUM = process.env.POLLSCOPE_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];
const strict = process.argv.includes('--strict');

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const results = [];
function report(name, value, budget, ok, detail = '') {
  results.push({ name, value, budget, ok });
  console.log(`${ok ? 'ok  ' : 'MISS'} ${name.padEnd(34)} ${String(value).padEnd(14)} budget ${budget}${detail ? `  (${detail})` : ''}`);
}

const SCN_100K = 'executor local\nmax_events 100000\n\ntask main\n  spawn a\n  spawn b\n  join a\n  join b\n\n' +
  'task a\n  count 1000000\n\ntask b\n  sleep 1ms\n  count 1000000\n';
const SCN_1M = SCN_100K.replace('max_events 100000', 'max_events 1000000');

async function openReady(browser, url, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  return { page, context, errors };
}

/* Installs observers for long tasks and long animation frames (work > 50 ms). */
async function watchBlocking(page) {
  await page.evaluate(() => {
    window.__perf = { longtasks: [], loafs: [] };
    for (const [type, list] of [['longtask', 'longtasks'], ['long-animation-frame', 'loafs']]) {
      try {
        new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__perf[list].push(e.duration); })
          .observe({ type, buffered: false });
      } catch { /* not supported */ }
    }
  });
}

async function loadScenario(page, text) {
  return page.evaluate(async (t) => {
    const app = window.pollscope;
    const t0 = performance.now();
    app.editor.setText(t);
    await app.runText(t, { keepStep: false });
    return { ms: performance.now() - t0, total: app.session.total, status: app.session.run.status.status };
  }, text);
}

/* Moves through the trace one frame at a time and records each frame's interval and
 * the page's own work in it: the input handler plus the page's one batched render
 * per frame (controls, timeline canvas, event log, and the panels when a snapshot
 * arrived). */
async function frameStats(page, mode, frames) {
  return page.evaluate(async ({ mode, frames }) => {
    const app = window.pollscope;
    const total = app.session.total;
    const scrubber = document.querySelector('[data-testid="scrubber"]');
    const intervals = [];
    const work = [];
    let last = performance.now();
    let seed = 7;
    const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
    for (let i = 0; i < frames; i++) {
      const t0 = performance.now();
      if (mode === 'scrub') {
        scrubber.value = String(Math.floor(random() * total));
        scrubber.dispatchEvent(new Event('input', { bubbles: true }));
      } else if (mode === 'step') {
        document.querySelector('[data-testid="step-forward"]').click();
      } else if (mode === 'drag') {
        scrubber.value = String(Math.floor((i / frames) * total));
        scrubber.dispatchEvent(new Event('input', { bubbles: true }));
      }
      const handler = performance.now() - t0;
      await new Promise((r) => requestAnimationFrame(() => r()));
      // After our rAF callbacks ran (timeline and log draw there).
      await new Promise((r) => setTimeout(r, 0));
      const now = performance.now();
      intervals.push(now - last);
      work.push(handler + app.frameMs);
      last = now;
    }
    const sorted = (a) => [...a].sort((x, y) => x - y);
    const pct = (a, p) => sorted(a)[Math.min(a.length - 1, Math.floor(a.length * p))];
    return {
      frames,
      workMax: Math.max(...work), workP95: pct(work, 0.95),
      intervalP50: pct(intervals, 0.5), intervalP95: pct(intervals, 0.95), intervalMax: Math.max(...intervals),
      over16: work.filter((w) => w > 16).length,
    };
  }, { mode, frames });
}

async function main() {
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('no dist/: run npm run build first');
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}`);

  const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`machine: ${os.cpus().length} cores, load average ${load()} (timings scale with the load)`);
  // 1. Size.
  const size = pageSize();
  report('single-threaded page, gzip -9', kb(size.gz), `${PAGE_BUDGET / 1024} KB`, size.gz <= PAGE_BUDGET, `raw ${kb(size.raw)}`);
  console.log(`       ${size.parts.join(' · ')}`);
  if (size.onDemand.parts.length) {
    console.log(`       loaded on demand (not in the page's load): ${size.onDemand.parts.join(' · ')}`);
  }
  if (existsSync(path.join(DIST, 'embed.html'))) {
    const embed = pageSize('embed.html');
    console.log(`     embed.html (single-threaded), gzip -9: ${kb(embed.gz)} (raw ${kb(embed.raw)}); no budget, for reference`);
    console.log(`       ${embed.parts.join(' · ')}`);
  }

  if (process.argv.includes('--size-only')) return;

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  const plain = await startServer({ dir: DIST, isolation: false });
  const isolated = await startServer({ dir: DIST, isolation: true });
  try {
    // 2. First render (median of 5 cold loads each; a new context has an empty cache).
    for (const [name, server] of [['single-threaded', plain], ['threaded (COOP/COEP)', isolated]]) {
      const times = [];
      for (let i = 0; i < 5; i++) {
        const { page, context } = await openReady(browser, `${server.url}#counter`);
        times.push(await page.evaluate(() => performance.getEntriesByName('pollscope:first-render')[0].startTime));
        await context.close();
      }
      times.sort((a, b) => a - b);
      const median = times[2];
      report(`first render, ${name}`, `${Math.round(median)} ms`, '1000 ms', median <= 1000,
        `5 loads: ${times.map((t) => Math.round(t)).join(', ')} ms`);
    }

    // 3. A 100,000-event trace: stepping, scrubbing, dragging.
    {
      const { page, context, errors } = await openReady(browser, `${plain.url}#counter`);
      const run = await loadScenario(page, SCN_100K);
      console.log(`       100k trace: ${run.total} events (${run.status}), run + first views in ${Math.round(run.ms)} ms`);
      await page.evaluate(() => window.pollscope.session.setStep(50000));
      await page.waitForTimeout(500);
      await watchBlocking(page);
      for (const mode of ['step', 'drag', 'scrub']) {
        const s = await frameStats(page, mode, mode === 'step' ? 200 : 150);
        report(`100k trace, ${mode} (${s.frames} frames)`, `${s.workMax.toFixed(1)} ms max`, '16 ms/frame',
          s.workMax <= 16, `page work p95 ${s.workP95.toFixed(1)} ms; frame interval p50 ${s.intervalP50.toFixed(1)} / ` +
          `p95 ${s.intervalP95.toFixed(1)} / max ${s.intervalMax.toFixed(1)} ms; ${s.over16} frames over 16 ms`);
      }
      const blocking = await page.evaluate(() => window.__perf);
      report('100k trace, main-thread tasks > 50 ms', blocking.longtasks.length, '0', blocking.longtasks.length === 0,
        blocking.longtasks.length ? `longest ${Math.max(...blocking.longtasks).toFixed(0)} ms` : 'none');
      if (errors.length) console.log(`       page errors: ${errors.join(' | ')}`);
      await context.close();
    }

    // 4. A 1,000,000-event run, then jumping around in it.
    {
      const { page, context, errors } = await openReady(browser, `${plain.url}#counter`);
      await watchBlocking(page);
      const run = await loadScenario(page, SCN_1M);
      const afterRun = await page.evaluate(() => ({ ...window.__perf }));
      await page.evaluate(async () => {
        const app = window.pollscope;
        const wait = () => new Promise((r) => setTimeout(r, 250));
        app.session.setStep(app.session.total);
        await wait();
        app.session.setStep(500000);
        await wait();
        document.querySelector('[data-testid="next-poll"]').click();
        await wait();
        app.session.setStep(999000);
        await wait();
      });
      const scrub = await frameStats(page, 'scrub', 120);
      const blocking = await page.evaluate(() => window.__perf);
      const longest = Math.max(0, ...blocking.longtasks, ...blocking.loafs);
      console.log(`       1M trace: ${run.total} events (${run.status}); run + first views in ${Math.round(run.ms)} ms ` +
        `(the engine runs in its worker: the page stays responsive meanwhile)`);
      report('1M run, longest main-thread block', `${longest.toFixed(0)} ms`, '50 ms', longest <= 50,
        `long tasks: ${blocking.longtasks.length} (${afterRun.longtasks.length} during the run), ` +
        `long animation frames: ${blocking.loafs.length}`);
      report('1M trace, scrub (120 frames)', `${scrub.workMax.toFixed(1)} ms max`, '16 ms/frame', scrub.workMax <= 16,
        `frame interval p95 ${scrub.intervalP95.toFixed(1)} ms`);
      if (errors.length) console.log(`       page errors: ${errors.join(' | ')}`);
      await context.close();
    }
  } finally {
    await browser.close();
    await plain.close();
    await isolated.close();
  }
  console.log(`load average at the end: ${load()}`);
  const missed = results.filter((r) => !r.ok);
  console.log(missed.length ? `${missed.length} budget(s) missed: ${missed.map((r) => r.name).join('; ')}` : 'all budgets met');
  if (strict && missed.length) process.exit(1);
}

main().catch((error) => {
  console.error(`web-perf: ${error.message}`);
  process.exit(2);
});
