/* embed.html: the player with minimal chrome, for an <iframe> in someone else's
 * page (a blog post). The scenario comes from the URL fragment (the same link format
 * as the playground, core/link.js); the options from the query string:
 *
 *   autoplay=1   play from the start step once loaded (not with prefers-reduced-motion)
 *   readonly=1   nothing can be edited (the parameter form, if shown, is disabled)
 *   form=1       show the scenario's parameter form
 *   theme=light|dark|auto (default auto: the reader's setting)
 *   panels=executor,code,timeline,counters,log   (default executor,code,timeline)
 *   and in the fragment: step (start step), speed
 *
 * Cheap when an article holds several: nothing but this page's own script loads until
 * the player is scrolled into view (IntersectionObserver) or clicked; then the engine's
 * worker starts. Without cross-origin isolation (any ordinary iframe) it runs the
 * single-threaded build; a scenario asking for `threads real` says why it cannot run
 * and offers simulated threads or the full playground. It uses no cookies or storage,
 * never navigates its parent, and tells it only its height:
 *   parent.postMessage({type: 'pollscope:height', height}, '*')
 * (the snippet from the playground's Embed dialog resizes the iframe from that). */
import './styles.css';
import { EngineClient, EngineCancelled, EngineTimeout } from './engine/client.js';
import { detectBuild } from './engine/detect.js';
import { RunSession } from './core/session.js';
import { bindKeyboard } from './core/keyboard.js';
import { fastForwardStride, playbackAdvance } from './core/step-model.js';
import { h, clear } from './core/dom.js';
import { PANELS, decodeLink, encodeLink, wantsRealThreads, toSimulatedThreads } from './core/link.js';
import { EMBED_DEFAULT_PANELS, parseEmbedOptions } from './core/embed-options.js';
import { Controls } from './components/controls.js';
import { Timeline } from './components/timeline.js';
import { ExecutorPanel } from './components/executor-panel.js';
import { CodeView } from './components/code-view.js';
import { EventLog } from './components/event-log.js';
import { Counters } from './components/counters.js';
import { RunStatus } from './components/run-status.js';
import { ScenarioForm } from './components/scenario-form.js';

const presetFiles = import.meta.glob('../presets/*.scn', { query: '?raw', import: 'default', eager: true });
const presetText = (name) => presetFiles[`../presets/${name}.scn`];
const DEFAULT_PRESET = 'counter';
const $ = (id) => document.getElementById(id);

