/* The player's controls: step back / forward, play / pause with a speed, jump to
 * start / end, reset, the coarser steps (next poll, next event of the selected
 * task, run to the end) and a scrubber over all steps with the "Step K / N" label. */
import { h } from '../core/dom.js';
import { SPEEDS, stepLabel } from '../core/step-model.js';
import { icon } from '../core/icons.js';

export class Controls {
  /* actions: {back, forward, togglePlay, start, end, reset, prevPoll, nextPoll,
   * nextTaskEvent, runToEnd, seek(step), setSpeed(x)} */
  constructor(root, actions, { idPrefix = 'main', compact = false } = {}) {
    this.actions = actions;
    const button = (testid, label, text, onclick, extra = {}) => h('button', {
      type: 'button', class: 'control', 'data-testid': testid, 'aria-label': label, title: label, onclick, ...extra,
    }, text);
    this.startButton = button('jump-start', 'Jump to the first step (Home)', icon('start'), actions.start);
    this.backButton = button('step-back', 'Step back (Left arrow)', icon('back'), actions.back);
    this.playButton = button('play', 'Play (Space)', [icon('play'), ' Play'], actions.togglePlay,
      { 'aria-pressed': 'false', class: 'control play' });
    this.forwardButton = button('step-forward', 'Step forward (Right arrow)', icon('forward'), actions.forward);
    this.endButton = button('jump-end', 'Jump to the last step (End)', icon('end'), actions.end);
    this.resetButton = button('reset', 'Reset: pause, go back to step 0, clear the selection', icon('reset'), actions.reset);
    const speedId = `${idPrefix}-speed`;
    this.speed = h('select', {
      id: speedId, 'data-testid': 'speed', onchange: (e) => actions.setSpeed(Number(e.target.value)),
    }, SPEEDS.map((x) => h('option', { value: x, selected: x === 1 }, `${x}×`)));
    const scrubId = `${idPrefix}-scrubber`;
    this.scrubber = h('input', {
      id: scrubId, type: 'range', min: 0, max: 0, step: 1, value: 0, 'data-testid': 'scrubber', class: 'scrubber',
      'aria-label': 'Scrub through the steps', oninput: (e) => actions.seek(Number(e.target.value)),
    });
    this.label = h('output', { 'data-testid': 'step-label', class: 'step-label', for: scrubId }, stepLabel(0, 0));
    const row1 = h('div', { class: 'control-row', role: 'group', 'aria-label': 'Playback' },
      this.startButton, this.backButton, this.playButton, this.forwardButton, this.endButton, this.resetButton,
      h('label', { class: 'speed', for: speedId }, h('span', null, 'Speed'), this.speed));
    const row2 = compact ? null : h('div', { class: 'control-row coarse', role: 'group', 'aria-label': 'Coarser steps' },
      button('prev-poll', 'Previous poll (Shift+Left)', '‹ poll', actions.prevPoll, { class: 'control small' }),
      button('next-poll', 'Next poll (Shift+Right)', 'poll ›', actions.nextPoll, { class: 'control small' }),
      this.taskButton = button('next-task-event', 'task event: select a task in the timeline first', 'task event ›', actions.nextTaskEvent,
        { class: 'control small' }),
      button('run-to-end', 'Run to end (or to the stall)', ['run to end ', icon('fast', 12)], actions.runToEnd,
        { class: 'control small' }));
    const row3 = h('div', { class: 'control-row scrub' }, this.scrubber, this.label);
    root.append(...[row1, row2, row3].filter(Boolean));
  }

  update({ step, total, playing, selectedTaskName }) {
    this.scrubber.max = String(total);
    this.scrubber.value = String(step);
    this.scrubber.setAttribute('aria-valuetext', stepLabel(step, total));
    this.label.textContent = stepLabel(step, total);
    this.playButton.setAttribute('aria-pressed', playing ? 'true' : 'false');
    if (this.playButton.dataset.playing !== String(playing)) {
      this.playButton.dataset.playing = String(playing);
      this.playButton.replaceChildren(icon(playing ? 'pause' : 'play'), playing ? ' Pause' : ' Play');
    }
    this.playButton.setAttribute('aria-label', playing ? 'Pause (Space)' : 'Play (Space)');
    // aria-disabled rather than disabled: a button that is focused stays focused
    // (the actions clamp at the ends anyway).
    const mark = (button, off) => button.setAttribute('aria-disabled', off ? 'true' : 'false');
    mark(this.backButton, step <= 0);
    mark(this.startButton, step <= 0);
    mark(this.forwardButton, step >= total);
    mark(this.endButton, step >= total);
    if (this.taskButton) {
      this.taskButton.textContent = selectedTaskName ? `next ${selectedTaskName} event ›` : 'task event ›';
      // The accessible name starts with the visible text (WCAG 2.5.3).
      this.taskButton.setAttribute('aria-label', selectedTaskName
        ? `next ${selectedTaskName} event (N)` : 'task event: select a task in the timeline first');
      this.taskButton.setAttribute('aria-disabled', selectedTaskName ? 'false' : 'true');
      this.taskButton.title = selectedTaskName
        ? `Next event of ${selectedTaskName} (N)` : 'Select a task in the timeline first';
    }
  }

  setSpeed(x) { this.speed.value = String(x); }
}
