// End-to-end tests of the playground in real headless Chromium (playwright-core
// driving /usr/bin/chromium), over dist/ served by scripts/web-serve.mjs with
// COOP/COEP and the strict CSP. Every test fails on a console error or a page error.
//
// Expected strings for counter.scn come from the engine itself: the log lines from
// `pollscope run web/presets/counter.scn --format json` (events[i].text) and the
// captions from the engine's snapshot(k).caption.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { useBrowserAndServers, openPage, waitReady, screenshot, tid, ROOT, ARTIFACTS } from './helpers.mjs';

const PRESETS = JSON.parse(readFileSync(path.join(ROOT, 'web/presets/index.json'), 'utf8'));

const COUNTER = {
  events: 185,
  captions: {
    0: 'Nothing has run yet: step forward to watch the executor start main.',
    1: 'main is spawned: it becomes a task of its own and waits for its first poll.',
    4: 'The executor polls main: its code runs at spawn(a) (line 6) until an await returns Pending or the task ends.',
    10: 'main returned Pending at the JoinHandle of a (line 8) and left its waker with whatever it waits for; it sleeps until woken.',
    14: 'a returned Pending at count(10) (line 12), but woke itself first, so it is polled again soon although nothing changed: a wasted poll.',
    185: 'main is complete; whoever awaits its JoinHandle is woken.',
  },
  log: {
    1: '[0ns] spawn main',
    2: '[0ns] main enters the run queue (1 queued)',
    4: '[0ns] polling main',
    10: '[0ns] main is pending',
    14: '[0ns] a is pending (it woke itself)',
    185: '[0ns] main completed',
  },
};

const env = useBrowserAndServers();

/* Opens the page, runs `body`, then asserts no console/page errors happened
 * (`expected` lists patterns of problems a test provokes on purpose). */
async function withPage(options, body) {
  const { url = env.plain.url, hash = '#counter', ready = true, expected = [], ...pageOptions } = options;
  const { page, context, problems } = await openPage(env.browser, url + hash, pageOptions);
  try {
    if (ready) await waitReady(page);
    await body(page);
    const unexpected = problems.filter((p) => !expected.some((re) => re.test(p)));
    assert.deepEqual(unexpected, [], 'no console errors or page errors');
  } finally {
    await context.close();
  }
}

const text = (page, id) => page.locator(tid(id)).first().textContent();

async function expectStep(page, k, n = COUNTER.events) {
  await page.waitForFunction(([id, want]) => document.querySelector(id).textContent === want,
    [tid('step-label'), `Step ${k} / ${n}`], { timeout: 5000 });
}

async function expectCaption(page, want) {
  await page.waitForFunction(([id, w]) => document.querySelector(id).textContent === w, [tid('caption'), want],
    { timeout: 5000 }).catch(async () => {
    assert.equal(await text(page, 'caption'), want);
  });
}

async function currentLogText(page) {
  await page.waitForFunction(() => {
    const row = document.querySelector('[data-testid="log-entry"][aria-current="step"] .log-text');
    return row && row.textContent !== '…';
  }, null, { timeout: 5000 });
  return page.locator('[data-testid="log-entry"][aria-current="step"] .log-text').textContent();
}

async function editorText(page) {
  return page.evaluate(() => window.pollscope.editor.text);
}

/* Replaces the editor's text by typing, as a user would. */
async function typeInEditor(page, value) {
  await page.locator(`${tid('editor')} .cm-content`).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(value);
}

