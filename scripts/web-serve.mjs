#!/usr/bin/env node
// A small static file server for the playground (npm start, browser tests, perf).
//
//   node scripts/web-serve.mjs [dir] [--port N] [--host H] [--no-isolation] [--no-csp]
//
// Serves `dir` (default dist/) with the headers the page is written for:
//   Cross-Origin-Opener-Policy: same-origin + Cross-Origin-Embedder-Policy: require-corp
//     (cross-origin isolation: SharedArrayBuffer, so the pthread build runs);
//     --no-isolation leaves them out, as an ordinary static host would
//   Content-Security-Policy: the strict policy from the project's brief (--no-csp: none)
//   .wasm as application/wasm (streaming compilation)
// Only loopback addresses. Import { startServer } to use it from tests.
import http from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; " +
  "style-src 'self' 'unsafe-inline'; img-src 'self' data:";

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.scn': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.scn', '.svg', '.txt', '.map']);

export function startServer({ dir = path.join(ROOT, 'dist'), port = 0, host = '127.0.0.1', isolation = true, csp = true,
  gzip = true, log = false } = {}) {
  const base = path.resolve(dir);
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      let file = path.normalize(path.join(base, decodeURIComponent(url.pathname)));
      if (file !== base && !file.startsWith(base + path.sep)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      let stat = await fs.stat(file).catch(() => null);
      if (stat && stat.isDirectory()) {
        file = path.join(file, 'index.html');
        stat = await fs.stat(file).catch(() => null);
      }
      if (!stat || !stat.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${url.pathname}`);
        if (log) console.log(`404 ${url.pathname}`);
        return;
      }
      const ext = path.extname(file).toLowerCase();
      const headers = {
        'Content-Type': TYPES[ext] || 'application/octet-stream',
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        // Same-origin resources are always allowed under COEP; this also lets them
        // load when the page is embedded elsewhere with COEP.
        'Cross-Origin-Resource-Policy': 'same-origin',
      };
      if (isolation) {
        headers['Cross-Origin-Opener-Policy'] = 'same-origin';
        headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      }
      if (csp) headers['Content-Security-Policy'] = CSP;
      const acceptsGzip = gzip && /\bgzip\b/.test(req.headers['accept-encoding'] || '') && COMPRESSIBLE.has(ext);
      if (acceptsGzip) {
        headers['Content-Encoding'] = 'gzip';
        headers.Vary = 'Accept-Encoding';
      } else {
        headers['Content-Length'] = stat.size;
      }
      res.writeHead(200, headers);
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      const stream = createReadStream(file);
      (acceptsGzip ? stream.pipe(zlib.createGzip({ level: 6 })) : stream).pipe(res);
      if (log) console.log(`200 ${url.pathname}`);
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({
        server,
        port: actual,
        url: `http://${host === '127.0.0.1' || host === '::1' ? host : 'localhost'}:${actual}/`,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  const opts = { isolation: true, csp: true, port: 8080, host: '127.0.0.1', log: false };
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--port') opts.port = Number(args[++i]);
    else if (a === '--host') opts.host = args[++i];
    else if (a === '--no-isolation') opts.isolation = false;
    else if (a === '--no-csp') opts.csp = false;
    else if (a === '--log') opts.log = true;
    else rest.push(a);
  }
  if (!['127.0.0.1', 'localhost', '::1'].includes(opts.host)) {
    console.error('web-serve: serves loopback addresses only (127.0.0.1, localhost, ::1)');
    process.exit(2);
  }
  opts.dir = path.resolve(rest[0] || path.join(ROOT, 'dist'));
  const indexExists = await fs.stat(path.join(opts.dir, 'index.html')).catch(() => null);
  if (!indexExists) {
    console.error(`web-serve: no index.html in ${opts.dir}; build first (npm run build)`);
    process.exit(1);
  }
  let server;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      server = await startServer({ ...opts, port: opts.port + attempt });
      break;
    } catch (error) {
      if (error.code !== 'EADDRINUSE') throw error;
    }
  }
  if (!server) throw new Error(`no free port from ${opts.port}`);
  const url = `http://${opts.host === '::1' ? '[::1]' : opts.host}:${server.port}/`;
  console.log(`pollscope playground: ${url}#counter`);
  console.log(`  serving ${path.relative(process.cwd(), opts.dir) || '.'} with ` +
    `${opts.isolation ? 'COOP/COEP (cross-origin isolated: threaded engine)' : 'no isolation headers (single-threaded engine)'}` +
    `${opts.csp ? ' and a strict CSP' : ''}; Ctrl+C stops it`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`web-serve: ${error.message}`);
    process.exit(1);
  });
}
