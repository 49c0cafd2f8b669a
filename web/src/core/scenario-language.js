/* The scenario language for CodeMirror 6, as a StreamLanguage tokenizer: settings
 * and `task`/`channel` at column 1, operations on indented lines, comments, numbers,
 * durations and names. */
import { StreamLanguage } from '@codemirror/language';

const TOP = new Set(['task', 'channel', 'executor', 'clock', 'threads', 'workers', 'seed', 'max_events']);
const OPS = new Set(['count', 'yield', 'sleep', 'block', 'spawn', 'join', 'call', 'send', 'recv', 'lose_waker']);
const ATOMS = new Set(['block_on_busy', 'block_on', 'local', 'thread_per_task', 'thread_pool', 'virtual', 'real',
  'simulated']);

export const scenarioLanguage = StreamLanguage.define({
  name: 'pollscope-scenario',
  startState: () => ({ word: 0, head: null, indented: false }),
  token(stream, state) {
    if (stream.sol()) {
      state.word = 0;
      state.head = null;
      state.indented = /^[ \t]/.test(stream.string);
    }
    if (stream.eatSpace()) return null;
    if (stream.peek() === '#') {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.match(/^\d[\d_]*(ns|us|µs|ms|s)\b/)) return 'unit';
    if (stream.match(/^-?\d[\d_]*/)) {
      state.word++;
      return 'number';
    }
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) {
      const word = stream.current();
      const first = state.word === 0;
      state.word++;
      if (first) {
        state.head = word;
        if (!state.indented && TOP.has(word)) return 'keyword';
        if (state.indented && OPS.has(word)) return 'operatorKeyword';
        return 'invalid';
      }
      if (state.head === 'task' && state.word === 2) return 'variableName.definition';
      if (state.head === 'channel' && state.word === 2) return 'variableName.definition';
      if (ATOMS.has(word) && !state.indented) return 'atom';
      if (state.head === 'send' || state.head === 'recv') return 'variableName.special';
      return 'variableName';
    }
    stream.next();
    return 'invalid';
  },
  languageData: { commentTokens: { line: '#' } },
});
