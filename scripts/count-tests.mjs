#!/usr/bin/env node
// Counts the Catch2 test cases that the given C++ files define, i.e. how many
// tests `catch_discover_tests` must find. Prints the total; with --verbose also
// one line per file on stderr.
//
// The rule (documented in docs/build-notes.md):
//  - TEST_CASE, SCENARIO, TEST_CASE_METHOD, SCENARIO_METHOD, METHOD_AS_TEST_CASE,
//    REGISTER_TEST_CASE (and CATCH_-prefixed forms): 1 test each.
//  - TEMPLATE_TEST_CASE(name, tags, T1, T2, ...): 1 test per type (same for the
//    _METHOD and _SIG forms); TEMPLATE_PRODUCT_TEST_CASE: templates x types.
//  - SECTION, GIVEN/WHEN/THEN, GENERATE do not add tests.
//  - Hidden tests (a tag starting with "." such as [.] or [.slow], [!hide], or
//    a name starting with "./") are not listed by Catch and do not count.
//  - Comments, string literals and preprocessor lines (#define ...) are ignored.
//  - TEMPLATE_LIST_TEST_CASE cannot be counted from the source: an error.
import { readFileSync } from 'node:fs';

const ONE = new Set(['TEST_CASE', 'SCENARIO', 'TEST_CASE_METHOD', 'SCENARIO_METHOD',
  'METHOD_AS_TEST_CASE', 'REGISTER_TEST_CASE']);
// macro -> [index of the name argument, index of the tags argument, index of first type]
const TEMPLATE = {
  TEMPLATE_TEST_CASE: [0, 1, 2],
  TEMPLATE_TEST_CASE_SIG: [0, 1, 3],
  TEMPLATE_TEST_CASE_METHOD: [1, 2, 3],
  TEMPLATE_TEST_CASE_METHOD_SIG: [1, 2, 4],
};
const PRODUCT = {
  TEMPLATE_PRODUCT_TEST_CASE: [0, 1, 2],
  TEMPLATE_PRODUCT_TEST_CASE_SIG: [0, 1, 3],
  TEMPLATE_PRODUCT_TEST_CASE_METHOD: [1, 2, 3],
  TEMPLATE_PRODUCT_TEST_CASE_METHOD_SIG: [1, 2, 4],
};
const UNCOUNTABLE = new Set(['TEMPLATE_LIST_TEST_CASE', 'TEMPLATE_LIST_TEST_CASE_METHOD']);

// Returns two copies of `src`, same length and line breaks: `kept` with comments
// and preprocessor lines blanked out, `code` with string and character literal
// contents blanked out as well (for finding macros and splitting arguments).
function scan(src) {
  let kept = '';
  let code = '';
  const put = (k, c = k) => { kept += k; code += c; };
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  let i = 0;
  let lineStart = true;
  while (i < src.length) {
    const c = src[i];
    const d = src[i + 1];
    if (lineStart && (c === ' ' || c === '\t')) { put(c); i++; continue; }
    if (lineStart && c === '#') {  // preprocessor line, with backslash continuations
      let j = i;
      while (j < src.length && src[j] !== '\n') j += src[j] === '\\' && src[j + 1] === '\n' ? 2 : 1;
      put(blank(src.slice(i, j))); i = j;
      continue;
    }
    lineStart = false;
    let j;
    if (c === '/' && d === '/') {
      j = src.indexOf('\n', i); if (j < 0) j = src.length;
      put(blank(src.slice(i, j)));
    } else if (c === '/' && d === '*') {
      j = src.indexOf('*/', i + 2); j = j < 0 ? src.length : j + 2;
      put(blank(src.slice(i, j)));
    } else if (c === 'R' && d === '"' && !/[A-Za-z0-9_]/.test(src[i - 1] ?? '')) {  // raw string
      const open = src.indexOf('(', i);
      const delim = ')' + src.slice(i + 2, open) + '"';
      const end = src.indexOf(delim, open);
      j = end < 0 ? src.length : end + delim.length;
      put(src.slice(i, j), ' "' + blank(src.slice(i + 2, j - 1)) + '"');
    } else if (c === '"' || (c === "'" && !/[0-9A-Fa-f]/.test(src[i - 1] ?? ''))) {  // not 1'000
      j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      j = Math.min(j + 1, src.length);
      put(src.slice(i, j), c + blank(src.slice(i + 1, j - 1)) + (j - i > 1 ? c : ''));
    } else {
      j = i + 1;
      put(c);
      if (c === '\n') lineStart = true;
    }
    i = j;
  }
  return { kept, code };
}

