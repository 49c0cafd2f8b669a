/* pollscope's playground: wires the engine (a Web Worker running the C++ runtime
 * compiled to WebAssembly, started by main.js) to the views. Data flow:
 *
 *   scenario text ──(editor / form / preset)──> RunSession.load ──> engine records the trace
 *   step K ──> snapshot(K) (current state)  +  events(window) (timeline, log) ──> components
 *
 * The engine records a run once; the page only asks for what it draws. DOM updates
 * are batched: at most one per animation frame, with the latest step and snapshot. */
import presetIndex from '../presets/index.json';
import { EngineCancelled, EngineTimeout } from './engine/client.js';
import { RunSession } from './core/session.js';
import { bindKeyboard } from './core/keyboard.js';
import { computeWarnings } from './core/warnings.js';
import { fastForwardStride, playbackAdvance } from './core/step-model.js';
import { ScenarioEditor } from './components/editor.js';
import { ScenarioForm } from './components/scenario-form.js';
import { PresetMenu } from './components/preset-menu.js';
import { Controls } from './components/controls.js';
import { Timeline } from './components/timeline.js';
import { ExecutorPanel } from './components/executor-panel.js';
import { CodeView } from './components/code-view.js';
import { EventLog } from './components/event-log.js';
import { Counters } from './components/counters.js';
import { WarningsPanel } from './components/warnings-panel.js';
import { RunStatus } from './components/run-status.js';
import { BuildInfo } from './components/build-info.js';
import { ComparePanel } from './components/compare.js';
import { h, clear } from './core/dom.js';
import {
  PANELS, MAX_TEXT_BYTES, decodeLink, encodeLink, encodePresetLink, utf8Length, wantsRealThreads, toSimulatedThreads,
} from './core/link.js';
import { copyText } from './core/clipboard.js';
import { coiState, enableCoi, disableCoi } from './core/coi.js';

const presetFiles = import.meta.glob('../presets/*.scn', { query: '?raw', import: 'default', eager: true });
const presetText = (file) => presetFiles[`../presets/${file}`];
const DEFAULT_PRESET = 'counter.scn';
const DEBOUNCE_MS = 300;
const LINK_MS = 400;  // the address bar follows the state at most this often
const PANEL_LABELS = { executor: 'Executor', code: 'Code', timeline: 'Timeline', counters: 'Counters and warnings', log: 'Event log' };

const $ = (id) => document.getElementById(id);

export class Playground {
  /* boot: {engine: Promise<{engine, build, reason, note, createEngine}>, progress(message)} */
  constructor(boot) {
    this.boot = boot;
    this.dirty = new Set();
    this.frame = 0;
    this.frameMs = 0;
    this.presets = presetIndex.filter((p) => presetText(p.file) !== undefined);
    this.preset = null;
    this.playing = false;
    this.fastForward = false;
    this.speed = 1;
    this.selectedTask = 0;
    this.runTimer = 0;
    this.lastGoodText = null;
    this.stale = '';
    this.running = false;
    this.firstRender = false;
    this.panels = null;      // visible panels; null: all
    this.linkTimer = 0;
    this.linkReady = false;  // the address bar is written only once the opening link is applied
    this.wantedStep = null;  // a link's step that no run has shown yet
  }

  async start() {
    performance.mark('pollscope:app');
    this.#buildViews();
    // The link (URL fragment) decides what opens: a whole state, a preset, or, for a
    // bad link, the default preset with a message.
    const plan = this.#resolveLink(location.hash) || this.#presetPlan(DEFAULT_PRESET);
    this.#showPlan(plan);
    let started;
    try {
      started = await this.boot.engine;
    } catch (error) {
      this.#progress(null);
      this.#engineFailure(`The engine could not start: ${error.message}`);
      return;
    }
    performance.mark('pollscope:engine-ready');
    this.engine = started.engine;
    this.createEngine = started.createEngine;
    this.buildInfo.update({ build: started.build, reason: started.reason, note: started.note });
    this.session = new RunSession(this.engine);
    this.#wireSession();
    this.#progress(`Running ${plan.preset || 'the linked scenario'}…`);
    await this.#runPlan(plan);
    this.engine.formatHelp().then((text) => { $('format-help-text').textContent = text; }).catch(() => {});
  }

