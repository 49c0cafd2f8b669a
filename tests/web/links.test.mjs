// Unit and property tests of the share-link format (web/src/core/link.js), its
// lz-string codec (web/src/core/lz.js, checked against the lz-string package) and
// the embed helpers (web/src/core/embed-options.js), in Node with fast-check.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { compressToURI, decompressFromURI } from '../../web/src/core/lz.js';
import {
  LINK_VERSION, MAX_TEXT_BYTES, MAX_FRAGMENT_CHARS, MAX_STEP, PANELS, MIGRATIONS, checksum, utf8Length,
  encodeLink, encodePresetLink, decodeLink, parsePanels, wantsRealThreads, toSimulatedThreads,
} from '../../web/src/core/link.js';
import { cliCommand, parseEmbedOptions, embedQuery, embedSnippet } from '../../web/src/core/embed-options.js';
import { SPEEDS } from '../../web/src/core/step-model.js';

const LZString = createRequire(import.meta.url)('lz-string');

const COUNTER = 'executor local\n\ntask main\n  spawn a\n  spawn b\n  join a\n  join b\n\ntask a\n  count 10\n\ntask b\n  count 23\n';

/* Arbitrary states within the limits: any UTF-16 text up to 16 KiB of UTF-8. */
const textArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', 'task', 'count 10', '<script>', '#'), maxLength: 400 }),
  fc.string({ unit: 'binary-ascii', minLength: 15000, maxLength: 16384 }),
).filter((t) => utf8Length(t) <= MAX_TEXT_BYTES);
const stateArb = fc.record({
  text: textArb,
  step: fc.integer({ min: 0, max: MAX_STEP }),
  panels: fc.option(fc.subarray(PANELS), { nil: null }),
  speed: fc.constantFrom(...SPEEDS),
});
const normal = (s) => ({ ...s, panels: s.panels && s.panels.length < PANELS.length ? PANELS.filter((p) => s.panels.includes(p)) : null });

describe('lz codec', () => {
  test('is byte-for-byte lz-string\'s compressToEncodedURIComponent, both ways', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 3000 }), (s) => {
      const ours = compressToURI(s);
      assert.equal(ours, LZString.compressToEncodedURIComponent(s));
      assert.equal(decompressFromURI(ours), s);
      assert.equal(LZString.decompressFromEncodedURIComponent(ours), s);
    }), { numRuns: 500 });
    assert.equal(decompressFromURI(compressToURI('__proto__ __proto__ constructor')), '__proto__ __proto__ constructor');
  });

  test('decoding arbitrary strings never throws and is bounded', () => {
    fc.assert(fc.property(fc.string({ maxLength: 2000 }), (s) => {
      const out = decompressFromURI(s, 1000);
      assert.ok(out === null || (typeof out === 'string' && out.length <= 1000));
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$'),
      maxLength: 3000 }), (s) => {
      const out = decompressFromURI(s, MAX_TEXT_BYTES);
      assert.ok(out === null || out.length <= MAX_TEXT_BYTES);
    }), { numRuns: 2000 });
  });

  test('a decompression bomb stops at the limit, quickly', () => {
    // 200,000 characters from ~1,000: an LZ code can stand for a long string.
    const bomb = compressToURI('a'.repeat(200_000));
    assert.equal(LZString.decompressFromEncodedURIComponent(bomb).length, 200_000);
    assert.ok(bomb.length < 10000, `small input (${bomb.length} chars)`);
    const t0 = performance.now();
    assert.equal(decompressFromURI(bomb, MAX_TEXT_BYTES), null);
    assert.ok(performance.now() - t0 < 200, 'bounded work');
  });
});

