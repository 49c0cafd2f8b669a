/* Cross-origin isolation through a service worker (the coi-serviceworker
 * technique), for static hosts that cannot send COOP/COEP: public/coi-sw.js
 * re-serves this page's own files with those headers, so after one reload the page
 * is isolated and the pthread build runs. Opt-in from the build popover, for the
 * top-level page only: never registered inside an iframe (an embed), and the worker
 * itself leaves iframe navigations alone. */
const SCRIPT = 'coi-sw.js';

export function coiState(scope = globalThis) {
  let topLevel = false;
  try { topLevel = scope.top === scope; } catch { topLevel = false; }
  const supported = topLevel && scope.isSecureContext === true && 'serviceWorker' in scope.navigator;
  const controller = supported ? scope.navigator.serviceWorker.controller : null;
  return {
    supported,
    active: Boolean(controller && controller.scriptURL.endsWith(`/${SCRIPT}`)),
    isolated: scope.crossOriginIsolated === true,
  };
}

/* Registers the worker and reloads once it is active (the reload is served by it). */
export async function enableCoi() {
  await navigator.serviceWorker.register(new URL(SCRIPT, document.baseURI), { scope: './' });
  await navigator.serviceWorker.ready;
  location.reload();
}

export async function disableCoi() {
  for (const r of await navigator.serviceWorker.getRegistrations()) {
    const w = r.active || r.waiting || r.installing;
    if (w && w.scriptURL.endsWith(`/${SCRIPT}`)) await r.unregister();
  }
  location.reload();
}
