// The interface every signaling transport implements. A transport moves text
// on one of the kernel's signaling routes and knows nothing of what it moves:
// the kernel decides when to open it, what to send where and what a message
// means (wasm/host/host_outputs.h, RouteOpen and the rest).
//
//   static route: string   the kernel's name for the route it carries
//   new Transport(events, host)  events: {onOpen(), onMessage(text), onClosed(), onListing(ok, text)};
//                          host: the classes it may take from its environment
//                          (WebSocket), globalThis in a browser
//   open(url)              then onOpen, or onClosed if it cannot open; onClosed
//                          again whenever it closes without being asked to
//   send(text, to)         to: the addressee's address on the route, '' for
//                          every node (or the medium itself); dropped when not open
//   close()                no event follows it; open() may be called again
//   list(url)              optional: the route's listing of its members, answered
//                          by onListing(ok, text)
//
// Events never fire during a call to the transport, only later, so the
// kernel is never re-entered from its own output. SignalingRoutes
// (signaling-routes.js) holds the transports by route; the contract suite
// (tests/js/transport-contract/) checks each one, in Node and in Chromium.
export const SIGNALING_TRANSPORT_METHODS = Object.freeze(['open', 'send', 'close']);

export function assertSignalingTransport(Transport) {
  if (typeof Transport?.route !== 'string' || Transport.route === '') {
    throw new TypeError(`signaling transport ${Transport?.name ?? '(unnamed)'} names no route (static route)`);
  }
  for (const method of SIGNALING_TRANSPORT_METHODS) {
    if (typeof Transport.prototype?.[method] !== 'function') {
      throw new TypeError(`signaling transport ${Transport.name} (route ${Transport.route}) lacks ${method}()`);
    }
  }
  return Transport;
}
