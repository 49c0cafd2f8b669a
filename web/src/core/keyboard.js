/* Page-wide keyboard shortcuts for the player. They stay out of the way while the
 * user types: nothing fires in the editor, inputs, selects or textareas, and Space
 * keeps its native meaning on buttons and links. */

export function isTyping(target) {
  if (!target || typeof target.closest !== 'function') return false;
  if (target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"], .cm-editor')) return true;
  return false;
}

function activatesNatively(target) {
  return Boolean(target && typeof target.closest === 'function' && target.closest('button, a[href], summary, [role="button"]'));
}

/* handlers: {togglePlay, back, forward, start, end, prevPoll, nextPoll, nextTaskEvent}. */
export function shortcutFor(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  switch (event.key) {
    case ' ':
    case 'Spacebar':
      return 'togglePlay';
    case 'ArrowLeft':
      return event.shiftKey ? 'prevPoll' : 'back';
    case 'ArrowRight':
      return event.shiftKey ? 'nextPoll' : 'forward';
    case 'Home':
      return 'start';
    case 'End':
      return 'end';
    case 'n':
    case 'N':
      return 'nextTaskEvent';
    default:
      return null;
  }
}

export function bindKeyboard(root, handlers) {
  const onKey = (event) => {
    if (event.defaultPrevented || isTyping(event.target)) return;
    const action = shortcutFor(event);
    if (!action || !handlers[action]) return;
    if (action === 'togglePlay' && activatesNatively(event.target)) return;
    event.preventDefault();
    handlers[action]();
  };
  root.addEventListener('keydown', onKey);
  return () => root.removeEventListener('keydown', onKey);
}

export const SHORTCUTS = [
  ['Space', 'play / pause'],
  ['← / →', 'step back / forward'],
  ['Shift + ← / →', 'previous / next poll'],
  ['N', 'next event of the selected task'],
  ['Home / End', 'first / last step'],
];
