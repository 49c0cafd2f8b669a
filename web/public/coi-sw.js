/* pollscope: cross-origin isolation through a service worker, for static hosts
 * that cannot send headers (e.g. GitHub Pages). Registered by the page's own module
 * code (web/src/core/coi.js) when the user asks for real threads; it re-serves this
 * site's own responses with
 *   Cross-Origin-Opener-Policy: same-origin
 *   Cross-Origin-Embedder-Policy: require-corp
 *   Cross-Origin-Resource-Policy: same-origin
 * so that the reloaded page is cross-origin isolated (SharedArrayBuffer: the pthread
 * build). Other origins' requests and iframe navigations (embeds) pass untouched.
 * Unregister from the page (build popover), or in the browser's site settings. */
'use strict';
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  if (new URL(request.url).origin !== self.location.origin) return;
  if (request.destination === 'iframe' || request.destination === 'frame') return;
  event.respondWith(fetch(request).then((response) => {
    if (response.status === 0 || response.type === 'opaqueredirect') return response;
    const headers = new Headers(response.headers);
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
    headers.set('Cross-Origin-Resource-Policy', 'same-origin');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }));
});
