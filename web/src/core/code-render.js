/* Code rendering: each scenario task shown as the async function it stands for,
 * in C++ (pollscope's Async<> coroutines) or in Rust (async fn), one code line per
 * scenario operation so that the engine's (function, line) frames map to code lines.
 *
 * A rendered line is {segments: [[class, text], ...], scenarioLine, role}, where
 * class is one of kw | fn | num | type | var | punct | comment | '' (plain). */

const DURATION = /^(\d+)(ns|us|µs|ms|s)$/;
const RUST_DURATION = { ns: 'from_nanos', us: 'from_micros', ms: 'from_millis', s: 'from_secs' };

function splitDuration(text) {
  const m = DURATION.exec(String(text || '0s'));
  if (!m) return { value: '0', unit: 's' };
  return { value: m[1], unit: m[2] === 'µs' ? 'us' : m[2] };
}

const kw = (t) => ['kw', t];
const fn = (t) => ['fn', t];
const num = (t) => ['num', String(t)];
const ty = (t) => ['type', t];
const v = (t) => ['var', t];
const p = (t) => ['punct', t];
const sp = (t = ' ') => ['', t];
const cm = (t) => ['comment', t];

function cppDuration(text) {
  const { value, unit } = splitDuration(text);
  return [num(`${value}${unit}`)];
}

function rustDuration(text) {
  const { value, unit } = splitDuration(text);
  return [ty('Duration'), p('::'), fn(RUST_DURATION[unit]), p('('), num(value), p(')')];
}

function opCpp(op) {
  switch (op.kind) {
    case 'count':
      return [kw('co_await'), sp(), fn('count'), p('('), num(op.amount), p(');')];
    case 'yield':
      if (Number(op.amount || 1) === 1) return [kw('co_await'), sp(), fn('yield_now'), p('();')];
      return [kw('for'), sp(), p('('), kw('int'), sp(), v('i'), p(' = '), num(0), p('; '), v('i'), p(' < '), num(op.amount),
        p('; ++'), v('i'), p(') '), kw('co_await'), sp(), fn('yield_now'), p('();')];
    case 'sleep':
      return [kw('co_await'), sp(), fn('sleep'), p('('), ...cppDuration(op.duration), p(');')];
    case 'block':
      return [fn('blocking_call'), p('('), ...cppDuration(op.duration), p(');'), sp('  '), cm('// blocks the thread')];
    case 'spawn':
      return [kw('auto'), sp(), v(`handle_${op.task}`), p(' = '), fn('spawn'), p('('), fn(op.task), p(');')];
    case 'join':
      return [kw('co_await'), sp(), v(`handle_${op.task}`), p(';')];
    case 'call':
      return [kw('co_await'), sp(), fn(op.task), p('();')];
    case 'send':
      return [kw('co_await'), sp(), v(op.channel), p('.'), fn('send'), p('('), num(op.value), p(');')];
    case 'recv':
      return [kw('co_await'), sp(), v(op.channel), p('.'), fn('recv'), p('();')];
    case 'lose_waker':
      return [kw('co_await'), sp(), fn('lose_waker'), p('();'), sp('  '), cm('// Pending, waker dropped')];
    default:
      return [cm(`// ${op.kind}`)];
  }
}

function opRust(op) {
  switch (op.kind) {
    case 'count':
      return [fn('count'), p('('), num(op.amount), p(').'), kw('await'), p(';')];
    case 'yield':
      if (Number(op.amount || 1) === 1) return [fn('yield_now'), p('().'), kw('await'), p(';')];
      return [kw('for'), sp(), v('_'), sp(), kw('in'), sp(), num(0), p('..'), num(op.amount), p(' { '), fn('yield_now'),
        p('().'), kw('await'), p('; }')];
    case 'sleep':
      return [fn('sleep'), p('('), ...rustDuration(op.duration), p(').'), kw('await'), p(';')];
    case 'block':
      return [v('std'), p('::'), v('thread'), p('::'), fn('sleep'), p('('), ...rustDuration(op.duration), p(');'), sp('  '),
        cm('// blocks the thread')];
    case 'spawn':
      return [kw('let'), sp(), v(`handle_${op.task}`), p(' = '), fn('spawn'), p('('), fn(op.task), p('());')];
    case 'join':
      return [v(`handle_${op.task}`), p('.'), kw('await'), p(';')];
    case 'call':
      return [fn(op.task), p('().'), kw('await'), p(';')];
    case 'send':
      return [v(op.channel), p('.'), fn('send'), p('('), num(op.value), p(').'), kw('await'), p(';')];
    case 'recv':
      return [v(op.channel), p('.'), fn('recv'), p('().'), kw('await'), p(';')];
    case 'lose_waker':
      return [fn('lose_waker'), p('().'), kw('await'), p(';'), sp('  '), cm('// Pending, waker dropped')];
    default:
      return [cm(`// ${op.kind}`)];
  }
}

const INDENT = '    ';

/* One function per scenario task: {index, name, lines, codeLineOf(scenarioLine)}.
 * Frame line 0 (the function returned) maps to the closing brace. */
export function renderFunction(task, index, lang) {
  const lines = [];
  const header = lang === 'rust'
    ? [kw('async'), sp(), kw('fn'), sp(), fn(task.name), p('() {')]
    : [ty('Async'), p('<> '), fn(task.name), p('() {')];
  lines.push({ segments: header, scenarioLine: task.line || null, role: 'header' });
  const render = lang === 'rust' ? opRust : opCpp;
  for (const op of task.ops || []) {
    lines.push({ segments: [sp(INDENT), ...render(op)], scenarioLine: op.line || null, role: 'op' });
  }
  lines.push({ segments: [p('}')], scenarioLine: 0, role: 'end' });
  const byScenarioLine = new Map();
  lines.forEach((line, i) => {
    if (line.role !== 'header' && line.scenarioLine !== null) byScenarioLine.set(line.scenarioLine, i);
  });
  return {
    index,
    name: task.name,
    lines,
    codeLineOf(scenarioLine) {
      const i = byScenarioLine.get(Number(scenarioLine) || 0);
      return i === undefined ? -1 : i;
    },
  };
}

export function renderChannels(channels, lang) {
  return (channels || []).map((c) => ({
    segments: lang === 'rust'
      ? [kw('static'), sp(), v(c.name), p(': '), ty('Channel'), p('<'), ty('i64'), p('> = '), ty('Channel'), p('::'),
        fn('new'), p('('), num(c.capacity ?? 1), p(');')]
      : [ty('Channel'), p('<'), ty('std::int64_t'), p('> '), v(c.name), p('{'), num(c.capacity ?? 1), p('};')],
    scenarioLine: c.line || null,
    role: 'channel',
  }));
}

export function renderProgram(scenario, lang = 'cpp') {
  if (!scenario) return { channels: [], functions: [] };
  return {
    channels: renderChannels(scenario.channels, lang),
    functions: (scenario.tasks || []).map((task, i) => renderFunction(task, i, lang)),
  };
}

/* Plain text of a rendered line (tests, copy). */
export function lineText(line) {
  return line.segments.map((s) => s[1]).join('');
}
