// End-to-end tests of share links, the embed and static deployment, in headless
// Chromium (playwright-core driving /usr/bin/chromium) over dist/:
//   - a link round-trip in a fresh browser context (scenario, step, caption, log),
//   - malformed links: a message and the default preset, no page error, no dialog,
//   - copy link, the trace as JSON, the CLI command, the Embed dialog,
//   - a blog on one origin (127.0.0.1) embedding the player from another (localhost):
//     loads, steps, resizes, single-threaded; several embeds start lazily,
//   - the embed's options and themes (screenshots), `threads real` without isolation,
//   - the service worker that isolates a page served without COOP/COEP.
// Every test fails on a console error or warning, a page error or a JS dialog.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { useBrowserAndServers, screenshot, tid, ROOT, ARTIFACTS } from './helpers.mjs';
import { encodeLink } from '../../web/src/core/link.js';
import { badLinks } from './hostile-inputs.mjs';

const COUNTER_TEXT = readFileSync(path.join(ROOT, 'web/presets/counter.scn'), 'utf8');
const CAPTION_14 = 'a returned Pending at count(10) (line 12), but woke itself first, so it is polled again soon although nothing changed: a wasted poll.';
const REAL_THREADS = 'executor thread_pool\nworkers 2\nthreads real\nclock real\n\ntask main\n  spawn a\n  spawn b\n  join a\n  join b\n\n' +
  'task a\n  count 5\n\ntask b\n  count 7\n';

const env = useBrowserAndServers();

/* A blog on its own origin: serves `pages[path]` as HTML, no CSP. */
function startBlog(pages) {
  const server = http.createServer((req, res) => {
    const body = pages[new URL(req.url, 'http://x').pathname];
    if (body === undefined) return res.writeHead(404).end('not found');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  })));
}

/* A fresh context; records console errors/warnings, page errors, failed requests
 * and JS dialogs (alert/confirm/prompt: none may ever open). */
async function withContext(body, { expected = [], permissions = false, colorScheme = 'light', width = 1280, height = 900 } = {}) {
  const context = await env.browser.newContext({ viewport: { width, height }, colorScheme, deviceScaleFactor: 1, acceptDownloads: true });
  if (permissions) await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const problems = [];
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('dialog', (d) => { problems.push(`dialog: ${d.type()} ${d.message()}`); d.dismiss().catch(() => {}); });
  };
  context.on('page', watch);
  try {
    await body(context);
    const unexpected = problems.filter((p) => !expected.some((re) => re.test(p)));
    assert.deepEqual(unexpected, [], 'no console errors, page errors or dialogs');
  } finally {
    await context.close();
  }
}

async function open(context, url) {
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

const ready = (page, timeout = 30000) => page.waitForSelector('body[data-ready="true"]', { timeout });
const text = (page, id) => page.locator(tid(id)).first().textContent();

async function expectLabel(target, want) {
  await target.waitForFunction((w) => document.querySelector('[data-testid="step-label"]').textContent === w, want,
    { timeout: 10000 });
}

async function expectCaption(target, want) {
  await target.waitForFunction((w) => document.querySelector('[data-testid="caption"]').textContent === w, want,
    { timeout: 10000 });
}

/* The log's last `n` entries up to the current step, in order (all loaded). */
async function lastLogEntries(page, n = 5) {
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="log-entry"] .log-text')]
    .every((e) => e.textContent !== '…') && document.querySelector('[data-testid="log-entry"][aria-current="step"]'));
  return page.evaluate((count) => [...document.querySelectorAll('[data-testid="log-entry"]')]
    .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
    .slice(-count).map((e) => `${Number(e.dataset.index) + 1}: ${e.querySelector('.log-text').textContent}`), n);
}

async function frameWhere(page, predicate) {
  for (let i = 0; i < 300; i++) {
    const frame = page.frames().find(predicate);
    if (frame) return frame;
    await page.waitForTimeout(100);
  }
  throw new Error('no such frame');
}

async function waitHash(page, re) {
  await page.waitForFunction((source) => new RegExp(source).test(location.hash), re.source, { timeout: 10000 });
  return page.evaluate(() => location.hash);
}

