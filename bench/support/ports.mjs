// Free loopback ports for the benches. They prefer a range of their own
// (5190-5199 for pages, 9190-9199 for the signaling server) so that they never
// take the ports of the demo (5173/9000) or of the e2e tests (5174/9174).
import { createServer } from 'node:net';

function tryListen(port, host) {
  return new Promise((resolvePort) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolvePort(null));
    srv.listen(port, host, () => {
      const { port: bound } = srv.address();
      srv.close(() => resolvePort(bound));
    });
  });
}

// The first port of [from, to] nothing listens on; with fallback, any free
// port the system picks when the whole range is taken.
export async function freePortIn(from, to, { host = '127.0.0.1', fallback = true } = {}) {
  for (let port = from; port <= to; port++) {
    if ((await tryListen(port, host)) !== null) return port;
  }
  if (!fallback) throw new Error(`no free port in ${from}-${to} on ${host}`);
  const port = await tryListen(0, host);
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}

export const PAGE_PORTS = [5190, 5199];
export const SIGNALING_PORTS = [9190, 9199];
