// PeerCompute P2P test bench (test-p2p.html): wires the page's panels to one node.
//
// Tests drive the page through fixed ids and texts: #status,
// #initBtn/#startBtn/#stopBtn, #nodeInfo, #stateKey/#stateValue/#writeBtn,
// #readKey/#readBtn/#readResult, #snapshotBtn/#stateSnapshot, #log,
// #stateCard, #peerTableWrap, #peerGraph (data-nodes, data-links),
// window.node and window.NodeKernel. The node is created once
// /peer-config.json has answered (or timed out), so window.node appears a
// moment after load; the lifecycle buttons are disabled until then.
import { NodeKernel, VERSION } from '/dist/peercompute.js';
import { byId } from '../shared/dom.js';
import { createPeerGraph } from '../shared/peer-graph.js';
import { createSignaledNode } from '../shared/signaling-config.js';
import { log } from './event-log.js';
import { createLifecycle } from './lifecycle.js';
import { createMessages } from './messages.js';
import { renderNodeInfo, renderNodeSummary } from './node-info.js';
import { createPeerTable } from './peer-table.js';
import { createPositions } from './positions.js';
import { bindRoomForm, readRoom, roomDescription, showRoom } from './room.js';
import { Session } from './session.js';
import { createSignalingView } from './signaling-view.js';
import { createStateForms } from './state-forms.js';
import { createStateTable } from './state-table.js';

const REFRESH_MS = 500;

const room = readRoom();
const session = new Session(room);
window.NodeKernel = NodeKernel;
showRoom(room, VERSION);
bindRoomForm(room);

const lifecycle = createLifecycle(session, refresh);
const signaling = createSignalingView(session);
const positions = createPositions(session);
const messages = createMessages(session, positions);
const peers = createPeerTable(session, { positionRate: positions.rateOf, onPick: messages.selectTarget });
const stateForms = createStateForms(session, refresh);
const stateTable = createStateTable(session, { onPick: stateForms.load, onDelete: stateForms.deleteKey });
const graph = createPeerGraph(byId('peerGraph'), { legend: byId('graphLegend'), summary: byId('graphSummary') });

function refresh() {
  const status = session.node?.getStatus() ?? null;
  const peerList = session.networkManager?.getPeers() ?? [];
  lifecycle.render();
  signaling.renderChip(status);
  renderNodeSummary(status);
  if (status) {
    signaling.logChanges(status);
    renderNodeInfo(session, status, signaling.rows(status));
  }
  messages.setTargets(peers.render(peerList));
  graph.render(session.node?.nodeId ?? null, peerList);
  positions.render();
}

async function boot() {
  try {
    Object.assign(session, await createSignaledNode({ roomId: room.roomId, gameId: room.gameId, password: room.password }));
  } catch (err) {
    log(`Could not create NodeKernel: ${err.message}`, 'error');
  } finally {
    session.booting = false;
  }
  window.node = session.node;
  if (session.node) {
    // positions before peers: a peer's stream is gone before the table redraws.
    for (const panel of [lifecycle, positions, messages, stateTable, peers]) panel.watch(session.node, refresh);
    signaling.logChoice();
  }
  refresh();
}

// Tells load-error.js that the module (and the library) loaded.
window.__peerDemoReady = true;

log(`PeerCompute ${VERSION} loaded; ${roomDescription(room)}. Click "Initialize Node", then "Start Node".`);
refresh();
setInterval(refresh, REFRESH_MS);
lifecycle.enqueue(boot);
