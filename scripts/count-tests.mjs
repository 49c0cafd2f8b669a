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
//  - #if/#ifdef/#ifndef/#elif/#else/#endif are evaluated, so test cases compiled
//    out of a build do not count. The macros known are: with --compile-commands
//    FILE (a build's compile_commands.json), those predefined by that build's
//    compiler with that file's flags (e.g. __EMSCRIPTEN__, __EMSCRIPTEN_PTHREADS__,
//    __SANITIZE_ADDRESS__, -D options); -D NAME[=VALUE] options; and #define/#undef
//    in the test file itself. Macros defined in included headers are NOT known:
//    guard test cases with predefined or command-line macros only.
//  - TEMPLATE_LIST_TEST_CASE cannot be counted from the source: an error.
//
// Usage: count-tests.mjs [--verbose] [--compile-commands FILE] [-D NAME[=VALUE]]... FILE...
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

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

// Evaluates a preprocessor #if expression with the given macros (name -> value).
function evalCondition(expr, macros, where) {
  let e = expr.replace(/\bdefined\s*\(\s*([A-Za-z_]\w*)\s*\)|\bdefined\s+([A-Za-z_]\w*)/g,
    (_, a, b) => (macros.has(a ?? b) ? ' 1 ' : ' 0 '));
  for (let depth = 0; /[A-Za-z_]/.test(e.replace(/\b0[xX][0-9a-fA-F]+|\b\d+[uUlL]*/g, '')); depth++) {
    if (depth > 20) throw new Error(`${where}: cannot evaluate #if ${expr}`);
    e = e.replace(/\b0[xX][0-9a-fA-F]+[uUlL]*|\b\d+[uUlL]*|\b[A-Za-z_]\w*(\s*\()?/g, (tok, call) => {
      if (/^\d|^0[xX]/.test(tok)) return tok.replace(/[uUlL]+$/, '');
      if (call) throw new Error(`${where}: cannot evaluate #if ${expr} (function-like macro ${tok.trim()})`);
      const v = macros.get(tok);
      return v === undefined || v === '' ? ' 0 ' : ` (${v}) `;
    });
    e = e.replace(/\bdefined\s*\(\s*([A-Za-z_]\w*)\s*\)|\bdefined\s+([A-Za-z_]\w*)/g,
      (_, a, b) => (macros.has(a ?? b) ? ' 1 ' : ' 0 '));
  }
  e = e.replace(/\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b/g, '$1');
  if (!/^[\s\d()xXa-fA-F!<>=&|^~+\-*/%?:]*$/.test(e)) {
    throw new Error(`${where}: cannot evaluate #if ${expr}`);
  }
  try {
    return Boolean(Function(`"use strict"; return (${e});`)());
  } catch {
    throw new Error(`${where}: cannot evaluate #if ${expr}`);
  }
}

// Tracks #if nesting; `active` is false inside a branch that is compiled out.
class Conditionals {
  constructor(macros, file) {
    this.macros = new Map(macros);
    this.file = file;
    this.stack = [];
    this.active = true;
  }
  directive(text, line) {
    const where = `${this.file}:${line}`;
    const body = text.replace(/\/\*.*?\*\//g, ' ').replace(/\/\/.*$/, '').trim();
    const m = /^#\s*([A-Za-z_]+)\s*(.*)$/s.exec(body);
    if (!m) return;
    const [, kw, rest] = m;
    const top = this.stack[this.stack.length - 1];
    const cond = (f) => (this.active ? f() : false);
    switch (kw) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const name = rest.split(/\s+/)[0];
        const c = cond(() => (kw === 'if' ? evalCondition(rest, this.macros, where)
          : kw === 'ifdef' ? this.macros.has(name) : !this.macros.has(name)));
        this.stack.push({ parent: this.active, taken: c });
        this.active = c;
        break;
      }
      case 'elif': {
        if (!top) throw new Error(`${where}: #elif without #if`);
        const c = top.parent && !top.taken && evalCondition(rest, this.macros, where);
        top.taken ||= c;
        this.active = c;
        break;
      }
      case 'else':
        if (!top) throw new Error(`${where}: #else without #if`);
        this.active = top.parent && !top.taken;
        top.taken = true;
        break;
      case 'endif':
        if (!top) throw new Error(`${where}: #endif without #if`);
        this.active = this.stack.pop().parent;
        break;
      case 'define': {
        const d = /^([A-Za-z_]\w*)(\([^)]*\))?\s*(.*)$/s.exec(rest);
        if (this.active && d) this.macros.set(d[1], d[2] ? '' : d[3].trim());
        break;
      }
      case 'undef':
        if (this.active) this.macros.delete(rest.split(/\s+/)[0]);
        break;
      default:
        break;
    }
  }
}