  #buildViews() {
    // On a phone the form starts folded, so that the player is not a long scroll away.
    if (window.matchMedia('(max-width: 760px)').matches) $('form-details').open = false;
    this.buildInfo = new BuildInfo($('build-info'), {
      coi: coiState(),
      onEnableThreads: () => enableCoi().catch((e) => this.#linkMessage('error', `The service worker could not start: ${e.message}`)),
      onDisableThreads: () => disableCoi().catch(() => location.reload()),
    });
    this.buildInfo.update(this.boot.detected);
    this.presetMenu = new PresetMenu($('preset-select'), $('preset-explanation'), {
      presets: this.presets,
      onChoose: (file) => this.choosePreset(file),
    });
    this.editor = new ScenarioEditor($('editor'), { onChange: (text) => this.#textEdited(text) });
    this.form = new ScenarioForm($('scenario-form'), { onEdit: (scenario) => this.#formEdited(scenario) });
    $('revert').addEventListener('click', () => this.choosePreset(this.preset || DEFAULT_PRESET, { keepStep: true }));
    this.controls = new Controls($('controls'), {
      back: () => this.#seek(this.session.step - 1),
      forward: () => this.#seek(this.session.step + 1),
      togglePlay: () => this.togglePlay(),
      start: () => this.#seek(0, { keepPlaying: true }),
      end: () => this.#seek(this.session.total),
      reset: () => this.reset(),
      prevPoll: () => this.#findAndSeek({ kinds: ['poll_start'], backward: true }),
      nextPoll: () => this.#findAndSeek({ kinds: ['poll_start'] }),
      nextTaskEvent: () => this.selectedTask && this.#findAndSeek({ task: this.selectedTask }),
      runToEnd: () => this.runToEnd(),
      seek: (step) => this.#seek(step),
      setSpeed: (x) => { this.speed = x; this.#scheduleLink(); },
    });
    this.timeline = new Timeline($('timeline'), {
      onSeek: (step) => this.#seek(step),
      onSelectTask: (id) => this.selectTask(id),
    });
    this.executorPanel = new ExecutorPanel($('executor'));
    this.codeView = new CodeView($('code'));
    this.eventLog = new EventLog($('log'), { onSeek: (step) => this.#seek(step) });
    this.counters = new Counters($('counters'));
    this.warnings = new WarningsPanel($('warnings'), {
      onShowLine: (line) => this.editor.revealLine(line),
      onSeek: (step) => this.#seek(step),
    });
    this.status = new RunStatus($('run-status'), { onShowLine: (line) => this.editor.revealLine(line) });
    this.status.update(null);
    $('compare-toggle').addEventListener('click', () => this.toggleCompare());
    $('stop-run').addEventListener('click', () => this.stopRun());
    bindKeyboard(document, {
      togglePlay: () => this.togglePlay(),
      back: () => this.#seek(this.session.step - 1),
      forward: () => this.#seek(this.session.step + 1),
      start: () => this.#seek(0, { keepPlaying: true }),
      end: () => this.#seek(this.session.total),
      prevPoll: () => this.#findAndSeek({ kinds: ['poll_start'], backward: true }),
      nextPoll: () => this.#findAndSeek({ kinds: ['poll_start'] }),
      nextTaskEvent: () => this.selectedTask && this.#findAndSeek({ task: this.selectedTask }),
    });
    window.addEventListener('hashchange', () => {
      if (location.hash.slice(1) === this.lastFragment) return;
      const plan = this.#resolveLink(location.hash);
      if (!plan) return;
      this.#showPlan(plan);
      this.#runPlan(plan);
    });
    this.#buildShareBar();
    this.#buildPanelToggles();
  }

  /* ---- Links, panels, sharing --------------------------------------------- */

  #presetPlan(file, state = {}) {
    return { text: presetText(file), preset: file, state: { step: 0, panels: null, speed: 1, ...state }, source: 'preset' };
  }

  /* location.hash -> what to open, or null (nothing to do: empty, or an in-page
   * anchor). A bad link shows its message and opens the default preset. */
  #resolveLink(hash) {
    const link = decodeLink(hash);
    if (link.kind === 'preset') {
      const file = `${link.name}.scn`;
      return presetText(file) === undefined ? null : this.#presetPlan(file, link.state);
    }
    if (link.kind === 'state') {
      const preset = this.presets.find((p) => presetText(p.file) === link.state.text);
      return { text: link.state.text, preset: preset ? preset.file : null, state: link.state, source: 'link' };
    }
    if (link.kind === 'error') {
      this.#linkMessage('error', link.message, 'The default preset is shown instead.');
      history.replaceState(history.state, '', `#${encodePresetLink(DEFAULT_PRESET)}`);
      return { ...this.#presetPlan(DEFAULT_PRESET), keepLinkError: true };
    }
    return null;
  }

  /* Puts a plan on screen before it runs: text, preset menu, panels, speed. The
   * bad-link banner goes, unless the plan is what opens in place of that link. */
  #showPlan(plan) {
    this.pause();
    if (!plan.keepLinkError) this.#linkMessage('error', '');
    this.preset = plan.preset;
    this.presetMenu.show(plan.preset);
    this.editor.setText(plan.text);
    this.#setPanels(plan.state.panels, { write: false });
    this.speed = plan.state.speed;
    this.controls.setSpeed(plan.state.speed);
    if (plan.source !== 'link') this.#linkMessage('note', '');
  }

  async #runPlan(plan) {
    if (!this.session) return;
    clearTimeout(this.runTimer);
    this.linkReady = false;
    // The link's step stays in the address bar until a run can show it.
    this.wantedStep = plan.state.step;
    const result = await this.runText(plan.text, { keepStep: false, source: plan.source });
    const build = this.engine && this.engine.build;
    const real = result && wantsRealThreads(result.parsed && result.parsed.scenario);
    if (result && result.ok) {
      this.wantedStep = null;
      this.session.setStep(plan.state.step);
      if (real && plan.source === 'link') {
        this.#linkMessage('note', 'This link\'s scenario runs on real threads, so it was run again here: real threads ' +
          'interleave differently on every run, and this trace (and its step numbers) can differ from the one that was shared.');
      }
    } else if (result && plan.source === 'link') {
      if (real && build !== 'threads') {
        this.#linkMessage('note', 'This link\'s scenario asks for real threads (threads real), which need a cross-origin ' +
          'isolated page: this one runs the single-threaded engine.', null, [
          h('button', { type: 'button', class: 'small', 'data-testid': 'use-simulated', onclick: () => this.useSimulatedThreads() },
            'Use simulated threads'),
          coiState().supported ? h('button', { type: 'button', class: 'small', onclick: () => enableCoi().catch(() => {}) },
            'Enable real threads (reloads once)') : null]);
      } else {
        const e = result.errors[0] || { message: 'it does not run' };
        this.#linkMessage('error', `This link's scenario has errors (${e.line ? `line ${e.line}: ` : ''}${e.message}).`,
          'The default preset is shown instead.', [h('button', {
            type: 'button', class: 'small', onclick: () => {
              this.#linkMessage('error', '');
              this.#showPlan({ ...plan, source: 'text' });
              this.runText(plan.text, { keepStep: false });
            },
          }, 'Edit the link\'s text instead')]);
        const fallback = { ...this.#presetPlan(DEFAULT_PRESET), keepLinkError: true };
        this.#showPlan(fallback);
        this.wantedStep = null;
        await this.runText(fallback.text, { keepStep: false, source: 'preset' });
      }
    }
    this.linkReady = true;
    this.#scheduleLink();
  }

  /* `threads real` -> `threads simulated`, then run again (link note's button). */
  useSimulatedThreads() {
    const text = toSimulatedThreads(this.editor.text);
    const step = this.wantedStep ?? this.session.step;
    this.#linkMessage('note', '');
    this.editor.setText(text);
    this.#markEdited();
    this.#runPlan({ text, preset: this.preset, state: { step }, source: 'text' });
  }

  /* kind 'error' (bad link; role=alert) or 'note' (role=status); '' hides it. */
  #linkMessage(kind, message, detail = null, actions = []) {
    const box = $(kind === 'error' ? 'link-error' : 'link-note');
    clear(box);
    box.hidden = !message;
    if (!message) return;
    box.append(h('strong', null, message), detail ? ` ${detail}` : '', ' ', ...actions.filter(Boolean),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss', title: 'Dismiss', onclick: () => { box.hidden = true; } }, '✕'));
  }

  /* The current state as a fragment: an untouched preset at its start keeps its
   * short name (#counter); anything else is a v1 link with the whole text. null for
   * a text over the engine's limit: no link can open it, and compressing a pasted
   * megabyte held the page for 300 ms on every edit. */
  #fragment() {
    const text = this.editor.text;
    if (utf8Length(text) > MAX_TEXT_BYTES) return null;
    const step = this.wantedStep ?? (this.session ? this.session.step : 0);
    const state = { text, step, panels: this.panels, speed: this.speed };
    if (this.preset && presetText(this.preset) === text && !state.step && !state.panels && state.speed === 1) {
      return encodePresetLink(this.preset);
    }
    return encodeLink(state);
  }

  #scheduleLink() {
    if (this.linkTimer || !this.linkReady) return;
    this.linkTimer = setTimeout(() => this.#writeLink(), LINK_MS);
  }

  #writeLink() {
    clearTimeout(this.linkTimer);
    this.linkTimer = 0;
    if (!this.linkReady) return location.href;
    const fragment = this.#fragment();
    if (fragment === null) return null;
    this.lastFragment = fragment;
    if (location.hash.slice(1) !== fragment) history.replaceState(history.state, '', `#${fragment}`);
    return location.href;
  }

