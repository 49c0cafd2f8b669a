/* Sharing actions that are not needed to show the page, loaded on first use:
 * the Embed dialog (options -> an <iframe> snippet with the auto-height script),
 * the trace as a JSON download (the engine's runJson()), and the run as a CLI
 * command. `app` is the Playground (app.js). */
import { h } from './core/dom.js';
import { copyText } from './core/clipboard.js';
import { PANELS, encodeLink } from './core/link.js';
import { EMBED_DEFAULT_PANELS, THEMES, embedQuery, embedSnippet, cliCommand } from './core/embed-options.js';

const LABELS = { executor: 'Executor', code: 'Code', timeline: 'Timeline', counters: 'Counters', log: 'Event log' };

let dialog = null;

/* The embed's URL for the app's current scenario and these options. */
export function embedUrl(app, options) {
  const state = { text: app.editor.text, step: options.step, speed: app.speed };
  return new URL(`embed.html${embedQuery(options)}#${encodeLink(state)}`, location.href).href;
}

function scenarioTitle(app) {
  const preset = app.preset && app.presets.find((p) => p.file === app.preset);
  return preset && app.editor.text === app.presetText(app.preset) ? `pollscope: ${preset.title}` : 'pollscope: an async executor, poll by poll';
}

export function openEmbedDialog(app) {
  if (!dialog) dialog = buildDialog(app);
  dialog.sync();
  dialog.el.showModal();
}

function buildDialog(app) {
  const total = () => (app.session ? app.session.total : 0);
  const step = h('input', { type: 'number', min: 0, step: 1, id: 'embed-step', 'data-testid': 'embed-step' });
  const check = (testid, label, extra = {}) => {
    const input = h('input', { type: 'checkbox', 'data-testid': testid, ...extra });
    return [input, h('label', { class: 'check' }, input, ` ${label}`)];
  };
  const [autoplay, autoplayLabel] = check('embed-autoplay', 'Autoplay');
  const [readonly, readonlyLabel] = check('embed-readonly', 'Read-only (no edits)');
  const [form, formLabel] = check('embed-form', 'Show the parameter form');
  const theme = h('select', { id: 'embed-theme', 'data-testid': 'embed-theme' },
    THEMES.map((t) => h('option', { value: t }, t)));
  const panelBoxes = PANELS.map((name) => check('embed-panel', LABELS[name],
    { 'data-panel': name, checked: EMBED_DEFAULT_PANELS.includes(name) }));
  const snippet = h('pre', { class: 'embed-snippet', id: 'embed-snippet', 'data-testid': 'embed-snippet', tabindex: '0',
    'aria-label': 'The snippet to paste into your page' });
  const preview = h('a', { target: '_blank', rel: 'noopener', 'data-testid': 'embed-preview' }, 'Preview in a new tab ↗');
  const status = h('span', { class: 'share-status', role: 'status' });
  const stepNote = h('span', { class: 'muted small' });

  const options = () => ({
    step: Math.max(0, Math.min(total(), Math.floor(Number(step.value) || 0))),
    autoplay: autoplay.checked,
    readonly: readonly.checked,
    form: form.checked,
    theme: theme.value,
    panels: (() => {
      const on = PANELS.filter((_, i) => panelBoxes[i][0].checked);
      return on.length === EMBED_DEFAULT_PANELS.length && on.every((p) => EMBED_DEFAULT_PANELS.includes(p)) ? null : on;
    })(),
  });
  const update = () => {
    const url = embedUrl(app, options());
    snippet.textContent = embedSnippet(url, { title: scenarioTitle(app) });
    preview.href = url;
    stepNote.textContent = ` of ${total()}`;
  };

  const el = h('dialog', { class: 'embed-dialog', 'aria-labelledby': 'embed-title', 'data-testid': 'embed-dialog' },
    h('form', { method: 'dialog', oninput: update, onchange: update },
      h('h2', { id: 'embed-title' }, 'Embed this player'),
      h('p', { class: 'muted small' }, 'Paste the snippet into any page (a blog post, docs). The iframe shows this scenario ',
        'with the player controls, starts its engine only when scrolled into view or clicked, runs the single-threaded ',
        'build (simulated threads), stores nothing and sizes itself to its content with the few lines of script.'),
      h('fieldset', { class: 'embed-options' }, h('legend', null, 'Options'),
        h('label', { class: 'check', for: 'embed-step' }, 'Start at step ', step, stepNote),
        h('label', { class: 'check', for: 'embed-theme', title: 'auto follows the reader\'s light or dark setting' },
          'Theme ', theme),
        autoplayLabel, readonlyLabel, formLabel,
        h('fieldset', { class: 'embed-panels' }, h('legend', null, 'Panels'), panelBoxes.map(([, label]) => label))),
      h('p', { class: 'small', id: 'embed-snippet-label' }, h('strong', null, 'Snippet')),
      snippet,
      h('div', { class: 'dialog-actions' },
        h('button', {
          type: 'button', 'data-testid': 'copy-snippet',
          onclick: () => copyText(snippet.textContent, status, 'Snippet'),
        }, 'Copy snippet'),
        preview, status, h('span', { class: 'spacer' }),
        h('button', { value: 'close', 'data-testid': 'embed-close' }, 'Close'))));
  snippet.setAttribute('aria-labelledby', 'embed-snippet-label');
  document.body.append(el);
  return {
    el,
    sync() {
      step.max = String(total());
      step.value = String(app.session ? app.session.step : 0);
      update();
    },
  };
}

/* Downloads the engine's whole run as JSON (what `pollscope run --format json` prints). */
export async function downloadTrace(app, status) {
  let json;
  try {
    json = await app.engine.runJson();
  } catch (error) {
    status.textContent = `Export failed: ${error.message}`;
    return;
  }
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const name = `pollscope-${(app.preset || 'scenario.scn').replace(/\.scn$/, '')}.json`;
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  status.textContent = `Trace downloaded (${name})`;
  closeMenu();
}

export function copyCli(app, status) {
  closeMenu();
  return copyText(cliCommand(app.editor.text, { maxEvents: app.maxEvents || 0 }), status, 'Command');
}

function closeMenu() {
  const menu = document.getElementById('export-menu');
  if (menu) menu.open = false;
}
