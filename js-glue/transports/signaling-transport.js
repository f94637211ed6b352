// The contract every signaling transport meets. A transport carries the
// kernel's signaling envelope (JSON text) between nodes and knows nothing of
// its contents: rooms, addressing and validation are the kernel's.
//
//   start(onSignal: (text: string) => void): Promise<void>
//   send(text: string, to: string | ''): void    // '' addresses every node
//   stop(): void
//   readonly name: string
//
// e2e/transport-contract.spec.js runs the same checks against each one.
export const SIGNALING_TRANSPORT_METHODS = Object.freeze(['start', 'send', 'stop']);

export function assertSignalingTransport(transport) {
  for (const method of SIGNALING_TRANSPORT_METHODS) {
    if (typeof transport?.[method] !== 'function') {
      throw new TypeError(`signaling transport ${transport?.name ?? '(unnamed)'} lacks ${method}()`);
    }
  }
  return transport;
}
