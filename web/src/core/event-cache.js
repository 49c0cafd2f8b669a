/* Events of one recorded run, fetched from the engine in aligned windows and kept
 * in a bounded cache (least recently used chunks are dropped). A 100,000-event
 * trace is never copied whole to the page: views ask for the range they draw.
 *
 *   const cache = new EventCache((from, to) => engine.events(from, to), total);
 *   cache.get(i)                     // the event or undefined (not fetched yet)
 *   await cache.ensure(a, b)         // fetches what is missing in [a, b) now
 *   cache.want('timeline', a, b)     // what a view shows: fetched in the background,
 *                                    // at most 2 requests in flight, the latest ranges
 *                                    // only (nothing is fetched for a window the user
 *                                    // has already scrubbed past)
 *   cache.addListener(() => redraw());
 */

export const CHUNK = 500;           // events per engine call (the engine allows 5,000)
export const MAX_CHUNKS = 80;       // at most 40,000 events kept on the page (less GC)
const MAX_IN_FLIGHT = 2;

export class EventCache {
  constructor(fetchRange, total, { chunk = CHUNK, maxChunks = MAX_CHUNKS } = {}) {
    this.fetchRange = fetchRange;
    this.total = total;
    this.chunk = chunk;
    this.maxChunks = maxChunks;
    this.chunks = new Map();    // chunk number -> array of events (insertion order = LRU order)
    this.inflight = new Map();  // chunk number -> promise
    this.listeners = new Set();
    this.wants = new Map();     // consumer -> [from, to)
    this.disposed = false;
    this.frozen = false;       // a new run is loading: the engine no longer holds this one
  }

  dispose() {
    this.disposed = true;
    this.chunks.clear();
    this.inflight.clear();
    this.wants.clear();
    this.listeners.clear();
  }

  addListener(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /* The range a view shows now (replaces that view's previous range). */
  want(consumer, from, to) {
    this.wants.set(consumer, [Math.max(0, Math.floor(from)), Math.min(this.total, Math.ceil(to))]);
    this.touch(from, to);
    this.#pump();
  }

  #pump() {
    if (this.frozen || this.disposed) return;
    for (const [from, to] of this.wants.values()) {
      for (let c = Math.floor(from / this.chunk); c * this.chunk < to; c++) {
        if (this.inflight.size >= MAX_IN_FLIGHT) return;
        if (!this.chunks.has(c) && !this.inflight.has(c)) this.#load(c).then(() => this.#pump(), () => {});
      }
    }
  }

  get(index) {
    if (index < 0 || index >= this.total) return undefined;
    const c = Math.floor(index / this.chunk);
    const events = this.chunks.get(c);
    return events ? events[index - c * this.chunk] : undefined;
  }

  has(from, to) {
    from = Math.max(0, from);
    to = Math.min(this.total, to);
    for (let c = Math.floor(from / this.chunk); c * this.chunk < to; c++) if (!this.chunks.has(c)) return false;
    return true;
  }

  /* Marks chunks as recently used (they are drawn now). */
  touch(from, to) {
    from = Math.max(0, from);
    to = Math.min(this.total, to);
    for (let c = Math.floor(from / this.chunk); c * this.chunk < to; c++) {
      const events = this.chunks.get(c);
      if (events) {
        this.chunks.delete(c);
        this.chunks.set(c, events);
      }
    }
  }

  ensure(from, to) {
    from = Math.max(0, Math.floor(from));
    to = Math.min(this.total, Math.ceil(to));
    const waits = [];
    if (this.frozen || this.disposed) return Promise.resolve(false);
    for (let c = Math.floor(from / this.chunk); c * this.chunk < to; c++) {
      if (this.chunks.has(c)) continue;
      waits.push(this.#load(c));
    }
    this.touch(from, to);
    return waits.length ? Promise.all(waits).then(() => true) : Promise.resolve(false);
  }

  /* Events [from, to) that are cached, as a dense array (holes are undefined). */
  slice(from, to) {
    from = Math.max(0, from);
    to = Math.min(this.total, to);
    const out = new Array(Math.max(0, to - from));
    for (let i = from; i < to; i++) out[i - from] = this.get(i);
    return out;
  }

  #load(c) {
    if (this.inflight.has(c)) return this.inflight.get(c);
    const from = c * this.chunk;
    const to = Math.min(this.total, from + this.chunk);
    const promise = this.fetchRange(from, to).then((events) => {
      this.inflight.delete(c);
      if (this.disposed) return;
      this.chunks.set(c, events);
      while (this.chunks.size > this.maxChunks) this.chunks.delete(this.chunks.keys().next().value);
      for (const fn of this.listeners) fn(from, to);
    }, (error) => {
      this.inflight.delete(c);
      throw error;
    });
    this.inflight.set(c, promise);
    return promise;
  }
}
