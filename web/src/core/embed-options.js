/* The playground's sharing helpers that the page itself does not need at load
 * (imported by share.js, loaded on first use, and by the embed): the embed's
 * options and snippet, and the CLI command. Pure functions, tested in Node. */
import { PANELS, parsePanels } from './link.js';

/* The shell command that reproduces a run with the CLI (a quoted heredoc: no
 * expansion; the delimiter is one that no line of the text equals). */
export function cliCommand(text, { maxEvents = 0 } = {}) {
  const lines = text.replace(/\n$/, '').split('\n');
  let delimiter = 'EOF';
  for (let i = 1; lines.includes(delimiter); i++) delimiter = `EOF_${i}`;
  const budget = maxEvents > 0 ? ` --max-events ${Math.floor(maxEvents)}` : '';
  return `pollscope run -${budget} <<'${delimiter}'\n${lines.join('\n')}\n${delimiter}\n`;
}

export const EMBED_DEFAULT_PANELS = ['executor', 'code', 'timeline'];
export const THEMES = ['auto', 'light', 'dark'];

/* embed.html's options (its query string): {autoplay, readonly, form, theme, panels}.
 * Malformed values fall back to the defaults. */
export function parseEmbedOptions(search) {
  const p = new URLSearchParams(typeof search === 'string' ? search.slice(0, 2000) : '');
  const flag = (k) => p.get(k) === '1' || p.get(k) === 'true';
  const theme = p.get('theme');
  return {
    autoplay: flag('autoplay'),
    readonly: flag('readonly'),
    form: flag('form'),
    theme: THEMES.includes(theme) ? theme : 'auto',
    panels: p.has('panels') ? parsePanels(p.get('panels')) : null,
  };
}

export function embedQuery({ autoplay = false, readonly = false, form = false, theme = 'auto', panels = null } = {}) {
  const parts = [];
  if (autoplay) parts.push('autoplay=1');
  if (readonly) parts.push('readonly=1');
  if (form) parts.push('form=1');
  if (theme !== 'auto') parts.push(`theme=${theme}`);
  if (panels) parts.push(`panels=${PANELS.filter((x) => panels.includes(x)).join(',')}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

const escapeHtml = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/* The copy-paste snippet: the iframe, and the few lines that resize it when the
 * embed posts {type: 'pollscope:height', height} (only from the embed's origin,
 * only the iframe whose window sent it; several embeds on one page each resize
 * their own). */
export function embedSnippet(src, { title = 'pollscope player', height = 520 } = {}) {
  const origin = new URL(src).origin;
  return `<iframe src="${escapeHtml(src)}" title="${escapeHtml(title)}" width="100%" height="${height}" loading="lazy" ` +
    `style="border:0;width:100%" allow="clipboard-write"></iframe>\n` +
    '<script>\n' +
    'window.pollscopeResize || (window.pollscopeResize = true, window.addEventListener("message", function (e) {\n' +
    `  if (e.origin !== ${JSON.stringify(origin)} || !e.data || e.data.type !== "pollscope:height") return;\n` +
    '  var h = Math.max(100, Math.min(5000, Math.round(Number(e.data.height)) || 0));\n' +
    '  document.querySelectorAll("iframe").forEach(function (f) {\n' +
    '    if (f.contentWindow === e.source) f.style.height = h + "px";\n' +
    '  });\n' +
    '}));\n' +
    '</script>\n';
}
