// What the host does with each of the kernel's outputs, by the part of the
// glue that does it. Each adapter maps the output types it serves
// (wasm/host/host_interface.json names them) to a handler; the KernelDriver
// looks the handler up by type. serveKernelOutputs registers them all and
// fails unless every output type has exactly one.

export function connectionAdapter(pool) {
  return {
    open: (o) => pool.open(o.peerId, o.initiator),
    rtc: (o) => pool.deliver(o.peerId, o.data),
    close: (o) => pool.close(o.peerId),
    send: (o) => pool.send(o.peerId, o.bytes, o.unreliable),
  };
}

export function routeAdapter(routes) {
  return {
    'route-open': (o) => routes.open(o.route, o.url),
    'route-send': (o) => routes.send(o.route, o.text, o.to),
    'route-close': (o) => routes.close(o.route),
    'route-list': (o) => routes.list(o.route, o.url),
  };
}

export function eventAdapter(emitter) {
  return {
    'peer-connected': (o) => emitter.emit('peer-connected', { peerId: o.peerId }),
    'peer-disconnected': (o) => emitter.emit('peer-disconnected', { peerId: o.peerId, reason: o.reason }),
  };
}

export function stateAdapter(state) {
  return {
    state: (o) => state.applyKernelChanges(o.origin, o.changes),
    presence: (o) => state.applyPresence(o.peerId, o.json),
  };
}

export function messageAdapter(network) {
  return {
    message: (o) => network.deliverMessage(o.peerId, o.binary ? o.payload : JSON.parse(o.payload)),
  };
}

export function computeAdapter(compute) {
  const handle = (o) => compute.handleOutput(o);
  return { 'run-task': handle, 'cancel-task': handle, 'job-progress': handle, 'job-finished': handle };
}

// WebCrypto: the room password's seals and proofs, and the CSPRNG bytes the
// kernel draws its secrets from. Answers come back as kernel inputs.
export function cryptoAdapter(roomCrypto, driver, nodeId) {
  return {
    seal: (o) =>
      roomCrypto.seal(o.text).then(
        (sealed) => driver.input((k, t) => k.handleSealed(o.ticket, sealed, t)),
        () => driver.input((k, t) => k.handleSealed(o.ticket, '', t)),
      ),
    unseal: (o) =>
      roomCrypto.unseal(o.sealed).then((text) => driver.input((k, t) => k.handleUnsealed(o.ticket, text !== null, text ?? '', t))),
    authenticate: (o) =>
      roomCrypto
        .proofs(nodeId, o.peerId, o.ourChallenge, o.theirChallenge)
        .then(({ proof, expected }) =>
          driver.inputBytes(concatBytes(proof, expected), (k, size, t) => k.handleAuthProofs(o.ticket, proof.length, expected.length, t)),
        )
        .catch((error) => console.error('peercompute: computing the password proof failed', error)),
    entropy: (o) => driver.inputBytes(randomBytes(o.bytes), (k, size) => k.addEntropy(size)),
  };
}

// storage: the room's IndexedDbStore or LevelDbStore, or null without persistence (the
// kernel then asks for none of this). restore(record) applies a stored record.
export function storageAdapter(storage, driver, restore) {
  return {
    persist: (o) => storage?.append(o.bytes),
    compact: () =>
      storage
        ?.compact((records) => {
          for (const record of records) restore(record);
          return driver.input((k) => k.snapshotForStorage().slice());
        })
        .catch((error) => console.error('peercompute: compacting storage failed', error)),
  };
}

export function serveKernelOutputs(driver, { pool, routes, emitter, state, network, compute, roomCrypto, storage, nodeId, restore }) {
  driver.serve(connectionAdapter(pool));
  driver.serve(routeAdapter(routes));
  driver.serve(eventAdapter(emitter));
  driver.serve(stateAdapter(state));
  driver.serve(messageAdapter(network));
  driver.serve(computeAdapter(compute));
  driver.serve(cryptoAdapter(roomCrypto, driver, nodeId));
  driver.serve(storageAdapter(storage, driver, restore));
  driver.requireEveryOutputServed();
}

// getRandomValues fills at most 64 KiB a call.
export function randomBytes(size) {
  return crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
}

function concatBytes(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
