/* The preset menu: the engine's presets (web/presets/index.json), each with its
 * one-paragraph explanation shown under the menu. */
import { h } from '../core/dom.js';

export class PresetMenu {
  constructor(select, explanation, { presets, onChoose }) {
    this.select = select;
    this.explanation = explanation;
    this.presets = presets;
    for (const p of presets) select.append(h('option', { value: p.file }, p.title));
    this.custom = h('option', { value: '', disabled: true, hidden: true }, 'Edited scenario');
    select.append(this.custom);
    select.addEventListener('change', () => onChoose(select.value));
  }

  show(file, { edited = false } = {}) {
    const preset = this.presets.find((p) => p.file === file);
    this.select.value = file || '';
    this.custom.hidden = Boolean(preset);
    this.explanation.textContent = preset ? preset.explanation : '';
    this.explanation.dataset.preset = file || '';
    if (edited && preset) this.explanation.append(h('span', { class: 'muted small' }, ' (edited)'));
  }
}
