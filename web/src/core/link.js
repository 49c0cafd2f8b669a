/* Share links: the playground's whole state in the URL fragment. Nothing is stored
 * on a server; the address bar is always a working link.
 *
 *   #v1/<lz>.<check>?step=37&panels=executor,timeline&speed=2
 *
 *   v1       the format version: selects the decoder and the migrations (MIGRATIONS)
 *   <lz>     the scenario text (which carries the executor settings), compressed with
 *            lz-string's compressToEncodedURIComponent (alphabet A-Z a-z 0-9 + - $)
 *   <check>  FNV-1a (32 bits, over the text's UTF-16 units) in 8 hex digits: a link
 *            cut short or altered is refused instead of running a different scenario
 *   step     the step shown, 0..999999999 (clamped to the run's length); default 0
 *   panels   the visible panels, in any order, from PANELS; default: all
 *   speed    the playback speed, one of SPEEDS; default 1
 * Parameters at their default are left out. Unknown parameters are ignored (a later
 * version may add some); a known one with a malformed value makes the link bad.
 *
 * Other fragments: `#counter` or `#counter.scn` (a preset by name, the links from
 * before this format; they may carry the same parameters: `#counter?step=37`), and
 * v0: `#v0/<percent-encoded text>?...` (readable, uncompressed, no check; for links
 * written by hand), upgraded to v1 by MIGRATIONS.
 *
 * Limits: the fragment is refused above 64 KiB before anything is decoded, and the
 * text above the engine's 16 KiB of UTF-8 (the decoder stops at that length).
 * decodeLink never throws, whatever the input. */
import { compressToURI, decompressFromURI } from './lz.js';
import { SPEEDS } from './step-model.js';

export const LINK_VERSION = 1;
export const MAX_FRAGMENT_CHARS = 64 * 1024;
export const MAX_TEXT_BYTES = 16 * 1024;
export const MAX_STEP = 999999999;
export const PANELS = ['executor', 'code', 'timeline', 'counters', 'log'];