describe('link format', () => {
  test('decode(encode(state)) == state for arbitrary states within the limits', () => {
    fc.assert(fc.property(stateArb, (state) => {
      const fragment = encodeLink(state);
      assert.ok(fragment.startsWith(`v${LINK_VERSION}/`));
      assert.match(fragment, /^[A-Za-z0-9+\-$./?=&,]*$/, 'only characters that survive in a URL fragment');
      const link = decodeLink(`#${fragment}`);
      assert.equal(link.kind, 'state', JSON.stringify(link));
      assert.deepEqual(link.state, normal(state));
    }), { numRuns: 150 });
  });

  test('decoding arbitrary strings never throws', () => {
    const fragments = fc.oneof(
      fc.string({ maxLength: 500 }),
      fc.string({ unit: 'binary', maxLength: 500 }),
      fc.tuple(fc.constantFrom('v0/', 'v1/', 'v2/', 'v1', 'V1/', 'counter?', 'v1/Q.'), fc.string({ maxLength: 400 })).map(([a, b]) => a + b),
      stateArb.chain((s) => fc.nat({ max: 4000 }).map((cut) => encodeLink(s).slice(0, cut))),
    );
    fc.assert(fc.property(fragments, (f) => {
      for (const hash of [f, `#${f}`]) {
        const link = decodeLink(hash);
        assert.ok(['none', 'preset', 'state', 'error'].includes(link.kind));
        if (link.kind === 'error') assert.match(link.message, /^This link cannot be opened: /);
        if (link.kind === 'state') assert.ok(utf8Length(link.state.text) <= MAX_TEXT_BYTES);
      }
    }), { numRuns: 800 });
  });

  test('a link cut short or altered is refused, not run as another scenario', () => {
    const full = encodeLink({ text: COUNTER, step: 37 });
    const [head] = full.split('?');
    for (let cut = 3; cut < head.length; cut++) {
      const link = decodeLink(`#${head.slice(0, cut)}`);
      assert.equal(link.kind, 'error', `cut at ${cut}`);
    }
    const flipped = head.slice(0, 10) + (head[10] === 'A' ? 'B' : 'A') + head.slice(11);
    assert.equal(decodeLink(`#${flipped}`).kind, 'error');
  });

  test('layout, defaults and presets', () => {
    const f = encodeLink({ text: COUNTER, step: 37, panels: ['timeline', 'executor'], speed: 2 });
    assert.match(f, /^v1\/[A-Za-z0-9+\-$]+\.[0-9a-f]{8}\?step=37&panels=executor,timeline&speed=2$/);
    assert.equal(f.split('.')[1].slice(0, 8), checksum(COUNTER));
    assert.equal(encodeLink({ text: COUNTER }), `v1/${compressToURI(COUNTER)}.${checksum(COUNTER)}`);
    assert.equal(encodeLink({ text: COUNTER, panels: PANELS }), encodeLink({ text: COUNTER }));
    assert.deepEqual(decodeLink('#counter'), { kind: 'preset', name: 'counter', state: { step: 0, panels: null, speed: 1 } });
    assert.deepEqual(decodeLink('#counter.scn?step=5&speed=0.5'),
      { kind: 'preset', name: 'counter', state: { step: 5, panels: null, speed: 0.5 } });
    assert.equal(encodePresetLink('counter.scn', { step: 5 }), 'counter?step=5');
    assert.deepEqual(decodeLink(''), { kind: 'none' });
    assert.deepEqual(decodeLink('#'), { kind: 'none' });
    assert.equal(decodeLink('#player').kind, 'preset', 'an in-page anchor: the caller ignores unknown names');
    // Unknown parameters are ignored (a later version may add some).
    assert.equal(decodeLink(`#${encodeLink({ text: 'x' })}?theme=dark&future=1`).kind, 'state');
  });

  test('the migration table: v0 (uncompressed) is upgraded to the v1 state', () => {
    assert.deepEqual(Object.keys(MIGRATIONS).map(Number), [0, 1]);
    assert.equal(Math.max(...Object.keys(MIGRATIONS).map(Number)), LINK_VERSION);
    for (let v = 0; v < LINK_VERSION; v++) assert.equal(typeof MIGRATIONS[v].upgrade, 'function', `v${v} has an upgrade`);
    const v0 = decodeLink(`#v0/${encodeURIComponent(COUNTER)}?step=12&speed=4`);
    assert.equal(v0.kind, 'state');
    assert.equal(v0.version, 0);
    assert.deepEqual(v0.state, { text: COUNTER, step: 12, panels: null, speed: 4 });
    assert.deepEqual(decodeLink(`#${encodeLink(v0.state)}`).state, v0.state);
    assert.equal(decodeLink('#v0/%E0%A4%A').kind, 'error');
  });

  test('bad links: each gives a message', () => {
    const good = encodeLink({ text: COUNTER });
    const cases = {
      'newer version': ['#v2/abc', /newer pollscope \(link format v2; this page reads v0 to v1\)/],
      'no payload': ['#v1/', /incomplete/],
      'no check digits': [`#v1/${compressToURI(COUNTER)}`, /incomplete/],
      'bad check digits': [`#${good.replace(/\.[0-9a-f]{8}/, '.00000000')}`, /do not match/],
      'not the alphabet': ['#v1/<script>alert(1)</script>.12345678', /cannot be decompressed/],
      'huge step': [`#${good}?step=99999999999999999999`, /step is not a whole number/],
      'negative step': [`#${good}?step=-1`, /step/],
      'step in exponent form': [`#${good}?step=1e9`, /step/],
      'unknown speed': [`#${good}?speed=3`, /speed/],
      'html in panels': [`#${good}?panels=<img src=x onerror=alert(1)>`, /panels/],
      'random bytes': ['#%ff%fe%00%01garbage', /not a pollscope link/],
      'oversized': [`#v1/${'A'.repeat(MAX_FRAGMENT_CHARS + 10)}`, /at most 64 KiB/],
      'text over 16 KiB': [`#${encodeLink({ text: 'é'.repeat(9000) })}`, /16 KiB/],
      'v0 over 16 KiB': [`#v0/${'a'.repeat(17000)}`, /16 KiB/],
    };
    for (const [name, [hash, pattern]] of Object.entries(cases)) {
      const link = decodeLink(hash);
      assert.equal(link.kind, 'error', name);
      assert.match(link.message, pattern, name);
    }
  });

  test('panels, threads and the checksum', () => {
    assert.deepEqual(parsePanels('log,executor'), ['executor', 'log']);
    assert.deepEqual(parsePanels(''), []);
    assert.equal(parsePanels('log,nope'), null);
    assert.equal(checksum(''), '811c9dc5');
    assert.equal(utf8Length('aé☃𝄞'), 1 + 2 + 3 + 4);
    assert.equal(wantsRealThreads({ settings: { threads: 'real' } }), true);
    assert.equal(wantsRealThreads({ settings: {} }), false);
    assert.equal(toSimulatedThreads('executor thread_pool\nthreads real  # yes\nclock real\n'),
      'executor thread_pool\nthreads simulated  # yes\nclock real\n');
  });
});

