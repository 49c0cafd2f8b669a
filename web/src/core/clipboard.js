/* Copies text, with visible feedback in `status` (a role=status element): the
 * Clipboard API, else a selected textarea and execCommand('copy'). On failure the
 * text is shown selected for the user to copy by hand. Never throws. */
export async function copyText(text, status, what = 'Link') {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.append(area);
    area.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    area.remove();
  }
  if (!status) return ok;
  status.replaceChildren();
  status.dataset.state = ok ? 'copied' : 'failed';
  if (ok) {
    status.textContent = `${what} copied to the clipboard`;
  } else {
    const box = document.createElement('input');
    box.readOnly = true;
    box.value = text;
    box.setAttribute('aria-label', `${what} to copy`);
    status.append(`Copy failed: select and copy the ${what.toLowerCase()} by hand `, box);
    box.select();
  }
  clearTimeout(status.timer);
  status.timer = setTimeout(() => {
    if (ok) {
      status.textContent = '';
      delete status.dataset.state;
    }
  }, 4000);
  return ok;
}