describe('share links', () => {
  test('a link round-trips in a fresh browser context: same scenario, step, caption and log', async () => {
    let link;
    let before;
    await withContext(async (context) => {
      const page = await open(context, `${env.plain.url}#counter`);
      await ready(page);
      // Edit the scenario (no longer a preset), step to 37, speed 2, hide a panel.
      const edited = COUNTER_TEXT.replace('count 23', 'count 17');
      await page.evaluate((t) => { window.pollscope.editor.setText(t); return window.pollscope.runText(t); }, edited);
      const total = await page.evaluate(() => window.pollscope.session.total);
      assert.notEqual(total, 185);
      await expectLabel(page, `Step 0 / ${total}`);
      await page.locator(tid('scrubber')).fill('37');
      await expectLabel(page, `Step 37 / ${total}`);
      await page.locator(tid('speed')).selectOption('2');
      await page.click(tid('panels-menu'));
      await page.locator(`${tid('panel-toggle')}[data-panel="counters"]`).uncheck();
      const hash = await waitHash(page, /^#v1\/[A-Za-z0-9+\-$]+\.[0-9a-f]{8}\?step=37&panels=executor,code,timeline,log&speed=2$/);
      await page.click(tid('copy-link'));
      await page.waitForFunction(() => /Link copied/.test(document.querySelector('[data-testid="share-status"]').textContent));
      link = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(link, `${env.plain.url}${hash}`);
      before = {
        total,
        text: await page.evaluate(() => window.pollscope.editor.text),
        caption: await text(page, 'caption'),
        log: await lastLogEntries(page),
      };
      assert.equal(before.text, edited);
      assert.equal(before.log.length, 5);
      assert.match(before.log[4], /^37: /);
    }, { permissions: true });

    await withContext(async (context) => {
      const page = await open(context, link);
      await ready(page);
      await expectLabel(page, `Step 37 / ${before.total}`);
      await expectCaption(page, before.caption);
      assert.equal(await page.evaluate(() => window.pollscope.editor.text), before.text);
      assert.deepEqual(await lastLogEntries(page), before.log);
      assert.equal(await page.locator(tid('speed')).inputValue(), '2');
      assert.equal(await page.locator('section[data-panel="counters"]').isHidden(), true);
      assert.equal(await page.locator('section[data-panel="log"]').isVisible(), true);
      assert.equal(await page.locator(tid('link-error')).isVisible(), false);
      assert.equal(await page.locator(tid('preset-select')).inputValue(), '', 'not a preset any more');
      // The address bar keeps following the state.
      await page.click(tid('step-forward'));
      await waitHash(page, /step=38/);
    });
  });

  test('preset fragments and v0 links still open; the address bar becomes a v1 link', async () => {
    await withContext(async (context) => {
      const page = await open(context, `${env.plain.url}#counter?step=14`);
      await ready(page);
      await expectLabel(page, 'Step 14 / 185');
      await expectCaption(page, CAPTION_14);
      assert.equal(await page.locator(tid('preset-select')).inputValue(), 'counter.scn');

      const v0 = await open(context, `${env.plain.url}#v0/${encodeURIComponent(COUNTER_TEXT)}?step=12&speed=4`);
      await ready(v0);
      await expectLabel(v0, 'Step 12 / 185');
      assert.equal(await v0.locator(tid('preset-select')).inputValue(), 'counter.scn', 'the text is the preset');
      assert.equal(await v0.locator(tid('speed')).inputValue(), '4');
      await waitHash(v0, /^#v1\/.*\?step=12&speed=4$/);

      // Choosing a preset gives its short fragment; at step 0 with defaults it stays so.
      await v0.locator(tid('speed')).selectOption('1');
      await v0.locator(tid('preset-select')).selectOption('timers.scn');
      await waitHash(v0, /^#timers$/);
      // A link pasted into the address bar of the open page (hashchange) opens too.
      await v0.evaluate((h) => { location.hash = h; }, encodeLink({ text: COUNTER_TEXT, step: 14 }));
      await expectLabel(v0, 'Step 14 / 185');
    });
  });

  test('bad links show a message and the default preset: no page error, no dialog, nothing executed', async () => {
    const corpus = badLinks(COUNTER_TEXT);
    await withContext(async (context) => {
      for (const [name, fragment] of Object.entries(corpus)) {
        const page = await open(context, `${env.plain.url}#${fragment}`);
        await ready(page);
        const error = page.locator(tid('link-error'));
        await error.waitFor({ state: 'visible', timeout: 10000 }).catch(() => assert.fail(`${name}: no message`));
        assert.match(await error.textContent(), /^This link('s scenario has errors| cannot be opened)/, name);
        assert.match(await error.textContent(), /default preset is shown instead/, name);
        assert.equal(await error.getAttribute('role'), 'alert');
        await page.waitForFunction((t) => window.pollscope.editor.text === t, COUNTER_TEXT);
        await expectLabel(page, 'Step 0 / 185');
        assert.equal(await page.locator(tid('preset-select')).inputValue(), 'counter.scn', name);
        assert.equal(await page.evaluate(() => window.__pwned), undefined, `${name}: nothing from the link ran`);
        assert.equal(await page.locator('img[src="x"], body script:not([type="module"])').count(), 0, `${name}: no element from the link`);
        await page.close();
      }
      // A bad link pasted into an open page.
      const page = await open(context, `${env.plain.url}#counter`);
      await ready(page);
      await page.evaluate(() => { location.hash = 'v1/broken'; });
      await page.locator(tid('link-error')).waitFor({ state: 'visible' });
      assert.equal(await page.evaluate(() => location.hash), '#counter');
      await screenshot(page, 'link-error');
    });
  });

  test('the bad-link banner goes once the user edits the text or the form, or opens another link', async () => {
    await withContext(async (context) => {
      const page = await open(context, `${env.plain.url}#v1/broken`);
      await ready(page);
      const banner = page.locator(tid('link-error'));
      const shown = () => banner.waitFor({ state: 'visible', timeout: 10000 });
      const gone = () => banner.waitFor({ state: 'hidden', timeout: 10000 });
      await shown();
      // Still there once the default preset ran: the page did that, not the user.
      await expectLabel(page, 'Step 0 / 185');
      assert.equal(await banner.isVisible(), true);
      // A keystroke in the editor.
      await page.locator(`${tid('editor')} .cm-content`).click();
      await page.keyboard.press('End');
      await page.keyboard.type(' ');
      await gone();
      await page.screenshot({ path: path.join(ARTIFACTS, 'link-error-after-edit.png') });
      // An edit in the form.
      await page.evaluate(() => { location.hash = 'v1/broken-again'; });
      await shown();
      await page.locator(`${tid('form-task')}[data-task="a"] ${tid('op-value')}`).first().fill('9');
      await gone();
      await page.waitForFunction(() => /\n {2}count 9\n/.test(window.pollscope.editor.text));
      // Another link opened in the page (a good one).
      await page.evaluate(() => { location.hash = 'v1/broken-once-more'; });
      await shown();
      await page.evaluate((h) => { location.hash = h; }, encodeLink({ text: COUNTER_TEXT, step: 3 }));
      await expectLabel(page, 'Step 3 / 185');
      assert.equal(await banner.isVisible(), false);
    });
  });

  test('copy link feedback, the trace as JSON and the CLI command', async () => {
    await withContext(async (context) => {
      const page = await open(context, `${env.plain.url}#counter?step=14`);
      await ready(page);
      await page.click(tid('export-menu'));
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(tid('export-json'))]);
      assert.equal(download.suggestedFilename(), 'pollscope-counter.json');
      const run = JSON.parse(readFileSync(await download.path(), 'utf8'));
      assert.equal(run.events.length, 185);
      assert.equal(run.events[3].text, '[0ns] polling main');
      await page.click(tid('export-menu'));
      await page.click(tid('copy-cli'));
      await page.waitForFunction(() => /Command copied/.test(document.querySelector('[data-testid="share-status"]').textContent));
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `pollscope run - <<'EOF'\n${COUNTER_TEXT}EOF\n`);
    }, { permissions: true });
  });

  test('the Embed dialog makes a snippet with the options', async () => {
    await withContext(async (context) => {
      const page = await open(context, `${env.plain.url}#counter?step=14`);
      await ready(page);
      await expectLabel(page, 'Step 14 / 185');
      await page.click(tid('embed-button'));
      const dialog = page.locator(tid('embed-dialog'));
      await dialog.waitFor();
      let snippet = await text(page, 'embed-snippet');
      assert.match(snippet, new RegExp(`^<iframe src="${env.plain.url.replace(/[.:/]/g, '\\$&')}embed\\.html#v1/[^"]+\\?step=14" `));
      assert.match(snippet, /loading="lazy"/);
      assert.match(snippet, /title="pollscope: The self-waking Counter"/);
      assert.match(snippet, /<script>[\s\S]*pollscope:height[\s\S]*<\/script>\n$/);
      await page.locator(tid('embed-theme')).selectOption('dark');
      await page.locator(tid('embed-autoplay')).check();
      await page.locator(`${tid('embed-panel')}[data-panel="log"]`).check();
      await page.locator(tid('embed-step')).fill('3');
      snippet = await text(page, 'embed-snippet');
      assert.match(snippet, /embed\.html\?autoplay=1&amp;theme=dark&amp;panels=executor,code,timeline,log#v1\/[^"]+\?step=3"/);
      assert.equal(await page.locator(tid('embed-preview')).getAttribute('rel'), 'noopener');
      await page.locator(tid('embed-theme')).selectOption('auto');
      await page.locator(tid('embed-autoplay')).uncheck();
      await page.locator(tid('embed-step')).fill('14');
      await page.locator(`${tid('embed-panel')}[data-panel="log"]`).uncheck();
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'embed-dialog.png') });
      await page.click(tid('embed-close'));
      await dialog.waitFor({ state: 'hidden' });
    });
  });
});

