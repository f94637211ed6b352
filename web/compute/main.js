// PeerCompute distributed-compute demo (compute.html): a Mandelbrot image
// rendered in tiles by every tab open in the room.
//
// The node starts on load, so every tab that opens this page (same ?room=,
// default 'compute-demo') is a worker. Render splits the canvas into tiles,
// submits one unit of the built-in 'mandelbrot' task per tile, and draws each
// tile as its progress event arrives, tinted by the tab that computed it.
// The tab shares its render with its peers as it goes (tile-share.js), so a
// tab that helps with it shows the picture filling in too.
// Tests drive the page through #renderBtn/#cancelBtn, #progress,
// #progressText, #elapsed, #summary, #peerTable, #legend, #tintToggle,
// #error, #peerGraph, window.node and
// window.computeDemo = {render(options), lastImageHash(), ready()}.
import { VERSION } from '/dist/peercompute.js';
import { byId } from '../shared/dom.js';
import { createPeerGraph } from '../shared/peer-graph.js';
import { createSignaledNode } from '../shared/signaling-config.js';
import { createCanvasView } from './canvas-view.js';
import { showError } from './error-banner.js';
import { renderNodePanel } from './node-panel.js';
import { createRenderControls } from './render-controls.js';
import { ComputeSession } from './session.js';
import { createTileShare } from './tile-share.js';
import { renderLegend, renderWorkersTable } from './workers-table.js';

const REFRESH_MS = 500;
const DEFAULT_ROOM = 'compute-demo';

const roomId = (new URLSearchParams(location.search).get('room') || '').trim() || DEFAULT_ROOM;
const session = new ComputeSession(roomId);

byId('version').textContent = VERSION;
byId('roomName').textContent = roomId;
const newTabUrl = new URL(location.pathname, location.href);
newTabUrl.searchParams.set('room', roomId);
byId('newTabLink').href = newTabUrl.href;
document.title = `PeerCompute · Mandelbrot · ${roomId}`;

const graph = createPeerGraph(byId('peerGraph'), { legend: byId('graphLegend'), summary: byId('graphSummary') });

function refresh() {
  renderNodePanel(session);
  view.sync();
  controls.renderProgress();
  renderWorkersTable(session);
  renderLegend(session);
  graph.render(session.node?.nodeId ?? null, session.node?.isInitialized ? session.node.getNetworkManager().getPeers() : []);
}

function onTile() {
  renderWorkersTable(session);
  renderLegend(session);
}

const canvas = byId('canvas');
const view = createCanvasView(canvas, session);
const share = createTileShare(session, canvas, {
  onRemoteTile: (r, index) => {
    view.tile(r, index);
    controls.remoteChanged();
    onTile();
  },
  onRemoteChange: () => {
    controls.remoteChanged();
    refresh();
  },
});
const controls = createRenderControls(session, canvas, { refresh, onTile, view, share });

async function boot() {
  Object.assign(session, await createSignaledNode({ roomId, enablePersistence: false }));
  const { node } = session;
  window.node = node;
  node.on('peer-connected', ({ peerId }) => {
    share.catchUp(peerId);
    refresh();
  });
  node.on('peer-disconnected', ({ peerId }) => {
    share.peerLeft(peerId);
    refresh();
  });
  node.on('message', share.receive);
  await node.initialize();
  session.compute = node.getComputeManager();
  await node.start();
}

session.ready = boot().then(
  () => {
    session.phase = 'running';
    byId('renderBtn').disabled = false;
    refresh();
  },
  (err) => {
    session.phase = 'failed';
    session.bootError = err.message;
    showError(`The node could not start: ${err.message}`);
    console.error(err);
    refresh();
    throw err;
  },
);
session.ready.catch(() => {}); // shown above; render() rethrows it to its caller

// Tells load-error.js that the module (and the library) loaded.
window.__computeDemoReady = true;

window.computeDemo = {
  render: controls.render,
  // The FNV-1a hash of the last completed render's raw escape counts, or null.
  lastImageHash: () => session.lastHash,
  // Resolves once this tab's node is running.
  ready: () => session.ready,
};

refresh();
setInterval(refresh, REFRESH_MS);