class EmbedPlayer {
  constructor() {
    this.options = parseEmbedOptions(location.search);
    if (this.options.theme !== 'auto') document.documentElement.dataset.theme = this.options.theme;
    this.speed = 1;
    this.playing = false;
    this.started = false;
    this.dirty = new Set();
    this.frame = 0;
    this.#readLink();
    this.#buildViews();
    this.#watchHeight();
    this.#updateOpenLink();
    // Start when scrolled into view (the implicit root is the top-level viewport,
    // also for a cross-origin iframe), or on any click on the player.
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.start();
    });
    this.observer.observe($('embed-root'));
    $('embed-start-button').addEventListener('click', () => this.start());
  }

  #readLink() {
    const link = decodeLink(location.hash);
    this.step0 = 0;
    this.fromLink = false;
    if (link.kind === 'state') {
      this.text = link.state.text;
      this.fromLink = true;
    } else if (link.kind === 'preset' && presetText(link.name) !== undefined) {
      this.text = presetText(link.name);
    } else {
      if (link.kind === 'error') this.#message('link-error', link.message, 'The default preset is shown instead.');
      this.text = presetText(DEFAULT_PRESET);
      link.state = null;
    }
    if (link.state) {
      this.step0 = link.state.step;
      this.speed = link.state.speed;
    }
    this.panels = this.options.panels || (link.state && link.state.panels) || EMBED_DEFAULT_PANELS;
  }

  #buildViews() {
    const show = (name) => this.panels.includes(name);
    for (const name of PANELS) document.querySelector(`[data-panel="${name}"]`).hidden = !show(name);
    const seek = (step) => this.seek(step);
    this.controls = new Controls($('controls'), {
      back: () => this.seek(this.step - 1),
      forward: () => this.seek(this.step + 1),
      togglePlay: () => this.togglePlay(),
      start: () => this.seek(0, { keepPlaying: true }),
      end: () => this.seek(Infinity),
      reset: () => this.seek(0),
      runToEnd: () => this.play({ fast: true }),
      seek,
      setSpeed: (x) => { this.speed = x; this.#updateOpenLink(); },
    }, { idPrefix: 'embed', compact: true });
    this.controls.setSpeed(this.speed);
    this.controls.update({ step: 0, total: 0, playing: false });
    this.status = new RunStatus($('run-status'));
    this.status.update(null);
    $('run-status').textContent = 'Not started yet';
    this.timeline = show('timeline') ? new Timeline($('timeline'), { onSeek: seek }) : null;
    this.executor = show('executor') ? new ExecutorPanel($('executor')) : null;
    this.code = show('code') ? new CodeView($('code')) : null;
    this.log = show('log') ? new EventLog($('log'), { onSeek: seek }) : null;
    this.counters = show('counters') ? new Counters($('counters')) : null;
    bindKeyboard(document, {
      togglePlay: () => this.togglePlay(),
      back: () => this.seek(this.step - 1),
      forward: () => this.seek(this.step + 1),
      start: () => this.seek(0, { keepPlaying: true }),
      end: () => this.seek(Infinity),
    });
  }

  get step() { return this.session ? this.session.step : 0; }

  /* Starts the engine (once) and runs the scenario. */
  async start() {
    if (this.started) return;
    this.started = true;
    this.observer.disconnect();
    document.body.dataset.engine = 'starting';
    $('embed-start-button').disabled = true;
    $('run-status').textContent = 'Loading the engine…';
    const detected = detectBuild();
    let engine = new EngineClient({ baseUrl: 'engine/', build: detected.build });
    try {
      try {
        await engine.start();
      } catch (error) {
        if (detected.build !== 'threads') throw error;
        engine.dispose();
        engine = new EngineClient({ baseUrl: 'engine/', build: 'single' });
        await engine.start();
      }
    } catch (error) {
      document.body.dataset.engine = 'failed';
      this.#message('error', `The engine could not start: ${error.message}`);
      return;
    }
    this.engine = engine;
    const threads = engine.build === 'threads';
    $('build-info').dataset.threads = threads ? '1' : '0';
    $('build-info').textContent = threads ? 'threaded engine' : 'single-threaded engine';
    this.session = new RunSession(engine);
    this.session.on('run', ({ run }) => {
      this.timeline?.setRun(run);
      this.log?.setRun(run);
      this.executor?.setRun(run);
      this.code?.setScenario(run.scenario);
      this.status.update(run.status);
    });
    this.session.on('step', () => this.#invalidate('step'));
    this.session.on('snapshot', () => this.#invalidate('snapshot'));
    this.session.on('error', ({ error }) => {
      if (!(error instanceof EngineCancelled)) this.#message('error', `The engine failed: ${error.message}`);
    });
    $('embed-start').hidden = true;
    document.body.dataset.engine = 'ready';
    if (this.options.form) await this.#buildForm();
    await this.run(this.text, { step: this.step0, initial: true });
  }

  async run(text, { step = 0, initial = false } = {}) {
    const seq = (this.runSeq = (this.runSeq || 0) + 1);
    let result;
    try {
      result = await this.session.load(text, { keepStep: !initial });
    } catch (error) {
      if (error instanceof EngineTimeout) this.#message('error', error.message);
      else if (!(error instanceof EngineCancelled)) this.#message('error', `The engine failed: ${error.message}`);
      return;
    }
    if (seq !== this.runSeq) return;
    const scenario = result.parsed && result.parsed.scenario;
    if (result.ok) {
      this.text = text;
      this.#message('error', '');
      if (initial) this.session.setStep(step);
      if (this.form && scenario) this.form.setScenario(scenario);
      this.#updateOpenLink();
      if (initial && this.options.autoplay && !matchMedia('(prefers-reduced-motion: reduce)').matches) this.play();
      return;
    }
    if (wantsRealThreads(scenario) && this.engine.build !== 'threads') {
      this.text = text;
      this.#updateOpenLink();
      this.#message('link-note', 'This scenario runs on real threads, which need a cross-origin isolated page; an embedded ' +
        'player is not one, so it has the single-threaded engine.', null, [
        h('button', { type: 'button', class: 'small', 'data-testid': 'use-simulated', onclick: () => {
          this.#message('link-note', '');
          this.run(toSimulatedThreads(text), { step, initial: true });
        } }, 'Use simulated threads'),
        h('a', { href: $('open-full').href, target: '_blank', rel: 'noopener', class: 'small' }, 'Open the full playground ↗')]);
      return;
    }
    const e = result.errors[0] || { message: 'it does not run' };
    const where = e.line ? `line ${e.line}: ` : '';
    if (initial && this.fromLink) {
      this.fromLink = false;
      this.#message('link-error', `This link's scenario has errors (${where}${e.message}).`, 'The default preset is shown instead.');
      this.run(presetText(DEFAULT_PRESET), { initial: true });
    } else {
      this.#message('error', `The scenario has errors: ${where}${e.message}`);
    }
  }

  async #buildForm() {
    $('embed-form').hidden = false;
    $('scenario-form').disabled = this.options.readonly;
    this.form = new ScenarioForm($('scenario-form'), {
      onEdit: async (scenario) => {
        if (this.options.readonly) return;
        const seq = (this.formSeq = (this.formSeq || 0) + 1);
        const converted = await this.engine.textFromJson(scenario);
        if (seq !== this.formSeq) return;
        this.form.setErrors(converted.ok ? [] : converted.errors);
        if (!converted.ok) return;
        clearTimeout(this.formTimer);
        this.formTimer = setTimeout(() => this.run(converted.text), 300);
      },
    });
  }

  seek(step, { keepPlaying = false } = {}) {
    if (!this.session) return this.start();
    if (!keepPlaying) this.pause();
    this.session.setStep(step === Infinity ? this.session.total : step);
  }

  togglePlay() {
    if (!this.session) return this.start();
    if (this.playing) this.pause();
    else this.play();
  }

  play({ fast = false } = {}) {
    const s = this.session;
    if (!s || !s.run) return;
    this.pause();
    if (s.step >= s.total) s.setStep(0);
    this.playing = true;
    this.#updateControls();
    let last = performance.now();
    let carry = 0;
    const tick = (now) => {
      if (!this.playing) return;
      let steps;
      if (fast) steps = fastForwardStride(s.total - s.step, now - last);
      else ({ steps, carry } = playbackAdvance(carry, now - last, this.speed));
      last = now;
      if (steps > 0) s.setStep(s.step + steps);
      if (s.step >= s.total) return this.pause();
      this.playFrame = requestAnimationFrame(tick);
    };
    this.playFrame = requestAnimationFrame(tick);
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    cancelAnimationFrame(this.playFrame);
    this.#updateControls();
  }

  #updateControls() {
    if (this.session) this.controls.update({ step: this.session.step, total: this.session.total, playing: this.playing });
  }

  #invalidate(what) {
    this.dirty.add(what);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.#render());
  }

  #render() {
    this.frame = 0;
    const dirty = this.dirty;
    this.dirty = new Set();
    const s = this.session;
    if (dirty.has('step')) {
      this.#updateControls();
      this.timeline?.setStep(s.step);
      this.timeline?.draw();
      this.log?.setStep(s.step);
      this.log?.draw();
      this.#scheduleOpenLink();
    }
    const snapshot = s.snapshot;
    if (dirty.has('snapshot') && snapshot) {
      $('caption').textContent = snapshot.caption;
      this.executor?.update(snapshot);
      this.code?.update(snapshot, 0);
      this.counters?.update(snapshot);
      this.timeline?.setTaskStates(snapshot);
      document.body.dataset.ready = 'true';
    }
  }

  /* "Open in playground": the full page (same folder) with the whole state. */
  #updateOpenLink() {
    const state = { text: this.text, step: this.session ? this.session.step : this.step0, speed: this.speed };
    $('open-full').href = new URL(`./#${encodeLink(state)}`, location.href).href;
  }

  #scheduleOpenLink() {
    if (this.linkTimer) return;
    this.linkTimer = setTimeout(() => {
      this.linkTimer = 0;
      this.#updateOpenLink();
    }, 300);
  }

  /* Tells the embedding page the content's height (and nothing else). */
  #watchHeight() {
    if (window.parent === window) return;
    let last = 0;
    const root = $('embed-root');
    new ResizeObserver(() => {
      const height = Math.ceil(root.getBoundingClientRect().height);
      if (height === last) return;
      last = height;
      window.parent.postMessage({ type: 'pollscope:height', height }, '*');
    }).observe(root);
  }

  #message(id, message, detail = null, actions = []) {
    const box = $(id);
    clear(box);
    box.hidden = !message;
    if (message) box.append(h('strong', null, message), detail ? ` ${detail}` : '', ' ', ...actions);
  }
}

window.pollscopeEmbed = new EmbedPlayer();  // for the browser tests
