// Shared helpers of the browser tests: the system Chromium through playwright-core,
// the static server (scripts/web-serve.mjs) over dist/, and a page that records
// console errors and page errors (every test asserts there are none).
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/web-serve.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'dist');
export const ARTIFACTS = path.join(ROOT, 'build', 'web-artifacts');
export const CHROMIUM = process.env.POLLSCOPE_CHROMIUM || '/usr/bin/chromium';

export const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

export function checkPrerequisites() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (scripts/setup.sh)`);
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('no dist/index.html: run npm run build first');
  if (!existsSync(path.join(DIST, 'engine', 'pollscope-engine.wasm'))) throw new Error('dist/ has no engine build');
}

export async function launch() {
  checkPrerequisites();
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, headless: true });
}

export async function serve(options = {}) {
  return startServer({ dir: DIST, ...options });
}

/* The set-up every browser test file shares: one Chromium, a plain static server
 * over dist/ (no isolation headers, as most static hosts: the single-threaded build)
 * and an isolated one (COOP/COEP: the threaded build), started before the file's
 * first test and closed after its last. Call it at the top level of a test file; the
 * fields of the returned object are set once `before` ran:
 *   const env = useBrowserAndServers();   // env.browser, env.plain, env.isolated */
export function useBrowserAndServers() {
  const env = { browser: null, plain: null, isolated: null };
  before(async () => {
    env.browser = await launch();
    env.plain = await serve({ isolation: false });
    env.isolated = await serve({ isolation: true });
  });
  after(async () => {
    if (env.browser) await env.browser.close();
    if (env.plain) await env.plain.close();
    if (env.isolated) await env.isolated.close();
  });
  return env;
}

/* A page that records problems: console errors and warnings, uncaught page errors,
 * failed requests. */
export async function openPage(browser, url, { width = 1280, height = 900, colorScheme = 'light', route } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  if (route) await page.route(route.url, route.handler);
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  await page.goto(url);
  return { page, context, problems };
}

export async function waitReady(page, timeout = 20000) {
  await page.waitForSelector('body[data-ready="true"]', { timeout });
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  // From the top: a sticky bar would otherwise be drawn where the viewport was.
  await page.evaluate(() => window.scrollTo(0, 0));
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export const tid = (id) => `[data-testid="${id}"]`;

/* Replaces the editor's text the way a paste does (CodeMirror's own paste handler,
 * one transaction). keyboard.insertText goes through the browser's contenteditable
 * editing instead, which takes seconds for a few hundred lines and tens of seconds
 * for thousands: no reader's paste does that. */
export async function pasteIntoEditor(page, value) {
  const content = page.locator(`${tid('editor')} .cm-content`);
  await content.click();
  await page.keyboard.press('Control+A');
  await content.evaluate((el, text) => {
    const data = new DataTransfer();
    data.setData('text/plain', text);
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, value);
}
