// Every limit of the scenario format (runtime/include/pollscope/scenario.hpp) and of
// the threaded build, pasted into the editor in headless Chromium over dist/ with the
// strict CSP: exactly at the limit the scenario runs (or stops at its budget) with
// that status; one past it, the engine's exact error is shown with its line and
// column, in the error box, the list of diagnostics and underlined in the editor.
// Each time the page answers a click, has no page or console error, and nothing of
// the text's markup ran. Real threads: the most threads a scenario may start run to
// the end, and a real-thread run is stopped by its event budget and by its
// wall-clock limit while the page stays usable.
//
// One page per server for all the tests (the single-threaded build without
// isolation, the threaded one with it): the limits run one after another in it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowserAndServers, openPage, waitReady, screenshot, pasteIntoEditor, tid } from './helpers.mjs';
import { LIMITS, BAIT } from './hostile-inputs.mjs';

const env = useBrowserAndServers();
const pages = new Map();

/* The shared page of a server: opened once, problems (console errors, page errors,
 * failed requests) collected from then on. */
async function sharedPage(server) {
  if (!pages.has(server)) {
    const opened = await openPage(env.browser, `${server.url}#counter`);
    await waitReady(opened.page);
    pages.set(server, opened);
  }
  return pages.get(server);
}

/* Runs `body` on the shared page and asserts it raised no problem meanwhile. */
async function withShared(server, body) {
  const { page, problems } = await sharedPage(server);
  const before = problems.length;
  await body(page);
  assert.deepEqual(problems.slice(before), [], 'no console errors, page errors or failed requests');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing from the text ran');
  assert.equal(await page.locator('img[src="x"], body script:not([type="module"])').count(), 0, 'no element from the text');
}

const text = (page, id) => page.locator(tid(id)).first().textContent();

/* Waits until `value` ran (the session holds its run and nothing is running). */
async function waitRun(page, value) {
  await page.waitForFunction((t) => !window.pollscope.running && window.pollscope.session.run
    && window.pollscope.session.run.text === t && document.querySelector('[data-testid="error"]').hidden, value,
  { timeout: 30000 });
}

/* The page answers a click on a step button within 2 s (the label changes). */
async function answersClick(page) {
  const { step, total } = await page.evaluate(() => ({ step: window.pollscope.session.step, total: window.pollscope.session.total }));
  const forward = step < total;
  await page.click(tid(forward ? 'step-forward' : 'step-back'), { timeout: 2000 });
  await page.waitForFunction((want) => document.querySelector('[data-testid="step-label"]').textContent === want,
    `Step ${step + (forward ? 1 : -1)} / ${total}`, { timeout: 2000 });
}

const diagnosticItems = (page) => page.locator(`${tid('diagnostics')} li`).evaluateAll((els) => els.map((e) => e.textContent.trim()));

/* The word the editor underlines for a diagnostic at (line, column). */
const wordAt = (value, line, column) => /^\S+/.exec(value.split('\n')[line - 1].slice(column - 1))[0];

/* The error box, the list and the editor show `error` (the first of `count`). */
async function expectError(page, value, { error, count = 1, note }) {
  const where = `Line ${error.line}, column ${error.column}: `;
  const box = `The scenario has errors. ${where}${error.message}${error.hint ? ` — ${error.hint}` : ''}` +
    `${count > 1 ? ` (and ${count - 1} more)` : ''} Show line ${error.line}`;
  const first = `line ${error.line}:${error.column} error: ${error.message}${error.hint ? ` — ${error.hint}` : ''}`;
  // All of it, so that the previous text's diagnostics (the same error box) do not pass.
  const want = { box, first, count, note: note || null };
  await page.waitForFunction((w) => {
    const items = [...document.querySelectorAll('[data-testid="diagnostics"] li')].map((e) => e.textContent.trim());
    const errors = items.filter((i) => /^line \d+:\d+ error: /.test(i)).length;
    return document.querySelector('[data-testid="error"]').textContent === w.box && items[0] === w.first
      && errors === w.count && (!w.note || items.at(-1) === w.note) && !window.pollscope.running;
  }, want, { timeout: 30000 }).catch(() => {});
  assert.equal(await text(page, 'error'), box);
  assert.equal(await page.locator(tid('error')).getAttribute('role'), 'alert');
  const items = await diagnosticItems(page);
  assert.equal(items[0], first);
  assert.equal(items.filter((i) => /^line \d+:\d+ error: /.test(i)).length, count);
  if (note) assert.equal(items.at(-1), note);
  // Clicking it shows the line in the editor, underlined at the column.
  await page.locator(`${tid('diagnostics')} li button`).first().click();
  const marks = await page.evaluate(() => {
    const { view } = window.pollscope.editor;
    return [...document.querySelectorAll('.cm-lintRange-error')].map((el) => {
      const pos = view.posAtDOM(el);
      const line = view.state.doc.lineAt(pos);
      return { line: line.number, column: pos - line.from + 1, text: el.textContent };
    });
  });
  assert.ok(marks.some((m) => m.line === error.line && m.column === error.column
    && m.text === wordAt(value, error.line, error.column)), `underlined at ${error.line}:${error.column}: ${JSON.stringify(marks.slice(0, 3))}`);
  assert.match(await text(page, 'run-status'), / · showing the last run that worked$/);
}

