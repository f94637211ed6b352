// Renders shared with the room: this tab tells its peers about its own
// render (its start, each tile accepted, its end), and follows a peer's
// render that it is helping with, so that a helper tab shows the picture
// as it fills in, the tiles it computed among them, and the progress.
// The messages are the library's own (broadcast, sendToPeer, the 'message'
// event); their format is in tile-codec.js.
import { decodeControl, decodeTile, encodeControl, encodeTile } from './tile-codec.js';
import { RemoteRender } from './remote-render.js';

// onRemoteTile(render, index): a tile of the followed render arrived;
// onRemoteChange(): the followed render began, ended or was replaced.
export function createTileShare(session, canvas, { onRemoteTile, onRemoteChange }) {
  function send(message, peerId = null) {
    const { node } = session;
    if (!node?.isStarted || session.connectedIds().length === 0) return;
    try {
      const network = node.getNetworkManager();
      if (peerId === null) network.broadcast(message);
      else network.sendToPeer(peerId, message);
    } catch (err) {
      // A full send queue or a peer that just left: the picture is a courtesy.
      console.warn(`[compute-demo] could not share the render: ${err.message}`);
    }
  }

  // This tab's render r (a TileRender).
  const started = (r) => send(encodeControl('start', r));
  const tile = (r, index) => send(encodeTile(r, index));
  const ended = (r) => send(encodeControl('end', r, r.state));

  // A peer that connects during this tab's render gets what it missed.
  function catchUp(peerId) {
    const r = session.current;
    if (r?.state !== 'running') return;
    send(encodeControl('start', r), peerId);
    for (let i = 0; i < r.total; i++) if (r.counts[i]) send(encodeTile(r, i), peerId);
  }

  // The render `info` describes, followed from now on; null while another
  // tab's render is being followed.
  function follow(owner, info) {
    const current = session.remote;
    if (current?.describes(owner, info)) return current;
    if (current?.state === 'running' && current.owner !== owner) return null;
    session.remote = new RemoteRender(owner, canvas, info);
    onRemoteChange();
    return session.remote;
  }

  // The node's 'message' event.
  function receive({ peerId, message }) {
    if (message instanceof Uint8Array) {
      const decoded = decodeTile(message, canvas);
      const r = decoded && follow(peerId, decoded);
      if (r?.addTile(decoded, session.node.nodeId)) onRemoteTile(r, decoded.index);
      return;
    }
    const control = decodeControl(message, canvas);
    if (!control) return;
    if (control.event === 'start') follow(peerId, control);
    else if (session.remote?.describes(peerId, control) && session.remote.state === 'running') {
      session.remote.end(control.state);
      onRemoteChange();
    }
  }

  // A render whose tab left will never finish.
  function peerLeft(peerId) {
    const r = session.remote;
    if (r?.owner !== peerId || r.state !== 'running') return;
    r.end('abandoned');
    onRemoteChange();
  }

  return { started, tile, ended, catchUp, receive, peerLeft };
}
