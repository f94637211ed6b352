// Serves the demo pages and the built package: web/ at /, dist/ at /dist/,
// bench/ at /bench/, and /peer-config.json describing the PeerJS signaling
// server it starts beside itself. PORT (default 5173) and SIGNAL_PORT
// (default 9000) set the ports; SIGNAL_PORT=0 runs without a signaling server.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerConfig, startSignalingServer } from './signaling-server.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const port = Number(process.env.PORT ?? 5173);
const host = process.env.HOST ?? '127.0.0.1';
const signalPort = Number(process.env.SIGNAL_PORT ?? 9000);

const mounts = [
  ['/dist/', join(root, 'dist')],
  ['/bench/', join(root, 'bench')],
  ['/', join(root, 'web')],
];

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function resolvePath(urlPath) {
  for (const [prefix, dir] of mounts) {
    if (!urlPath.startsWith(prefix)) continue;
    const file = normalize(join(dir, urlPath.slice(prefix.length)));
    return file === dir || file.startsWith(dir + sep) ? file : null;
  }
  return null;
}

const server = createServer(async (req, res) => {
  let urlPath;
  try {
    urlPath = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
  } catch {
    res.writeHead(400).end('bad request');
    return;
  }
  if (urlPath === '/peer-config.json') {
    if (signalPort === 0) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no signaling server (SIGNAL_PORT=0)');
      return;
    }
    // The host the page reached us by, so that other devices find the server too.
    const hostname = new URL(`http://${req.headers.host ?? 'localhost'}`).hostname;
    res.writeHead(200, { 'content-type': types['.json'], 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
    res.end(JSON.stringify(peerConfig(hostname, signalPort)));
    return;
  }
  if (urlPath === '/') {
    res.writeHead(302, { location: '/test-p2p.html' }).end();
    return;
  }
  let file = resolvePath(urlPath);
  try {
    if (file && (await stat(file)).isDirectory()) file = join(file, 'index.html');
    if (!file || !(await stat(file)).isFile()) throw new Error('not found');
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${urlPath}`);
    return;
  }
  res.writeHead(200, {
    'content-type': types[extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
    // Lets pages of other origins (sandboxed frames among them) import the package.
    'access-control-allow-origin': '*',
  });
  createReadStream(file).pipe(res);
});

if (signalPort !== 0) {
  const signaling = await startSignalingServer({ port: signalPort, host });
  console.log(`PeerJS signaling server: ws://${host}:${signaling.port}/peerjs`);
}
server.listen(port, host, () => {
  console.log(`PeerCompute demo: http://localhost:${port}/test-p2p.html (open it in several tabs, or several browsers)`);
});