/* FNV-1a over UTF-16 code units, as 8 lowercase hex digits. */
export function checksum(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function utf8Length(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

class LinkError extends Error {}
const bad = (message) => { throw new LinkError(message); };

/* Version -> {decode(payload) -> state fields, upgrade(state) -> state of version + 1}.
 * A new version adds a row and gives the previous row an upgrade; old links then run
 * through every upgrade up to LINK_VERSION. */
export const MIGRATIONS = {
  0: {
    decode(payload) {
      let text;
      try {
        text = decodeURIComponent(payload);
      } catch {
        bad('its text is not valid percent-encoding');
      }
      return { text };
    },
    // v0 and v1 hold the same state; v1 only changed how the text is written.
    upgrade: (state) => state,
  },
  1: {
    decode(payload) {
      const dot = payload.lastIndexOf('.');
      if (dot < 0) bad('it is incomplete (the end of the link is missing)');
      let lz = payload.slice(0, dot);
      const check = payload.slice(dot + 1).toLowerCase();
      if (!/^[0-9a-f]{8}$/.test(check)) bad('it is incomplete or damaged (bad check digits)');
      // Some tools percent-encode + and $; the alphabet has no %, so this is safe.
      if (lz.includes('%')) {
        try {
          lz = decodeURIComponent(lz);
        } catch {
          bad('it is damaged (bad percent-encoding)');
        }
      }
      const text = decompressFromURI(lz, MAX_TEXT_BYTES);
      if (text === null) bad('its scenario cannot be decompressed: the link is damaged, cut short or over 16 KiB');
      if (checksum(text) !== check) bad('it is damaged or cut short (the check digits do not match)');
      return { text };
    },
  },
};

function parseParams(query) {
  const out = {};
  if (!query) return out;
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    let value = eq < 0 ? '' : part.slice(eq + 1);
    try {
      value = decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      bad(`its parameter "${key.slice(0, 20)}" is not valid percent-encoding`);
    }
    if (key === 'step') {
      if (!/^\d{1,9}$/.test(value)) bad('its step is not a whole number from 0 to 999999999');
      out.step = Number(value);
    } else if (key === 'speed') {
      const x = Number(value);
      if (!/^\d{1,2}(\.\d{1,2})?$/.test(value) || !SPEEDS.includes(x)) bad(`its speed is not one of ${SPEEDS.join(', ')}`);
      out.speed = x;
    } else if (key === 'panels') {
      out.panels = parsePanels(value);
      if (!out.panels) bad(`its panels are not a list of ${PANELS.join(', ')}`);
    }
  }
  return out;
}

/* "executor,timeline" -> ['executor', 'timeline'] in PANELS order; null if malformed. */
export function parsePanels(value) {
  if (typeof value !== 'string' || value.length > 100) return null;
  const names = value === '' ? [] : value.split(',');
  if (!names.every((n) => PANELS.includes(n))) return null;
  return PANELS.filter((p) => names.includes(p));
}

function paramsString({ step = 0, panels = null, speed = 1 }) {
  const parts = [];
  if (step > 0) parts.push(`step=${step}`);
  if (panels && panels.length !== PANELS.length) parts.push(`panels=${PANELS.filter((p) => panels.includes(p)).join(',')}`);
  if (speed !== 1) parts.push(`speed=${speed}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/* Cache of the last compressed text: the link is rewritten as the user steps. */
let cached = { text: null, payload: '' };

/* state {text, step, panels (null: all), speed} -> the fragment, without '#'. */
export function encodeLink(state) {
  const text = String(state.text);
  if (cached.text !== text) cached = { text, payload: `${compressToURI(text)}.${checksum(text)}` };
  return `v${LINK_VERSION}/${cached.payload}${paramsString(state)}`;
}

/* A preset's fragment: `counter` (+ parameters when not at their defaults). */
export function encodePresetLink(file, state = {}) {
  return `${file.replace(/\.scn$/, '')}${paramsString(state)}`;
}

/* location.hash (with or without '#') -> one of
 *   {kind: 'none'}                                  empty, or an in-page anchor name
 *   {kind: 'preset', name, state: {step, panels, speed}}    `#counter?step=3`
 *   {kind: 'state', version, state: {text, step, panels, speed}}
 *   {kind: 'error', message}                        a bad link: show message, default preset
 * `name` is a bare name; whether such a preset exists is for the caller to say. */
export function decodeLink(hash) {
  try {
    return decodeOrThrow(hash);
  } catch (error) {
    if (error instanceof LinkError) return { kind: 'error', message: `This link cannot be opened: ${error.message}.` };
    return { kind: 'error', message: 'This link cannot be opened: it is not a pollscope link.' };
  }
}

function decodeOrThrow(hash) {
  if (typeof hash !== 'string') return { kind: 'none' };
  if (hash.length > MAX_FRAGMENT_CHARS + 1) bad(`it is ${Math.round(hash.length / 1024)} KiB long; links are at most 64 KiB`);
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  if (fragment === '') return { kind: 'none' };
  const q = fragment.indexOf('?');
  const head = q < 0 ? fragment : fragment.slice(0, q);
  const query = q < 0 ? '' : fragment.slice(q + 1);
  const versioned = /^v(\d{1,6})(?:\/|$)/i.exec(head);
  if (versioned) {
    const version = Number(versioned[1]);
    if (!Object.hasOwn(MIGRATIONS, version)) {
      bad(version > LINK_VERSION
        ? `it was made by a newer pollscope (link format v${version}; this page reads v0 to v${LINK_VERSION})`
        : `link format v${version} is unknown`);
    }
    if (!head.includes('/')) bad('it is incomplete (no scenario after the version)');
    let state = { ...MIGRATIONS[version].decode(head.slice(versioned[0].length)) };
    if (utf8Length(state.text) > MAX_TEXT_BYTES) bad('its scenario is over the 16 KiB limit');
    Object.assign(state, parseParams(query));
    for (let v = version; v < LINK_VERSION; v++) state = MIGRATIONS[v].upgrade(state);
    return { kind: 'state', version, state: withDefaults(state) };
  }
  let name = head;
  try {
    name = decodeURIComponent(head);
  } catch {
    bad('it is not a pollscope link');
  }
  if (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    return { kind: 'preset', name: name.replace(/\.scn$/, ''), state: withDefaults(parseParams(query)) };
  }
  bad('it is not a pollscope link');
}

function withDefaults(state) {
  return { step: 0, panels: null, speed: 1, ...state };
}

/* Real threads cannot run without cross-origin isolation: the scenario's settings
 * ask for them (`threads real`), from the engine's JSON form. */
export function wantsRealThreads(scenario) {
  return Boolean(scenario && scenario.settings && scenario.settings.threads === 'real');
}

/* The same text with `threads real` rewritten to `threads simulated`. */
export function toSimulatedThreads(text) {
  return text.replace(/^([ \t]*threads[ \t]+)real\b/gm, '$1simulated');
}
