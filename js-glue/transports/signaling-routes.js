// The host's side of the kernel's signaling routes: one transport per route
// name, found by the name the kernel uses in RouteOpen, RouteSend, RouteClose
// and RouteList, and whose events go back to the kernel as handleRouteOpen,
// handleRouteMessage, handleRouteClosed and handleRouteListing. A new route is
// a new transport class in SIGNALING_TRANSPORTS.
import { BroadcastChannelTransport } from './broadcast-channel-transport.js';
import { PeerServerSocket } from './peer-server-socket.js';
import { assertSignalingTransport } from './signaling-transport.js';

export const SIGNALING_TRANSPORTS = Object.freeze([BroadcastChannelTransport, PeerServerSocket]);

export class SignalingRoutes {
  #driver;
  #classes = new Map(); // route -> transport class
  #transports = new Map(); // route -> its transport, made on first open
  #host;

  // host: the classes the transports take from their environment (WebSocket),
  // handed to each transport; globalThis in a browser.
  constructor(driver, transports = SIGNALING_TRANSPORTS, host = globalThis) {
    this.#driver = driver;
    this.#host = host;
    for (const Transport of transports) this.#classes.set(assertSignalingTransport(Transport).route, Transport);
  }

  open(route, url) {
    const transport = this.#transport(route);
    // A route this host has no transport for cannot open.
    if (!transport) {
      queueMicrotask(() => this.#driver.input((k, t) => k.handleRouteClosed(route, t)));
      return;
    }
    transport.open(url);
  }

  send(route, text, to) {
    this.#transports.get(route)?.send(text, to);
  }

  close(route) {
    this.#transports.get(route)?.close();
  }

  list(route, url) {
    const transport = this.#transports.get(route);
    if (typeof transport?.list === 'function') transport.list(url);
    else queueMicrotask(() => this.#driver.input((k, t) => k.handleRouteListing(route, false, '', t)));
  }

  closeAll() {
    for (const transport of this.#transports.values()) transport.close();
  }

  #transport(route) {
    if (!this.#transports.has(route) && this.#classes.has(route)) {
      const Transport = this.#classes.get(route);
      const driver = this.#driver;
      this.#transports.set(
        route,
        new Transport({
          onOpen: () => driver.input((k, t) => k.handleRouteOpen(route, t)),
          onMessage: (text) => driver.input((k, t) => k.handleRouteMessage(route, text, t)),
          onClosed: () => driver.input((k, t) => k.handleRouteClosed(route, t)),
          onListing: (ok, text) => driver.input((k, t) => k.handleRouteListing(route, ok, text, t)),
        }, this.#host),
      );
    }
    return this.#transports.get(route);
  }
}
