/* Small inline SVG icons (system fonts lack some media-control glyphs). */
const PATHS = {
  start: 'M3 3h2v10H3zM13 3v10L6 8z',
  back: 'M12 3v10L5 8z',
  play: 'M5 3v10l8-5z',
  pause: 'M4 3h3v10H4zM9 3h3v10H9z',
  forward: 'M4 3v10l7-5z',
  end: 'M11 3h2v10h-2zM3 3v10l7-5z',
  reset: 'M8 3a5 5 0 1 1-4.6 3H1.2A7 7 0 1 0 8 1V0L5 2.5 8 5z',
  fast: 'M1 3v10l6-5zM8 3v10l6-5z',
  info: 'M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1zm-.9 3h1.8v1.8H7.1zm0 3h1.8v5H7.1z',
  warning: 'M8 1 15.5 14.5H.5zm-.9 4.5v4.5h1.8V5.5zm0 5.8v1.8h1.8v-1.8z',
  error: 'M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1zM4.5 7.1h7v1.8h-7z',
};

export function icon(name, size = 14) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.classList.add('icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', PATHS[name]);
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}