  presetText(file) { return presetText(file); }

  /* The link to share, up to date now; null when the text is too large for one. */
  currentLink() {
    return this.#writeLink();
  }

  #buildShareBar() {
    const status = $('share-status');
    $('copy-link').addEventListener('click', () => {
      const link = this.currentLink();
      if (link !== null) {
        copyText(link, status, 'Link');
        return;
      }
      status.dataset.state = 'failed';
      status.textContent = `No link can hold this scenario: it is over ${MAX_TEXT_BYTES / 1024} KiB. Shorten it to share it.`;
    });
    const share = () => (this.share ||= import('./share.js'));
    $('embed-button').addEventListener('click', () => share().then((m) => m.openEmbedDialog(this)));
    $('export-json').addEventListener('click', () => share().then((m) => m.downloadTrace(this, status)));
    $('copy-cli').addEventListener('click', () => share().then((m) => m.copyCli(this, status)));
  }

  #buildPanelToggles() {
    const box = $('panel-toggles');
    for (const name of PANELS) {
      box.append(h('label', { class: 'check' }, h('input', {
        type: 'checkbox', checked: true, 'data-testid': 'panel-toggle', 'data-panel': name,
        onchange: () => this.#setPanels(PANELS.filter((p) => box.querySelector(`[data-panel="${p}"]`).checked)),
      }), ` ${PANEL_LABELS[name]}`));
    }
  }

  /* Shows the panels named (null or all of them: every panel). */
  #setPanels(panels, { write = true } = {}) {
    this.panels = panels && panels.length < PANELS.length ? panels : null;
    for (const name of PANELS) {
      const on = !this.panels || this.panels.includes(name);
      document.querySelector(`section[data-panel="${name}"]`).hidden = !on;
      const box = $('panel-toggles').querySelector(`[data-panel="${name}"]`);
      if (box) box.checked = on;
    }
    this.timeline.render();
    if (write) this.#scheduleLink();
  }

  #wireSession() {
    const s = this.session;
    s.on('run', ({ run }) => {
      this.stale = '';
      document.body.classList.remove('is-stale');
      if (this.selectedTask && !run.final.tasks.some((t) => t.id === this.selectedTask)) this.selectedTask = 0;
      this.timeline.setRun(run);
      this.timeline.setSelected(this.selectedTask);
      this.eventLog.setRun(run);
      this.executorPanel.setRun(run);
      this.codeView.setScenario(run.scenario);
      this.#updateStatus();
      this.#updateWarnings(run);
      if (this.compare && !$('compare').hidden) this.compare.setScenario(run.scenario);
    });
    s.on('step', () => {
      this.#invalidate('step');
      this.#scheduleLink();
    });
    s.on('snapshot', () => this.#invalidate('snapshot'));
    s.on('searching', ({ active }) => {
      this.searching = active;
      this.#updateStatus();
    });
    s.on('error', ({ error }) => {
      if (error instanceof EngineCancelled) return;
      this.#engineFailure(`The engine failed: ${error.message}`);
    });
  }

  /* ---- Running ------------------------------------------------------------ */

  #textEdited(text) {
    this.#markEdited();
    this.#scheduleLink();
    clearTimeout(this.runTimer);
    this.runTimer = setTimeout(() => this.runText(text, { source: 'text' }), DEBOUNCE_MS);
  }

  async #formEdited(scenario) {
    this.#markEdited();
    const seq = (this.formSeq = (this.formSeq || 0) + 1);
    let converted;
    try {
      converted = await this.engine.textFromJson(scenario);
    } catch (error) {
      this.#engineFailure(`The engine failed: ${error.message}`);
      return;
    }
    if (seq !== this.formSeq) return;
    if (!converted.ok) {
      this.form.setErrors(converted.errors);
      this.#showErrors(converted.errors.map((e) => ({ ...e, line: 0 })), 'The form has errors; the text was not updated');
      return;
    }
    this.form.setErrors([]);
    this.editor.setText(converted.text);
    this.#scheduleLink();
    clearTimeout(this.runTimer);
    this.runTimer = setTimeout(() => this.runText(converted.text, { source: 'form' }), DEBOUNCE_MS);
  }

  /* The user changed the text (editor or form): a bad link's banner is about what
   * was opened, no longer about what is on screen. */
  #markEdited() {
    if (this.preset) this.presetMenu.show(this.preset, { edited: true });
    this.#linkMessage('error', '');
  }

  choosePreset(file, { keepStep = false } = {}) {
    const text = presetText(file);
    if (text === undefined) return;
    this.pause();
    this.preset = file;
    this.presetMenu.show(file);
    this.#linkMessage('note', '');
    this.#linkMessage('error', '');
    clearTimeout(this.runTimer);
    this.editor.setText(text);
    this.runText(text, { keepStep, source: 'preset' }).then(() => this.#scheduleLink());
  }

  async runText(text, { keepStep = true, source = 'text' } = {}) {
    if (!this.session) return;
    const seq = (this.runSeq = (this.runSeq || 0) + 1);
    this.running = true;
    this.#updateStatus();
    const slow = setTimeout(() => { if (this.running) $('stop-run').hidden = false; }, 700);
    let result;
    try {
      result = await this.session.load(text, { keepStep });
    } catch (error) {
      if (seq === this.runSeq) {
        this.running = false;
        this.#updateStatus();
        if (error instanceof EngineTimeout) this.#runStopped(error.message);
      }
      if (!(error instanceof EngineCancelled)) this.#engineFailure(`The engine failed: ${error.message}`);
      return;
    } finally {
      clearTimeout(slow);
      if (seq === this.runSeq) $('stop-run').hidden = true;
    }
    if (seq !== this.runSeq) return;
    if (!this.firstRender) performance.mark('pollscope:first-run');
    this.running = false;
    $('form-stale').hidden = true;
    this.#clearEngineFailure();
    const diagnostics = [
      ...result.errors.map((e) => ({ ...e, severity: 'error' })),
      ...result.warnings.map((w) => ({ ...w, severity: 'warning' })),
    ];
    this.editor.setDiagnostics(diagnostics, text);
    this.#listDiagnostics(diagnostics);
    const parsed = result.parsed;
    if (source !== 'form') {
      if (parsed && parsed.ok) {
        this.form.setScenario(parsed.scenario);
        $('scenario-form').disabled = false;
        $('form-note').hidden = true;
      } else {
        $('scenario-form').disabled = true;
        $('form-note').hidden = false;
      }
    }
    if (!result.ok) {
      this.#showErrors(result.errors);
      this.stale = this.session.run ? 'showing the last run that worked' : '';
      document.body.classList.toggle('is-stale', Boolean(this.session.run));
      this.#updateStatus();
      if (!this.firstRender) this.#progress(null);
      return result;
    }
    this.lastGoodText = text;
    this.wantedStep = null;
    this.#showErrors([]);
    this.#updateStatus();
    return result;
  }

  /* A run that takes too long: the worker is replaced, the last good run restored. */
  stopRun() {
    this.engine.cancel('the run was stopped');
    this.#runStopped('The run was stopped before it finished. Lower max_events or the counts, then edit to run again.');
  }

  /* After the Stop button or a run's wall-clock limit: says so, and runs the last
   * good text again in the fresh worker, marked as not the text on screen. The form
   * stays with the editor (both are the text being edited, and an edit in a form
   * that showed the old values would write them over the new text), marked as not run. */
  #runStopped(message) {
    $('stop-run').hidden = true;
    this.running = false;
    this.#showErrors([], '');
    this.#engineFailure(message, { retry: false });
    const seq = this.runSeq;
    const text = this.editor.text;
    this.engine.jsonFromText(text).then((parsed) => {
      if (seq !== this.runSeq || this.editor.text !== text || !parsed.ok) return;
      this.form.setScenario(parsed.scenario);
      $('scenario-form').disabled = false;
      $('form-note').hidden = true;
      $('form-stale').hidden = false;
    }).catch(() => {});
    if (!this.lastGoodText) return;
    this.session.load(this.lastGoodText, { keepStep: true }).then(() => {
      if (this.editor.text === this.lastGoodText) return;
      this.stale = 'showing the last run that worked';
      document.body.classList.add('is-stale');
      this.#updateStatus();
    }).catch(() => {});
  }

  /* ---- Stepping ----------------------------------------------------------- */

  #seek(step, { keepPlaying = false } = {}) {
    if (!this.session) return;
    this.session.cancelSearch();
    if (!keepPlaying) this.pause();
    this.session.setStep(step);
  }

  async #findAndSeek(query) {
    if (!this.session || !this.session.run) return;
    this.pause();
    const step = this.session.step;
    // Step K shows events [0, K): searching forward starts at event K, backward
    // before the current event K - 1.
    const from = query.backward ? step - 2 : step;
    if (from < 0 && query.backward) return this.session.setStep(0);
    try {
      const e = await this.session.find(from, query);
      if (e) this.session.setStep(e.index + 1);
      else if (e === null && !query.backward) this.session.setStep(this.session.total);
    } catch (error) {
      this.#engineFailure(`The engine failed: ${error.message}`);
    }
  }

  togglePlay() {
    if (this.playing) this.pause();
    else this.play();
  }

  play({ fast = false } = {}) {
    if (!this.session || !this.session.run) return;
    if (this.session.step >= this.session.total) this.session.setStep(0);
    this.playing = true;
    this.fastForward = fast;
    this.#updateControls();
    let last = performance.now();
    let carry = 0;
    const tick = (now) => {
      if (!this.playing) return;
      const total = this.session.total;
      let steps;
      if (this.fastForward) steps = fastForwardStride(total - this.session.step, now - last);
      else ({ steps, carry } = playbackAdvance(carry, now - last, this.speed));
      last = now;
      if (steps > 0) this.session.setStep(this.session.step + steps);
      if (this.session.step >= total) {
        this.pause();
        return;
      }
      this.playFrame = requestAnimationFrame(tick);
    };
    this.playFrame = requestAnimationFrame(tick);
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    this.fastForward = false;
    cancelAnimationFrame(this.playFrame);
    this.#updateControls();
  }

  runToEnd() {
    if (!this.session || !this.session.run) return;
    if (this.session.step >= this.session.total) return;
    this.pause();
    this.play({ fast: true });
  }

  reset() {
    this.pause();
    this.selectTask(0);
    this.session.setStep(0);
  }

  selectTask(id) {
    this.selectedTask = id || 0;
    this.timeline.setSelected(this.selectedTask);
    if (this.session && this.session.snapshot) this.codeView.update(this.session.snapshot, this.selectedTask);
    this.#updateControls();
  }

  /* ---- Views -------------------------------------------------------------- */

  #invalidate(what) {
    this.dirty.add(what);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.#render());
  }

  /* One DOM update per animation frame, from the latest step and snapshot. */
  #render() {
    this.frame = 0;
    const t0 = performance.now();
    const dirty = this.dirty;
    this.dirty = new Set();
    const s = this.session;
    const parts = { controls: 0, timeline: 0, log: 0, panels: 0 };
    if (dirty.has('step')) {
      let t = performance.now();
      this.#updateControls();
      parts.controls = performance.now() - t;
      t = performance.now();
      this.timeline.setStep(s.step);
      this.timeline.draw();
      parts.timeline = performance.now() - t;
      t = performance.now();
      this.eventLog.setStep(s.step);
      this.eventLog.draw();
      parts.log = performance.now() - t;
    }
    const snapshot = s.snapshot;
    const tp = performance.now();
    if (dirty.has('snapshot') && snapshot) {
      $('caption').textContent = snapshot.caption;
      this.executorPanel.update(snapshot);
      this.codeView.update(snapshot, this.selectedTask);
      this.counters.update(snapshot, { busy: this.busyTasks });
      this.timeline.setTaskStates(snapshot);
      if (!this.firstRender) {
        this.firstRender = true;
        performance.mark('pollscope:first-render');
        document.body.dataset.ready = 'true';
        this.#progress(null);
      }
    }
    parts.panels = performance.now() - tp;
    this.frameParts = parts;
    this.frameMs = performance.now() - t0;
  }

  #taskName(id) {
    const run = this.session && this.session.run;
    const task = run && run.final.tasks.find((t) => t.id === id);
    return task ? task.name : '';
  }

  #updateControls() {
    if (!this.session) return;
    this.controls.update({
      step: this.session.step, total: this.session.total, playing: this.playing,
      selectedTaskName: this.#taskName(this.selectedTask),
    });
  }

  #updateStatus() {
    const run = this.session && this.session.run;
    this.status.update(run ? run.status : null, { stale: this.stale, running: this.running, searching: this.searching });
  }

  async #updateWarnings(run) {
    const final = run.final;
    this.busyTasks = new Set(final.tasks.filter((t) => t.polls > 0 && t.self_wakes > t.polls / 2).map((t) => t.name));
    this.warnings.update(computeWarnings({ status: run.status, final }));
    try {
      const blocking = await this.session.blockingCalls();
      if (this.session.run !== run) return;
      this.warnings.update(computeWarnings({ status: run.status, final, blocking }));
    } catch (error) {
      if (!(error instanceof EngineCancelled)) this.#engineFailure(`The engine failed: ${error.message}`);
    }
  }

  #listDiagnostics(diagnostics) {
    const list = $('diagnostics');
    clear(list);
    for (const d of diagnostics) {
      list.append(h('li', { class: `diagnostic ${d.severity}`, 'data-severity': d.severity },
        d.line ? h('button', { type: 'button', class: 'link', onclick: () => this.editor.revealLine(d.line) },
          `line ${d.line}${d.column ? `:${d.column}` : ''}`) : null,
        h('span', null, ` ${d.severity}: ${d.message}`), d.hint ? h('span', { class: 'muted' }, ` — ${d.hint}`) : null));
    }
  }

  /* Scenario errors, inline and announced (role=alert): the first with its line. */
  #showErrors(errors, heading) {
    const box = $('error');
    if (this.engineFailed) return;
    clear(box);
    if (!errors.length) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.dataset.kind = 'scenario';
    const first = errors[0];
    const where = first.line ? `Line ${first.line}${first.column ? `, column ${first.column}` : ''}: ` : '';
    box.append(h('strong', null, heading ? `${heading}. ` : 'The scenario has errors. '),
      `${where}${first.message}${first.hint ? ` — ${first.hint}` : ''}`,
      errors.length > 1 ? ` (and ${errors.length - 1} more)` : '');
    if (first.line) {
      box.append(' ', h('button', { type: 'button', class: 'link', onclick: () => this.editor.revealLine(first.line) },
        `Show line ${first.line}`));
    }
  }

  #engineFailure(message, { retry = true } = {}) {
    const box = $('error');
    this.engineFailed = true;
    clear(box);
    box.hidden = false;
    box.dataset.kind = 'engine';
    box.append(h('strong', null, message));
    if (retry) {
      box.append(' ', h('button', { type: 'button', class: 'small', onclick: () => location.reload() }, 'Reload the page'));
    }
  }

  #clearEngineFailure() {
    if (!this.engineFailed) return;
    this.engineFailed = false;
    $('error').hidden = true;
  }

  #progress(message) {
    this.boot.progress(message);
  }

  toggleCompare() {
    const button = $('compare-toggle');
    const section = $('compare');
    const open = section.hidden;
    section.hidden = !open;
    button.setAttribute('aria-pressed', open ? 'true' : 'false');
    if (open) {
      if (!this.compare) this.compare = new ComparePanel($('compare-body'), { createEngine: () => this.createEngine() });
      const run = this.session && this.session.run;
      if (run) this.compare.setScenario(run.scenario, { resetExecutors: true });
      section.scrollIntoView({ behavior: 'smooth', block: 'start' });
    }
  }
}