// Splits the macro arguments starting just after '(' at `pos` in `code`: top-level
// commas only (the preprocessor only nests parentheses). Returns the trimmed
// argument texts taken from `kept`.
function splitArgs(code, kept, pos) {
  const args = [];
  let depth = 0;
  let start = pos;
  for (let i = pos; i < code.length; i++) {
    const c = code[i];
    if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if ((c === ',' && depth === 0) || c === ')') {
      args.push(kept.slice(start, i).trim());
      if (c === ')') return args;
      start = i + 1;
    }
  }
  throw new Error('unterminated macro call');
}

const stringValue = (arg) => {
  const m = /^"((?:[^"\\]|\\.)*)"/.exec(arg ?? '');
  return m ? m[1] : '';
};
const isHidden = (name, tags) =>
  name.startsWith('./') || /\[\.|\[!hide\]/.test(tags);
const listSize = (arg) => {
  const a = arg.trim();
  return a.startsWith('(') ? splitArgs(a, a, 1).length : 1;
};

function countFile(path) {
  const { kept, code } = scan(readFileSync(path, 'utf8'));
  const re = /(?<![A-Za-z0-9_])(?:CATCH_)?([A-Z_]+)\s*\(/g;
  let total = 0;
  let m;
  while ((m = re.exec(code)) !== null) {
    const macro = m[1];
    const line = code.slice(0, m.index).split('\n').length;
    if (UNCOUNTABLE.has(macro)) {
      throw new Error(`${path}:${line}: ${macro} cannot be counted from the source; use TEMPLATE_TEST_CASE`);
    }
    if (!ONE.has(macro) && !(macro in TEMPLATE) && !(macro in PRODUCT)) continue;
    const args = splitArgs(code, kept, re.lastIndex);
    let n;
    let nameIdx = macro.endsWith('_METHOD') || macro.startsWith('METHOD_AS') ? 1 : 0;
    if (macro === 'REGISTER_TEST_CASE') nameIdx = 1;
    if (ONE.has(macro)) {
      n = 1;
    } else if (macro in TEMPLATE) {
      const [ni, , first] = TEMPLATE[macro];
      nameIdx = ni;
      n = Math.max(0, args.length - first);
    } else {
      const [ni, , first] = PRODUCT[macro];
      nameIdx = ni;
      n = listSize(args[first] ?? '') * listSize(args[first + 1] ?? '');
    }
    const tagsIdx = macro in TEMPLATE ? TEMPLATE[macro][1]
      : macro in PRODUCT ? PRODUCT[macro][1] : nameIdx + 1;
    if (isHidden(stringValue(args[nameIdx]), stringValue(args[tagsIdx]))) n = 0;
    total += n;
  }
  return total;
}

const verbose = process.argv.includes('--verbose');
const files = process.argv.slice(2).filter((a) => a !== '--verbose');
let total = 0;
try {
  for (const f of files) {
    const n = countFile(f);
    if (verbose) process.stderr.write(`  ${n}\t${f}\n`);
    total += n;
  }
} catch (e) {
  process.stderr.write(`count-tests: ${e.message}\n`);
  process.exit(2);
}
process.stdout.write(`${total}\n`);
