// Initialize / Start / Stop and the #status they lead to.
//
// The original suite clicks `button:has-text("Initialize" | "Start" | "Stop")`,
// a case-insensitive substring match, so no other button may contain those
// words; and it waits for "Node initialized" / "Node stopped", so those
// phrases appear only once the action succeeded.
//
// Clicks are queued, not blocked: a Start clicked while Initialize runs (or
// while the node is still being created) runs right after it, and "Start
// before Initialize" still reaches the library and shows its error.
import { byId, setText } from '../shared/dom.js';
import { log } from './event-log.js';

export function createLifecycle(session, refresh) {
  let queue = Promise.resolve();
  let busyLabel = null; // e.g. 'Starting…' while a call is in flight
  let lastError = null; // shown in #status until the next call succeeds
  let hasStopped = false;

  const enqueue = (fn) => {
    queue = queue.then(fn, fn);
    return queue;
  };

  async function run({ action, busy }, call, onSuccess) {
    const { node } = session;
    if (!node) {
      lastError = 'NodeKernel was not created (see log)';
      log(`${action} failed: ${lastError}`, 'error');
      refresh();
      return;
    }
    busyLabel = busy;
    refresh();
    try {
      await call(node);
      lastError = null;
      onSuccess(node);
    } catch (err) {
      lastError = err.message;
      log(`${action} failed: ${lastError}`, 'error');
      console.error(err);
    } finally {
      busyLabel = null;
      refresh();
    }
  }

  byId('initBtn').addEventListener('click', () => enqueue(() => run(
    { action: 'Initialize', busy: 'Initializing…' },
    (node) => node.initialize(),
    () => log('Node initialized successfully!', 'success'),
  )));

  byId('startBtn').addEventListener('click', () => enqueue(() => run(
    { action: 'Start', busy: 'Starting…' },
    (node) => node.start(),
    (node) => {
      hasStopped = false;
      log(`Node started in room "${session.room.roomId}" as ${node.getStatus().network.peerId}; waiting for peers…`, 'success');
    },
  )));

  byId('stopBtn').addEventListener('click', () => enqueue(() => run(
    { action: 'Stop', busy: 'Stopping…' },
    (node) => node.stop(),
    () => {
      hasStopped = true;
      log('Node stopped', 'info');
    },
  )));

  // The node may also be started or stopped without the buttons (by tests, or pagehide).
  function watch(node) {
    node.on('started', () => {
      hasStopped = false;
      log('Event: started');
      refresh();
    });
    node.on('stopped', () => {
      hasStopped = true;
      log('Event: stopped');
      refresh();
    });
  }

  function render() {
    const { node } = session;
    let [phase, cls] = ['Not initialized', 'status-idle'];
    if (busyLabel) [phase, cls] = [busyLabel, 'status-busy'];
    else if (node?.isStarted) [phase, cls] = ['Running', 'status-running'];
    else if (hasStopped) [phase, cls] = ['Stopped', 'status-stopped'];
    else if (node?.isInitialized) [phase, cls] = ['Initialized', 'status-ready'];

    if (!node && !session.booting) {
      [phase, cls] = ['Error: node could not be created', 'status-error'];
    } else if (lastError && !busyLabel) {
      [phase, cls] = [`${phase} — Error: ${lastError}`, 'status-error'];
    }
    const el = byId('status');
    setText(el, phase);
    el.className = `status ${cls}`;
    document.body.classList.toggle('busy', busyLabel !== null);
  }

  return { enqueue, watch, render };
}