async function expectAtLimit(page, value, at) {
  if (at.error) {
    // The errors limit: this many are reported, and no note that some were left out.
    await expectError(page, value, at);
    assert.ok((await diagnosticItems(page)).every((i) => i.startsWith('line ')));
    return;
  }
  await waitRun(page, value);
  const status = await text(page, 'run-status');
  if (at.status instanceof RegExp) assert.match(status, at.status);
  else assert.equal(status, at.status);
  assert.equal((await diagnosticItems(page)).length, at.diagnostics || 0);
}

describe('limits, pasted into the editor', () => {
  for (const limit of LIMITS) {
    test(`${limit.name}: at the limit it runs; one past, the exact error at its line and column`, async () => {
      await withShared(limit.isolated ? env.isolated : env.plain, async (page) => {
        await pasteIntoEditor(page, limit.at.text);
        await expectAtLimit(page, limit.at.text, limit.at);
        await answersClick(page);

        await pasteIntoEditor(page, limit.past.text);
        if (limit.past.error) {
          await expectError(page, limit.past.text, limit.past);
        } else {
          // Past the warnings limit it still runs; a note says the rest were left out.
          await waitRun(page, limit.past.text);
          assert.equal(await text(page, 'run-status'), limit.past.status);
          const items = await diagnosticItems(page);
          assert.equal(items.length, limit.past.diagnostics);
          assert.equal(items.at(-1), limit.past.note);
        }
        await answersClick(page);
      });
    });
  }
});

describe('links and the form at the limits', () => {
  test('a text over the limit leaves the address bar alone, and Copy link says why', async () => {
    await withShared(env.plain, async (page) => {
      const limit = LIMITS.find((l) => l.name === 'text of 16384 bytes');
      await pasteIntoEditor(page, limit.at.text);
      await waitRun(page, limit.at.text);
      await page.waitForFunction(() => location.hash.startsWith('#v1/') && window.pollscope.currentLink() === location.href);
      const link = await page.evaluate(() => location.href);
      await pasteIntoEditor(page, limit.past.text);
      await expectError(page, limit.past.text, limit.past);
      await page.waitForTimeout(600);  // past the address bar's 400 ms
      assert.equal(await page.evaluate(() => location.href), link);
      await page.click(tid('copy-link'));
      assert.equal(await text(page, 'share-status'),
        'No link can hold this scenario: it is over 16 KiB. Shorten it to share it.');
    });
  });

  test('the form: a task or channel list fills in when the select is used; choosing a name edits the text', async () => {
    await withShared(env.plain, async (page) => {
      const { text: value } = LIMITS.find((l) => l.name === '64 channels').at;
      await pasteIntoEditor(page, value);
      await waitRun(page, value);
      // The third operation of main: send c2 2.
      const target = page.locator(`${tid('form-task')}[data-task="main"] ${tid('op-row')}`).nth(2).locator(tid('op-target'));
      assert.equal(await target.evaluate((el) => el.options.length), 1);
      await target.focus();
      assert.equal(await target.evaluate((el) => el.options.length), 64);
      assert.equal(await target.inputValue(), 'c2');
      await target.selectOption('c64');
      await page.waitForFunction(() => /\n {2}send c64 2\n/.test(window.pollscope.editor.text));
      await waitRun(page, await page.evaluate(() => window.pollscope.editor.text));
      // c2 is now received but never sent to.
      assert.equal(await text(page, 'run-status'),
        'stalled — main can never be wokenmain at line 72: it waits on channel "c2", but no task will ever send to it');
    });
  });
});

