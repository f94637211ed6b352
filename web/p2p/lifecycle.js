// Initialize / Start / Stop and the #status they lead to.
//
// The original suite clicks `button:has-text("Initialize" | "Start" | "Stop")`,
// a case-insensitive substring match, so no other button may contain those
// words; and it waits for "Node initialized" / "Node stopped", so those
// phrases appear only once the action succeeded.
//
// The buttons follow the node: each is enabled only while its action makes
// sense (Initialize until the node is initialized, Start while initialized
// and not running, Stop while running), and all are disabled while the node
// is being created or a call is in flight. They are re-rendered on every
// lifecycle event, success or failure, so a failed Start can be retried.
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
    node.on('initialized', refresh);
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

  // [phase, status class, hint] of the node as it is now.
  function describe() {
    const { node } = session;
    const where = `room "${session.room.roomId}"`;
    if (!node) {
      return session.booting
        ? ['Not initialized', 'status-idle', 'Creating the node…']
        : ['Error: node could not be created', 'status-error', 'The node could not be created: see the event log.'];
    }
    if (busyLabel) return [busyLabel, 'status-busy', 'Please wait…'];
    if (node.isStarted) return ['Running', 'status-running', `In ${where}. Stop leaves it; the state stays.`];
    if (hasStopped) return ['Stopped', 'status-stopped', `Disconnected. Start joins ${where} again.`];
    if (node.isInitialized) return ['Initialized', 'status-ready', `Start connects to the peers in ${where}.`];
    return ['Not initialized', 'status-idle', 'Initialize loads the kernel and the stored state.'];
  }

  function renderButtons() {
    const { node } = session;
    const idle = node !== null && busyLabel === null;
    byId('initBtn').disabled = !(idle && !node.isInitialized);
    byId('startBtn').disabled = !(idle && node.isInitialized && !node.isStarted);
    byId('stopBtn').disabled = !(idle && node.isStarted);
  }

  function render() {
    let [phase, cls, hint] = describe();
    if (lastError && !busyLabel && session.node) [phase, cls] = [`${phase} — Error: ${lastError}`, 'status-error'];
    const el = byId('status');
    setText(el, phase);
    el.className = `status ${cls}`;
    setText(byId('lifecycleHint'), hint);
    renderButtons();
    document.body.classList.toggle('busy', busyLabel !== null);
  }

  return { enqueue, watch, render };
}
