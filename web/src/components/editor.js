/* The scenario's text editor: CodeMirror 6 with line numbers, the scenario
 * language's highlighting, and the engine's diagnostics underlined at their line
 * and column (@codemirror/lint: message on hover, markers in the gutter). */
import { Annotation, EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter } from '@codemirror/view';
import { standardKeymap, history, historyKeymap, indentWithTab, toggleComment } from '@codemirror/commands';
import { HighlightStyle, syntaxHighlighting, indentUnit } from '@codemirror/language';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { tags as t } from '@lezer/highlight';
import { scenarioLanguage } from '../core/scenario-language.js';

/* Marks changes the page made itself (a preset, the form), not the user typing. */
const programmatic = Annotation.define();

const highlight = HighlightStyle.define([
  { tag: t.comment, class: 'tok-comment' },
  { tag: t.keyword, class: 'tok-keyword' },
  { tag: t.operatorKeyword, class: 'tok-op' },
  { tag: [t.number, t.unit], class: 'tok-number' },
  { tag: t.atom, class: 'tok-atom' },
  { tag: t.definition(t.variableName), class: 'tok-def' },
  { tag: t.special(t.variableName), class: 'tok-channel' },
  { tag: t.variableName, class: 'tok-name' },
  { tag: t.invalid, class: 'tok-invalid' },
]);

/* Column (1-based, in code points; a tab is one column) -> offset in the line. */
function columnOffset(text, column) {
  let units = 0;
  let points = 1;
  for (const ch of text) {
    if (points >= column) break;
    units += ch.length;
    points++;
  }
  return units;
}

/* Engine diagnostics -> CodeMirror diagnostics on `doc`. Each spans the word at
 * its column (or the rest of the line). */
export function toCodeMirrorDiagnostics(doc, diagnostics) {
  const out = [];
  for (const d of diagnostics) {
    const lineNo = Math.min(Math.max(1, d.line || 1), doc.lines);
    const line = doc.line(lineNo);
    const start = line.from + (d.column ? Math.min(columnOffset(line.text, d.column), line.length) : 0);
    const rest = doc.sliceString(start, line.to);
    const word = /^\S+/.exec(rest);
    let end = start + (d.column ? (word ? word[0].length : rest.length) : line.length);
    if (end === start && line.length > 0 && d.line) end = line.to;
    out.push({
      from: start,
      to: Math.max(start, end),
      severity: d.severity || 'error',
      message: d.hint ? `${d.message} (${d.hint})` : d.message,
      source: 'pollscope',
    });
  }
  return out;
}

export class ScenarioEditor {
  /* onChange(text) is called for the user's edits only. */
  constructor(parent, { text = '', onChange }) {
    this.onChange = onChange;
    this.view = new EditorView({
      parent,
      state: EditorState.create({
        doc: text,
        extensions: [
          lineNumbers(),
          EditorView.lineWrapping,
          highlightActiveLineGutter(),
          highlightActiveLine(),
          history(),
          indentUnit.of('  '),
          EditorState.tabSize.of(2),
          keymap.of([...standardKeymap, ...historyKeymap, indentWithTab, { key: 'Mod-/', run: toggleComment }]),
          scenarioLanguage,
          syntaxHighlighting(highlight),
          lintGutter(),
          EditorView.contentAttributes.of({
            'aria-label': 'Scenario text (Tab indents; press Escape then Tab to leave the editor)',
            spellcheck: 'false',
            autocapitalize: 'off',
            autocorrect: 'off',
          }),
          EditorView.updateListener.of((update) => {
            if (!update.docChanged) return;
            if (update.transactions.some((tr) => tr.annotation(programmatic))) return;
            this.onChange(update.state.doc.toString());
          }),
        ],
      }),
    });
  }

  get text() { return this.view.state.doc.toString(); }

  /* Replaces the whole text (a preset or the form): not reported to onChange. */
  setText(text) {
    if (text === this.text) return;
    const selection = this.view.state.selection.main;
    const head = Math.min(selection.head, text.length);
    this.view.dispatch({
      changes: { from: 0, to: this.view.state.doc.length, insert: text },
      selection: { anchor: head },
      annotations: programmatic.of(true),
    });
  }

  /* Shows the engine's diagnostics, if they belong to the text on screen. */
  setDiagnostics(diagnostics, forText) {
    if (forText !== undefined && forText !== this.text) return;
    const state = this.view.state;
    this.view.dispatch(setDiagnostics(state, toCodeMirrorDiagnostics(state.doc, diagnostics)));
  }

  /* Moves the cursor to a line and scrolls it into view. */
  revealLine(lineNo, { focus = true } = {}) {
    const doc = this.view.state.doc;
    if (!lineNo || lineNo > doc.lines) return;
    const line = doc.line(lineNo);
    this.view.dispatch({ selection: { anchor: line.from, head: line.to }, scrollIntoView: true });
    if (focus) this.view.focus();
  }
}