describe('real threads in the threaded build', () => {
  test('the most threads a scenario may start all run: 16 task threads and the timer thread', async () => {
    await withShared(env.isolated, async (page) => {
      assert.equal(await page.evaluate(() => window.pollscope.engine.build), 'threads');
      const { text: value } = LIMITS.find((l) => l.name === '16 real threads').at;
      await pasteIntoEditor(page, value);
      await waitRun(page, value);
      assert.match(await text(page, 'run-status'), /^completed — in \d+ events$/);
      const threads = await page.evaluate(() => window.pollscope.session.run.final.threads.map((t) => t.name));
      assert.equal(threads.length, 17, JSON.stringify(threads));
      await page.click(tid('jump-end'));
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="thread-lane"]').length === 17);
      await screenshot(page, 'limits-16-real-threads');
    });
  });

  test('a real-thread run that never ends stops at its event budget', async () => {
    const value = 'executor thread_per_task\nclock real\nthreads real\nmax_events 5000\n\ntask main\n  spawn a\n' +
      `  count 1000000\n\ntask a\n  count 1000000\n# ${BAIT}\n`;
    await withShared(env.isolated, async (page) => {
      await pasteIntoEditor(page, value);
      await waitRun(page, value);
      assert.equal(await text(page, 'run-status'), 'budget exhausted — stopped after 5000 events (trace truncated at the budget)');
      assert.match(await text(page, 'warnings'), /The run hit its budget of 5000 events and was stopped/);
      await answersClick(page);
    });
  });

  test('a real-thread run past its wall-clock limit is stopped and reported; the page answers meanwhile', async () => {
    // An hour of sleep on the real clock; the limit is lowered from 30 s to keep the test short.
    const value = 'executor thread_pool\nworkers 2\nclock real\nthreads real\n\ntask main\n  spawn a\n  join a\n\n' +
      `task a\n  sleep 3600s\n# ${BAIT}\n`;
    const good = 'executor thread_pool\nworkers 2\nclock real\nthreads real\n\ntask main\n  spawn a\n  join a\n\ntask a\n  count 3\n';
    await withShared(env.isolated, async (page) => {
      await pasteIntoEditor(page, good);
      await waitRun(page, good);
      const limit = await page.evaluate(() => window.pollscope.session.timeoutMs);
      await page.evaluate(() => { window.pollscope.session.timeoutMs = 3000; });
      try {
        await pasteIntoEditor(page, value);
        await page.waitForFunction(() => window.pollscope.running);
        await answersClick(page);
        await page.locator(tid('stop-run')).waitFor({ state: 'visible' });
        const stopped = 'The run was stopped after 3 s, the limit for one run: on the real clock, sleep and block really wait. ' +
          'Shorten them, or lower max_events or the counts, then edit to run again.';
        await page.waitForFunction(([id, want]) => document.querySelector(id).textContent === want, [tid('error'), stopped],
          { timeout: 15000 });
        assert.equal(await page.locator(tid('error')).getAttribute('role'), 'alert');
        assert.equal(await page.locator(tid('stop-run')).isVisible(), false);
        // The last run that worked is back, from a fresh threaded engine, marked as
        // not the text in the editor.
        await page.waitForFunction((t) => window.pollscope.session.run.text === t && !window.pollscope.session.loading, good);
        await page.waitForFunction(() => / · showing the last run that worked$/.test(
          document.querySelector('[data-testid="run-status"]').textContent));
        assert.match(await text(page, 'run-status'), /^completed — in \d+ events · showing the last run that worked$/);
        assert.equal(await page.evaluate(() => window.pollscope.engine.build), 'threads');
        // The form stays with the editor's text (sleep 3600s, not the last run's count 3),
        // marked as not run.
        await page.locator(tid('form-stale')).waitFor({ state: 'visible' });
        assert.equal(await text(page, 'form-stale'), 'These values are the text\'s, and did not run: their run was stopped ' +
          'before it finished. The player shows the last run that worked; edit to run again.');
        const op = page.locator(`${tid('form-task')}[data-task="a"] ${tid('op-row')}`).first();
        assert.equal(await op.getAttribute('data-kind'), 'sleep');
        assert.equal(await op.locator(tid('op-value')).inputValue(), '3600s');
        assert.equal(await page.locator(tid('scenario-form')).evaluate((el) => el.disabled), false);
        await answersClick(page);
        await screenshot(page, 'limits-wall-clock');
      } finally {
        await page.evaluate((ms) => { window.pollscope.session.timeoutMs = ms; }, limit);
      }
      // And the engine runs the next edit; the form's marker goes.
      await pasteIntoEditor(page, good.replace('count 3', 'count 4'));
      await waitRun(page, good.replace('count 3', 'count 4'));
      assert.equal(await page.locator(tid('form-stale')).isVisible(), false);
      assert.equal(await page.locator(`${tid('form-task')}[data-task="a"] ${tid('op-value')}`).first().inputValue(), '4');
    });
  });
});
