/* Which engine build this page can run, and why: the page shows the reason. */
export function detectBuild(scope = globalThis) {
  const isolated = scope.crossOriginIsolated === true;
  const shared = typeof scope.SharedArrayBuffer === 'function';
  if (isolated && shared) {
    return { build: 'threads', threads: true, reason: 'cross-origin isolated: real threads (Web Workers sharing memory) are available' };
  }
  if (!isolated) {
    return {
      build: 'single', threads: false,
      reason: 'not cross-origin isolated (no COOP/COEP headers), so the browser gives no SharedArrayBuffer: single-threaded build, threads are simulated',
    };
  }
  return { build: 'single', threads: false, reason: 'this browser has no SharedArrayBuffer: single-threaded build, threads are simulated' };
}