// Returns two copies of `src`, same length and line breaks: `kept` with comments,
// preprocessor lines and compiled-out code blanked out, `code` with string and
// character literal contents blanked out as well (for finding macros and
// splitting arguments).
function scan(src, macros, file) {
  const cond = new Conditionals(macros, file);
  let kept = '';
  let code = '';
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  const put = (k, c = k) => {
    if (cond.active) { kept += k; code += c; } else { kept += blank(k); code += blank(c); }
  };
  let i = 0;
  let line = 1;
  let lineStart = true;
  while (i < src.length) {
    const c = src[i];
    const d = src[i + 1];
    if (lineStart && (c === ' ' || c === '\t')) { put(c); i++; continue; }
    if (lineStart && c === '#') {  // preprocessor line, with backslash continuations
      let j = i;
      while (j < src.length && src[j] !== '\n') j += src[j] === '\\' && src[j + 1] === '\n' ? 2 : 1;
      const text = src.slice(i, j);
      const bl = blank(text);
      kept += bl; code += bl;
      cond.directive(text.replace(/\\\n/g, ' '), line);
      line += (text.match(/\n/g) ?? []).length;
      i = j;
      continue;
    }
    lineStart = false;
    let j;
    if (c === '/' && d === '/') {
      j = src.indexOf('\n', i); if (j < 0) j = src.length;
      const t = blank(src.slice(i, j)); kept += t; code += t;
    } else if (c === '/' && d === '*') {
      j = src.indexOf('*/', i + 2); j = j < 0 ? src.length : j + 2;
      const t = blank(src.slice(i, j)); kept += t; code += t;
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
    line += (src.slice(i, j).match(/\n/g) ?? []).length;
    i = j;
  }
  if (cond.stack.length > 0) throw new Error(`${file}: unterminated #if`);
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

function countFile(file, macros) {
  const { kept, code } = scan(readFileSync(file, 'utf8'), macros, file);
  const re = /(?<![A-Za-z0-9_])(?:CATCH_)?([A-Z_]+)\s*\(/g;
  let total = 0;
  let m;
  while ((m = re.exec(code)) !== null) {
    const macro = m[1];
    const line = code.slice(0, m.index).split('\n').length;
    if (UNCOUNTABLE.has(macro)) {
      throw new Error(`${file}:${line}: ${macro} cannot be counted from the source; use TEMPLATE_TEST_CASE`);
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

// Splits a compile command the way a POSIX shell would (quotes, backslashes).
function shellSplit(cmd) {
  const out = [];
  let cur = null;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (/\s/.test(c)) { if (cur !== null) { out.push(cur); cur = null; } continue; }
    cur ??= '';
    if (c === '\\') { cur += cmd[++i] ?? ''; } else if (c === "'") {
      const j = cmd.indexOf("'", i + 1); cur += cmd.slice(i + 1, j); i = j;
    } else if (c === '"') {
      for (i++; i < cmd.length && cmd[i] !== '"'; i++) cur += cmd[i] === '\\' ? cmd[++i] : cmd[i];
    } else cur += c;
  }
  if (cur !== null) out.push(cur);
  return out;
}

// Macros predefined for one compile_commands.json entry: its compiler and flags
// run on an empty file with -dM -E. Cached next to compile_commands.json.
function predefinedMacros(entry, cacheDir) {
  let args = entry.arguments ?? shellSplit(entry.command);
  if (/(^|\/)ccache$/.test(args[0])) args = args.slice(1);
  const src = path.resolve(entry.directory, entry.file);
  const flags = [];
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (['-o', '-MT', '-MF', '-MQ'].includes(a)) { i++; continue; }
    if (['-c', '-MD', '-MMD'].includes(a)) continue;
    if (path.resolve(entry.directory, a) === src) continue;
    flags.push(a);
  }
  const key = createHash('sha1').update(JSON.stringify([args[0], flags])).digest('hex').slice(0, 16);
  const cache = path.join(cacheDir, `.pollscope-macros-${key}.json`);
  if (existsSync(cache)) return new Map(JSON.parse(readFileSync(cache, 'utf8')));
  const out = execFileSync(args[0], [...flags, '-dM', '-E', '-x', 'c++', '/dev/null'],
    { cwd: entry.directory, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const macros = new Map();
  for (const l of out.split('\n')) {
    const m = /^#define ([A-Za-z_]\w*)(\([^)]*\))? ?(.*)$/.exec(l);
    if (m) macros.set(m[1], m[2] ? '' : m[3]);
  }
  writeFileSync(cache, JSON.stringify([...macros]));
  return macros;
}

const argv = process.argv.slice(2);
let verbose = false;
let compileCommands = null;
const defines = new Map();
const files = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--verbose') verbose = true;
  else if (a === '--compile-commands') compileCommands = argv[++i];
  else if (a === '-D' || a.startsWith('-D')) {
    const d = a === '-D' ? argv[++i] : a.slice(2);
    const eq = d.indexOf('=');
    defines.set(eq < 0 ? d : d.slice(0, eq), eq < 0 ? '1' : d.slice(eq + 1));
  } else files.push(a);
}

let total = 0;
try {
  // file -> macros; files missing from the database get those of the first test file.
  let byFile = new Map();
  let fallback = null;
  if (compileCommands) {
    const db = JSON.parse(readFileSync(compileCommands, 'utf8'));
    const cacheDir = path.dirname(compileCommands);
    const memo = new Map();
    for (const entry of db) {
      const file = path.resolve(entry.directory, entry.file);
      if (!files.some((f) => path.resolve(f) === file)) continue;
      const k = entry.command ?? JSON.stringify(entry.arguments);
      byFile.set(file, () => {
        if (!memo.has(k)) memo.set(k, predefinedMacros(entry, cacheDir));
        return memo.get(k);
      });
      fallback ??= byFile.get(file);
    }
  }
  for (const f of files) {
    const macros = new Map([...(byFile.get(path.resolve(f)) ?? fallback ?? (() => new Map()))()]);
    for (const [k, v] of defines) macros.set(k, v);
    const n = countFile(f, macros);
    if (verbose) process.stderr.write(`  ${n}\t${f}\n`);
    total += n;
  }
} catch (e) {
  process.stderr.write(`count-tests: ${e.message}\n`);
  process.exit(2);
}
process.stdout.write(`${total}\n`);