describe('playground', () => {
  test('loads counter.scn with its trace, status and views', async () => {
    await withPage({}, async (page) => {
      await expectStep(page, 0);
      await expectCaption(page, COUNTER.captions[0]);
      assert.match(await text(page, 'run-status'), /completed/);
      assert.match(await editorText(page), /task a\n {2}count 10/);
      assert.equal(await page.locator(tid('preset-select')).inputValue(), 'counter.scn');
      const lanes = await page.locator(tid('task-lane')).evaluateAll((els) => els.map((e) => e.dataset.task));
      assert.deepEqual(lanes, ['main', 'a', 'b']);
      assert.equal(await page.locator(tid('op-row')).count(), 6);
      assert.equal(await page.locator(tid('error')).isVisible(), false);
      assert.equal(await page.locator(tid('loading')).isVisible(), false);
      assert.equal(await page.locator(tid('caption')).getAttribute('aria-live'), 'polite');
      assert.match(await text(page, 'warnings'), /a woke itself on 9 of its 10 polls/);
      await screenshot(page, 'load-1280-light');
    });
  });

  test('steps forward and back with exact labels, captions and log lines', async () => {
    await withPage({}, async (page) => {
      for (let k = 1; k <= 4; k++) await page.click(tid('step-forward'));
      await expectStep(page, 4);
      await expectCaption(page, COUNTER.captions[4]);
      assert.equal(await currentLogText(page), COUNTER.log[4]);
      assert.equal(await page.locator(tid('log-entry')).count(), 4);

      for (let k = 5; k <= 14; k++) await page.click(tid('step-forward'));
      await expectStep(page, 14);
      await expectCaption(page, COUNTER.captions[14]);
      assert.equal(await currentLogText(page), COUNTER.log[14]);
      // a woke itself but is not re-queued yet; b waits in the run queue.
      const queue = await page.locator(`${tid('run-queue')} ${tid('queue-item')}`).evaluateAll((els) => els.map((e) => e.dataset.task));
      assert.deepEqual(queue, ['b']);
      await screenshot(page, 'step-14-1280-light');

      for (let k = 0; k < 4; k++) await page.click(tid('step-back'));
      await expectStep(page, 10);
      await expectCaption(page, COUNTER.captions[10]);
      assert.equal(await currentLogText(page), COUNTER.log[10]);

      // Keyboard: not while typing in the editor.
      await page.locator('h1').click();
      await page.keyboard.press('ArrowRight');
      await expectStep(page, 11);
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      await expectStep(page, 9);
      await page.keyboard.press('End');
      await expectStep(page, 185);
      await expectCaption(page, COUNTER.captions[185]);
      assert.equal(await currentLogText(page), COUNTER.log[185]);
      await page.keyboard.press('Home');
      await expectStep(page, 0);
      await page.locator(`${tid('editor')} .cm-content`).click();
      await page.keyboard.press('End');
      await page.keyboard.press('ArrowRight');
      await expectStep(page, 0);

      await page.click(tid('jump-end'));
      await expectStep(page, 185);
      await page.click(tid('jump-start'));
      await expectStep(page, 1 - 1);
      await expectCaption(page, COUNTER.captions[0]);
      await page.locator(tid('scrubber')).fill('100');
      await expectStep(page, 100);
    });
  });

  test('coarse steps: next poll, next event of the selected task, run to end', async () => {
    await withPage({}, async (page) => {
      await page.click('[data-testid="next-poll"]');
      await expectStep(page, 4);  // event 3 is the first poll_start
      await page.click('[data-testid="next-poll"]');
      await expectStep(page, 12);  // polling a
      await page.click(`${tid('task-lane')}[data-task="b"]`);
      await page.click('[data-testid="next-task-event"]');
      await expectStep(page, 16);  // b leaves the run queue
      await page.click('[data-testid="run-to-end"]');
      await expectStep(page, 185);
      assert.equal(await page.locator(tid('play')).getAttribute('aria-pressed'), 'false');
      await page.click(tid('reset'));
      await expectStep(page, 0);
    });
  });

  test('changing a count in the form changes the text, the trace and the counters', async () => {
    await withPage({}, async (page) => {
      const row = page.locator(`${tid('form-task')}[data-task="a"] ${tid('op-row')}`);
      assert.equal(await row.locator(tid('op-kind')).inputValue(), 'count');
      await row.locator(tid('op-value')).fill('4');
      await page.waitForFunction(() => /task a\n {2}count 4\n/.test(window.pollscope.editor.text));
      await expectStep(page, 0, 155);
      assert.equal(await page.locator(tid('loading')).isVisible(), false, 'the loading bar stays away after the first run');
      await page.click(tid('jump-end'));
      await expectStep(page, 155, 155);
      const total = page.locator(`${tid('counters')} tr.total`);
      await page.waitForFunction(() => document.querySelector('[data-testid="counters"] caption')?.textContent === 'at step 155');
      assert.equal(await total.locator('[data-counter="polls"]').textContent(), '30');
      assert.equal(await total.locator('[data-counter="wasted_polls"]').textContent(), '25');
      assert.match(await text(page, 'warnings'), /a woke itself on 3 of its 4 polls/);

      // And back: editing the text regenerates the form, and the step is kept.
      await page.click(tid('jump-start'));
      for (let k = 0; k < 5; k++) await page.click(tid('step-forward'));
      await expectStep(page, 5, 155);
      const current = await editorText(page);
      await typeInEditor(page, current.replace('count 23', 'count 7'));
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="op-value"]')[1]?.value === '7');
      await expectStep(page, 5, 75);
      assert.match(await text(page, 'run-status'), /completed/);
    });
  });

  test('the form adds, reorders and removes operations', async () => {
    await withPage({}, async (page) => {
      const task = page.locator(`${tid('form-task')}[data-task="b"]`);
      await task.locator('[data-testid="add-op"]').click();
      await page.waitForFunction(() => /task b\n {2}count 23\n {2}count 3\n/.test(window.pollscope.editor.text));
      await task.locator(tid('op-row')).nth(1).locator(tid('op-kind')).selectOption('sleep');
      await page.waitForFunction(() => /task b\n {2}count 23\n {2}sleep 1ms\n/.test(window.pollscope.editor.text));
      await task.getByRole('button', { name: 'Move b, operation 2 up' }).click();
      await page.waitForFunction(() => /task b\n {2}sleep 1ms\n {2}count 23\n/.test(window.pollscope.editor.text));
      await task.getByRole('button', { name: 'Remove b, operation 1' }).click();
      await page.waitForFunction(() => /task b\n {2}count 23\n$/.test(window.pollscope.editor.text));
      await expectStep(page, 0, 185);
    });
  });

  test('play and pause, with a speed', async () => {
    await withPage({}, async (page) => {
      const play = page.locator(tid('play'));
      assert.equal(await play.getAttribute('aria-pressed'), 'false');
      await page.locator(tid('speed')).selectOption('4');
      await play.click();
      assert.equal(await play.getAttribute('aria-pressed'), 'true');
      await page.waitForFunction(() => Number(/Step (\d+)/.exec(document.querySelector('[data-testid="step-label"]').textContent)[1]) >= 5);
      await play.click();
      assert.equal(await play.getAttribute('aria-pressed'), 'false');
      const paused = await text(page, 'step-label');
      await page.waitForTimeout(400);
      assert.equal(await text(page, 'step-label'), paused);
      // Space toggles too (focus outside the editor), and play stops at the end.
      await page.locator(tid('speed')).selectOption('16');
      await page.locator('h1').click();
      await page.keyboard.press('End');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('Space');
      await expectStep(page, 185);
      await page.waitForFunction(() => document.querySelector('[data-testid="play"]').getAttribute('aria-pressed') === 'false');
    });
  });

  test('switching presets shows each explanation and its ending', async () => {
    await withPage({}, async (page) => {
      for (const preset of PRESETS) {
        await page.locator(tid('preset-select')).selectOption(preset.file);
        await page.waitForFunction((file) => document.querySelector('[data-testid="preset-explanation"]').dataset.preset === file,
          preset.file);
        assert.equal(await text(page, 'preset-explanation'), preset.explanation);
        await page.waitForFunction((want) => window.pollscope.editor.text === want,
          readFileSync(path.join(ROOT, 'web/presets', preset.file), 'utf8'));
        // Either it ran (an ending is shown) or the engine refused it with an error
        // at its line (an executor not in this engine build yet): never silence.
        await page.waitForFunction(() => {
          const status = document.querySelector('[data-testid="run-status"]').textContent;
          const error = document.querySelector('[data-testid="error"]');
          return (!window.pollscope.running && /completed|stalled|budget exhausted/.test(status))
            && (window.pollscope.stale === '' || !error.hidden);
        });
        if (preset.file === 'lost-wakeup.scn') {
          const status = await text(page, 'run-status');
          assert.match(status, /stalled/);
          assert.match(status, /worker/);
          assert.match(await text(page, 'warnings'), /worker lost its waker at line 11/);
          await page.click(tid('jump-end'));
          await screenshot(page, 'preset-lost-wakeup');
        }
        if (preset.file === 'blocking-call.scn') {
          await page.waitForFunction(() => /blocking call inside poll at line 18/.test(
            document.querySelector('[data-testid="warnings"]').textContent));
        }
        if (preset.file === 'work-stealing.scn' || preset.file === 'thread-per-task.scn') {
          const stale = await page.evaluate(() => window.pollscope.stale);
          if (stale) {
            assert.match(await text(page, 'error'), /Line 3, column 1: executor (thread_pool|thread_per_task)/);
          } else {
            await page.click(tid('jump-end'));
            // A lane per thread (the executor panel shows the new run's last step).
            await page.waitForFunction(() => document.querySelectorAll('[data-testid="thread-lane"]').length >= 2);
            if (preset.file === 'work-stealing.scn') {
              await page.waitForFunction(() => document.querySelectorAll('[data-testid="run-queue"]').length === 2);
              assert.equal(await page.locator(`${tid('run-queue')}[data-worker="1"]`).count(), 1);
              assert.equal(await page.locator(tid('injection-queue')).count(), 1);
              assert.match(await text(page, 'run-status'), /completed/);
            }
          }
          await screenshot(page, `preset-${preset.file.replace('.scn', '')}`);
        }
      }
    });
  });

  test('a parse error shows its line, inline and in the editor', async () => {
    await withPage({}, async (page) => {
      const current = await editorText(page);
      await typeInEditor(page, current.replace('  count 23', '  cont 23'));
      const error = page.locator(tid('error'));
      await error.waitFor({ state: 'visible' });
      assert.match(await error.textContent(), /Line 15, column 3: unknown operation "cont"/);
      assert.equal(await error.getAttribute('role'), 'alert');
      await page.locator('.cm-lintRange-error').first().waitFor();
      assert.equal(await page.locator('.cm-lintRange-error').first().textContent(), 'cont');
      assert.match(await text(page, 'diagnostics'), /line 15:3/);
      // The previous run stays on screen, marked as such; the form waits for valid text.
      assert.match(await text(page, 'run-status'), /completed.*showing the last run that worked/);
      assert.equal(await page.locator('#form-note').isVisible(), true);
      await page.locator('.cm-lintRange-error').first().hover();
      await page.locator('.cm-tooltip-lint').waitFor();
      assert.match(await page.locator('.cm-tooltip-lint').textContent(), /unknown operation "cont"/);
      await screenshot(page, 'parse-error');
      // Fixing it clears the error.
      await typeInEditor(page, current);
      await error.waitFor({ state: 'hidden' });
    });
  });

  test('a run in which a task threw: "failed", the task and its message, a warning that links its step', async () => {
    await withPage({}, async (page) => {
      // No scenario makes a task throw on a healthy engine (the spawn limits keep real
      // threads within the workers), so the engine's answer for such a run is given as
      // engine.status() writes it (tests/runtime/engine/engine_tests.cpp pins the engine side).
      await page.evaluate(() => {
        const engine = window.pollscope.engine;
        const load = engine.load.bind(engine);
        engine.load = async (...args) => {
          const result = await load(...args);
          if (result.ok) {
            Object.assign(result.status, { status: 'failed', summary: 'failed: a threw an exception: resource unavailable',
              failures: [{ task: 2, name: 'a', step: 40, message: 'resource unavailable' }] });
          }
          return result;
        };
      });
      const current = await editorText(page);
      await typeInEditor(page, current.replace('  count 23', '  count 22'));
      await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]').dataset.status === 'failed');
      assert.equal(await text(page, 'run-status'), 'failed — a threw an exception: resource unavailable');
      assert.equal(await page.locator(`${tid('run-status')} .status-word`).getAttribute('class'), 'status-word tone-bad');
      const warning = page.locator(`${tid('warnings')} li[data-kind="failed"]`);
      assert.equal(await warning.locator('.warning-text').textContent(), 'error: a threw an exception: resource unavailable.');
      await warning.getByRole('button', { name: 'step 41' }).click();
      await expectStep(page, 41, await page.evaluate(() => window.pollscope.session.total));
      await screenshot(page, 'run-failed');
    });
  });

  test('the code view shows C++ and Rust with the current line', async () => {
    await withPage({}, async (page) => {
      for (let k = 0; k < 14; k++) await page.click(tid('step-forward'));
      await expectStep(page, 14);
      const current = page.locator('[data-function="a"] .code-line.is-current');
      await current.waitFor();
      assert.match(await current.textContent(), /co_await count\(10\);/);
      await page.locator('[data-testid="lang-toggle"] button', { hasText: 'Rust' }).click();
      await page.locator('[data-function="a"] .code-line.is-current').waitFor();
      assert.match(await page.locator('[data-function="a"] .code-line.is-current').textContent(), /count\(10\)\.await;/);
      assert.match(await page.locator('[data-function="main"]').textContent(), /let handle_a = spawn\(a\(\)\);/);
    });
  });

  test('compare runs the same tasks on two executors side by side', async () => {
    await withPage({ hash: '#lost-wakeup' }, async (page) => {
      await page.click('[data-testid="compare-toggle"]');
      const panes = page.locator('[data-testid="compare-pane"]');
      assert.equal(await panes.count(), 2);
      await page.locator('[data-testid="compare-executor"]').nth(1).selectOption('block_on_busy');
      await page.waitForFunction(() => {
        const s = [...document.querySelectorAll('[data-testid="compare-status"]')].map((e) => e.textContent);
        return /stalled/.test(s[0]) && /not run|completed/.test(s[1]);
      });
      await page.locator('[data-testid="compare-executor"]').nth(1).selectOption('block_on');
      await page.locator('[data-testid="compare-executor"]').nth(0).selectOption('local');
      await page.waitForFunction(() => /A: local.*B: block_on/.test(document.querySelector('[data-testid="compare-counters"]').textContent));
      // B cannot run spawn/join: it says so, and shows nothing of an earlier run.
      const b = page.locator('[data-testid="compare-pane"][data-side="B"]');
      await page.waitForFunction(() => /not run/.test(document.querySelectorAll('[data-testid="compare-status"]')[1].textContent));
      assert.match(await b.locator('[role="alert"]').textContent(), /block_on cannot run these tasks: spawn needs a run queue/);
      assert.equal(await b.locator('.step-label').textContent(), 'Step 0 / 0');
      assert.equal(await b.locator('[data-testid="task-lane"]').count(), 0);
      // A and B side by side where both run: local stalls, thread_pool stalls too.
      await page.locator('[data-testid="compare-executor"]').nth(1).selectOption('thread_pool');
      await page.waitForFunction(() => /B: thread_pool/.test(document.querySelector('[data-testid="compare-counters"]').textContent)
        && [...document.querySelectorAll('[data-testid="compare-status"]')].every((s) => /stalled/.test(s.textContent)));
      await page.locator('#compare').screenshot({ path: path.join(ARTIFACTS, 'compare-1280-light.png') });
    });
  });

  test('threads indicator: the pthread build with COOP/COEP, the single one without', async () => {
    await withPage({ url: env.isolated.url }, async (page) => {
      assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
      assert.equal(await page.locator(tid('threads-status')).getAttribute('data-threads'), '1');
      assert.match(await text(page, 'threads-status'), /threaded engine/);
      assert.match(await text(page, 'run-status'), /completed/);
    });
    await withPage({ url: env.plain.url }, async (page) => {
      assert.equal(await page.evaluate(() => self.crossOriginIsolated), false);
      assert.equal(await page.locator(tid('threads-status')).getAttribute('data-threads'), '0');
      await page.locator(`${tid('threads-status')} summary`).click();
      assert.match(await text(page, 'threads-status'), /not cross-origin isolated/);
      await screenshot(page, 'build-info-single');
    });
  });

  test('the threaded build failing to start falls back to the single-threaded one, and says so', async () => {
    const route = { url: '**/pollscope-engine-threads.wasm', handler: (r) => r.abort() };
    await withPage({ url: env.isolated.url, route, expected: [/pollscope-engine-threads/, /ERR_FAILED|Failed to load/i, /abort|wasm/i] },
      async (page) => {
        assert.equal(await page.locator(tid('threads-status')).getAttribute('data-threads'), '0');
        await page.locator(`${tid('threads-status')} summary`).click();
        assert.match(await text(page, 'threads-status'), /threaded build failed to start/);
        assert.match(await text(page, 'run-status'), /completed/);
      });
  });

  test('an engine that cannot start is reported in an alert', async () => {
    const route = { url: '**/pollscope-engine.wasm', handler: (r) => r.abort() };
    await withPage({ url: env.plain.url, route, ready: false, expected: [/pollscope-engine/, /ERR_FAILED|Failed to load/i, /abort|wasm/i] },
      async (page) => {
        const error = page.locator(tid('error'));
        await error.waitFor({ state: 'visible', timeout: 20000 });
        assert.equal(await error.getAttribute('role'), 'alert');
        assert.match(await error.textContent(), /The engine could not start/);
        assert.equal(await page.locator(tid('loading')).isVisible(), false);
      });
  });

  test('accessibility: no serious or critical axe-core violations, light and dark', async () => {
    // axe-core is evaluated through the DevTools protocol (the page's CSP forbids
    // inline scripts, which is the point of it).
    const axeSource = readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
    for (const colorScheme of ['light', 'dark']) {
      await withPage({ colorScheme, hash: '#work-stealing' }, async (page) => {
        for (let k = 0; k < 20; k++) await page.click(tid('step-forward'));
        await expectStep(page, 20, await page.evaluate(() => window.pollscope.session.total));
        await page.evaluate(axeSource);
        const violations = await page.evaluate(async () => {
          // Excluded: CodeMirror's scroller (tabindex -1 by design). It holds the
          // editor's contenteditable, which Tab reaches; axe does not count a
          // contenteditable as focusable content.
          const result = await window.axe.run({ exclude: [['.cm-scroller']] }, { resultTypes: ['violations'] });
          return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
        });
        assert.deepEqual(violations, [], `axe-core, ${colorScheme}`);
      });
    }
  });

  test('layouts: 1280 and 360 px, light and dark', async () => {
    for (const [width, scheme] of [[1280, 'dark'], [360, 'light'], [360, 'dark']]) {
      await withPage({ width, height: 800, colorScheme: scheme }, async (page) => {
        for (let k = 0; k < 14; k++) await page.click(tid('step-forward'));
        await expectStep(page, 14);
        await expectCaption(page, COUNTER.captions[14]);
        // Nothing wider than the viewport at 360 px.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px too wide)`);
        await screenshot(page, `layout-${width}-${scheme}`);
      });
    }
  });
});