describe('embedding', () => {
  test('a blog on another origin embeds the player: loads, steps, resizes, single-threaded', async () => {
    const embedOrigin = `http://localhost:${env.plain.port}/`;
    let snippet;
    await withContext(async (context) => {
      const page = await open(context, `${embedOrigin}#counter?step=14`);
      await ready(page);
      await expectLabel(page, 'Step 14 / 185');
      await page.click(tid('embed-button'));
      snippet = await text(page, 'embed-snippet');
    });
    assert.match(snippet, /src="http:\/\/localhost:\d+\/embed\.html#v1\//);
    const blog = await startBlog({
      '/post.html': `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>A blog post</title></head><body>
        <h1>How an executor polls</h1><p>Watch it:</p>${snippet}<p>The end.</p></body></html>`,
    });
    try {
      await withContext(async (context) => {
        const page = await open(context, `${blog.url}post.html`);
        const iframe = page.locator('iframe');
        assert.equal(await iframe.getAttribute('height'), '520');
        const frame = await frameWhere(page, (f) => f.url().startsWith(`${embedOrigin}embed.html`));
        await frame.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
        await expectLabel(frame, 'Step 14 / 185');
        await expectCaption(frame, CAPTION_14);
        // Resized by the snippet's script from the embed's height message.
        await page.waitForFunction(() => document.querySelector('iframe').style.height !== '');
        const height = await iframe.evaluate((f) => f.getBoundingClientRect().height);
        const content = await frame.evaluate(() => Math.ceil(document.getElementById('embed-root').getBoundingClientRect().height));
        assert.notEqual(height, 520);
        assert.equal(height, content, 'the iframe is as tall as the player');
        // Steps.
        await frame.click(tid('step-forward'));
        await expectLabel(frame, 'Step 15 / 185');
        await frame.click(tid('step-back'));
        await frame.click(tid('step-back'));
        await expectLabel(frame, 'Step 13 / 185');
        // Single-threaded, not isolated, nothing stored, no service worker, and the
        // parent left alone.
        assert.equal(await frame.locator(tid('threads-status')).getAttribute('data-threads'), '0');
        assert.deepEqual(await frame.evaluate(async () => ({
          isolated: self.crossOriginIsolated, cookie: document.cookie, storage: (() => { try { return localStorage.length; } catch { return 0; } })(),
          sw: await navigator.serviceWorker.getRegistrations().then((r) => r.length, () => 0),
        })), { isolated: false, cookie: '', storage: 0, sw: 0 });
        assert.equal(page.url(), `${blog.url}post.html`);
        const openLink = frame.locator(tid('open-playground'));
        assert.equal(await openLink.getAttribute('target'), '_blank');
        assert.equal(await openLink.getAttribute('rel'), 'noopener');
        await frame.waitForFunction(() => /step=13/.test(document.querySelector('[data-testid="open-playground"]').href));
        const href = await openLink.getAttribute('href');
        assert.ok(href.startsWith(`${embedOrigin}#v1/`), href);
        await screenshot(page, 'embed-in-blog');
        // "Open in playground" carries the state: a new tab at the same step.
        const [tab] = await Promise.all([context.waitForEvent('page'), openLink.click()]);
        await ready(tab);
        await expectLabel(tab, 'Step 13 / 185');
      });
    } finally {
      await blog.close();
    }
  });

  test('several embeds on one page start lazily: in view, scrolled into view, or clicked', async () => {
    const src = (step) => `http://localhost:${env.plain.port}/embed.html#${encodeLink({ text: COUNTER_TEXT, step })}`;
    const frameTag = (name, step) => `<iframe name="${name}" src="${src(step)}" title="${name}" style="width:100%;height:420px;border:0"></iframe>`;
    const blog = await startBlog({
      '/two.html': `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Two embeds</title></head><body style="margin:0">
        ${frameTag('first', 3)}<div style="height:3000px">Long text…</div>${frameTag('second', 7)}
        <div style="height:3000px">More text…</div>${frameTag('third', 9)}</body></html>`,
    });
    try {
      await withContext(async (context) => {
        const page = await open(context, `${blog.url}two.html`);
        const frame = (name) => page.frames().find((f) => f.name() === name);
        await page.waitForFunction(() => document.querySelectorAll('iframe').length === 3);
        await page.waitForLoadState('load');
        await frame('first').waitForSelector('body[data-ready="true"]', { timeout: 30000 });
        await expectLabel(frame('first'), 'Step 3 / 185');
        for (const name of ['second', 'third']) {
          await frame(name).waitForSelector('#embed-start-button');
          assert.equal(await frame(name).evaluate(() => document.body.dataset.engine), 'idle', `${name} has not started`);
        }
        await page.waitForTimeout(500);
        assert.equal(await frame('second').evaluate(() => document.body.dataset.engine), 'idle', 'still idle out of view');
        // Scrolled into view: it starts.
        await page.locator('iframe[name="second"]').scrollIntoViewIfNeeded();
        await frame('second').waitForSelector('body[data-ready="true"]', { timeout: 30000 });
        await expectLabel(frame('second'), 'Step 7 / 185');
        assert.equal(await frame('third').evaluate(() => document.body.dataset.engine), 'idle');
        // Clicked (without scrolling it into view): it starts. (Chromium does not
        // render an out-of-view cross-origin iframe, so its views draw once in view.)
        await frame('third').locator('#embed-start-button').dispatchEvent('click');
        await frame('third').waitForSelector('body[data-engine="ready"]', { state: 'attached', timeout: 30000 });
        await page.locator('iframe[name="third"]').scrollIntoViewIfNeeded();
        await expectLabel(frame('third'), 'Step 9 / 185');
      });
    } finally {
      await blog.close();
    }
  });

  test('the embed: themes, panels, autoplay, read-only form (screenshots light and dark)', async () => {
    const axeSource = readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
    const fragment = encodeLink({ text: COUNTER_TEXT, step: 14 });
    for (const theme of ['light', 'dark']) {
      await withContext(async (context) => {
        const page = await open(context, `${env.plain.url}embed.html?theme=${theme}&panels=executor,code,timeline,log#${fragment}`);
        await ready(page);
        await expectLabel(page, 'Step 14 / 185');
        await expectCaption(page, CAPTION_14);
        assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(bg, theme === 'dark' ? 'rgb(30, 32, 35)' : 'rgb(255, 255, 255)');
        for (const [name, visible] of [['executor', true], ['code', true], ['timeline', true], ['log', true], ['counters', false]]) {
          assert.equal(await page.locator(`[data-panel="${name}"]`).isVisible(), visible, name);
        }
        await page.evaluate(axeSource);
        const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
          .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`));
        assert.deepEqual(violations, [], `axe-core, ${theme}`);
        await screenshot(page, `embed-${theme}`);
      }, { colorScheme: theme === 'dark' ? 'light' : 'dark', width: 760 });
    }
    await withContext(async (context) => {
      // auto follows the reader's setting; autoplay plays; read-only disables the form.
      const page = await open(context, `${env.plain.url}embed.html?autoplay=1&form=1&readonly=1&panels=timeline#${fragment}`);
      await ready(page);
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), undefined);
      await page.waitForFunction(() => Number(/Step (\d+)/.exec(document.querySelector('[data-testid="step-label"]').textContent)[1]) > 15);
      assert.equal(await page.locator(`${tid('scenario-form')} select`).first().isDisabled(), true, 'read-only');
      assert.equal(await page.locator('[data-panel="executor"]').isVisible(), false);
      const editable = await open(context, `${env.plain.url}embed.html?form=1#${fragment}`);
      await ready(editable);
      await editable.locator('#embed-form summary').click();
      const row = editable.locator(`${tid('form-task')}[data-task="a"] ${tid('op-row')}`);
      await row.locator(tid('op-value')).fill('4');
      await expectLabel(editable, 'Step 14 / 155');
    }, { colorScheme: 'dark' });
  });

  test('threads real without isolation explains itself and offers simulated threads; isolated, it re-runs with a note', async () => {
    const fragment = encodeLink({ text: REAL_THREADS, step: 5 });
    await withContext(async (context) => {
      const embed = await open(context, `${env.plain.url}embed.html#${fragment}`);
      await embed.waitForSelector('body[data-engine="ready"]');
      const note = embed.locator(tid('link-note'));
      await note.waitFor({ state: 'visible' });
      assert.match(await note.textContent(), /real threads, which need a cross-origin isolated page/);
      assert.equal(await note.locator('a').getAttribute('target'), '_blank');
      await embed.click(tid('use-simulated'));
      await ready(embed);
      await expectLabel(embed, `Step 5 / ${await embed.evaluate(() => window.pollscopeEmbed.session.total)}`);
      assert.match(await text(embed, 'run-status'), /completed/);
      await embed.waitForFunction(() => /threads\+simulated|v1\//.test(document.querySelector('[data-testid="open-playground"]').href));

      const page = await open(context, `${env.plain.url}#${fragment}`);
      await page.locator(tid('link-note')).waitFor({ state: 'visible' });
      assert.match(await text(page, 'link-note'), /asks for real threads/);
      assert.equal(await page.locator(tid('link-error')).isVisible(), false);
      await page.click(tid('use-simulated'));
      await ready(page);
      await page.waitForFunction(() => /threads simulated/.test(window.pollscope.editor.text));
      await page.waitForFunction(() => /completed/.test(document.querySelector('[data-testid="run-status"]').textContent));
    });
    await withContext(async (context) => {
      const page = await open(context, `${env.isolated.url}#${fragment}`);
      await ready(page);
      assert.equal(await page.locator(tid('threads-status')).getAttribute('data-threads'), '1');
      await page.locator(tid('link-note')).waitFor({ state: 'visible' });
      assert.match(await text(page, 'link-note'), /interleave differently on every run/);
      await expectLabel(page, `Step 5 / ${await page.evaluate(() => window.pollscope.session.total)}`);
    });
  });
});

describe('static deployment', () => {
  test('a host without COOP/COEP: the service worker isolates the page after one reload', async () => {
    await withContext(async (context) => {
      const page = await open(context, `${env.plain.url}#${encodeLink({ text: REAL_THREADS, step: 3 })}`);
      await page.locator(tid('link-note')).waitFor({ state: 'visible' });
      assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
      assert.equal(await page.locator(tid('threads-status')).getAttribute('data-threads'), '0');
      // Inside an iframe the page never offers (or registers) the service worker.
      await page.evaluate((url) => {
        const f = document.createElement('iframe');
        f.name = 'inner';
        f.src = url;
        document.body.append(f);
      }, `${env.plain.url}#counter`);
      const inner = await frameWhere(page, (f) => f.name() === 'inner');
      await ready(inner);
      await inner.locator(`${tid('threads-status')} summary`).click();
      await inner.locator('.build-popover').waitFor();
      assert.equal(await inner.locator(tid('enable-threads')).count(), 0);
      await page.evaluate(() => document.querySelector('iframe[name="inner"]').remove());
      await page.locator(`${tid('threads-status')} summary`).click();
      await Promise.all([page.waitForEvent('load', { timeout: 30000 }), page.click(tid('enable-threads'))]);
      await ready(page);
      assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
      assert.equal(await page.locator(tid('threads-status')).getAttribute('data-threads'), '1');
      assert.equal(await page.evaluate(() => window.pollscope.engine.build), 'threads');
      // The same link, now on real threads.
      await page.waitForFunction(() => /completed/.test(document.querySelector('[data-testid="run-status"]').textContent));
      assert.match(await text(page, 'link-note'), /interleave differently/);
      await expectLabel(page, `Step 3 / ${await page.evaluate(() => window.pollscope.session.total)}`);
      // And it can be turned off.
      await page.locator(`${tid('threads-status')} summary`).click();
      await Promise.all([page.waitForEvent('load', { timeout: 30000 }), page.click(tid('disable-threads'))]);
      // Single-threaded again: the same link explains that it needs real threads.
      await page.waitForFunction(() => /asks for real threads/.test(document.querySelector('[data-testid="link-note"]').textContent));
      assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
      assert.equal(await page.locator(tid('threads-status')).getAttribute('data-threads'), '0');
    });
  });
});