describe('embed helpers', () => {
  test('the CLI command is a quoted heredoc with --max-events when set', () => {
    assert.equal(cliCommand(COUNTER), `pollscope run - <<'EOF'\n${COUNTER}EOF\n`);
    assert.equal(cliCommand('task main\n  count 3', { maxEvents: 500 }),
      "pollscope run - --max-events 500 <<'EOF'\ntask main\n  count 3\nEOF\n");
    assert.match(cliCommand('# a\nEOF\nEOF_1\n'), /<<'EOF_2'\n# a\nEOF\nEOF_1\nEOF_2\n$/);
  });

  test('options parse strictly and round-trip', () => {
    assert.deepEqual(parseEmbedOptions(''), { autoplay: false, readonly: false, form: false, theme: 'auto', panels: null });
    const o = { autoplay: true, readonly: true, form: true, theme: 'dark', panels: ['timeline', 'log'] };
    assert.deepEqual(parseEmbedOptions(embedQuery(o)), o);
    assert.deepEqual(parseEmbedOptions('?theme=<script>&panels=nope&autoplay=yes'),
      { autoplay: false, readonly: false, form: false, theme: 'auto', panels: null });
  });

  test('the snippet escapes the URL and title and checks the origin and source', () => {
    const s = embedSnippet('https://example.org/p/embed.html?autoplay=1&theme=dark#v1/x.00000000?step=3', { title: 'a "b" <c>' });
    assert.match(s, /src="https:\/\/example\.org\/p\/embed\.html\?autoplay=1&amp;theme=dark#v1\/x\.00000000\?step=3"/);
    assert.match(s, /title="a &quot;b&quot; &lt;c&gt;"/);
    assert.match(s, /e\.origin !== "https:\/\/example\.org"/);
    assert.match(s, /f\.contentWindow === e\.source/);
    assert.match(s, /"pollscope:height"/);
  });
});
