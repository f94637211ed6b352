// Render and Cancel, the progress bar and the summary under it, for this
// tab's own render or for a peer's that it helps with (session.shown).
// render(options) is also the tests' entry point (window.computeDemo.render).
import { byId, setText } from '../shared/dom.js';
import { plural, seconds, shortId } from '../shared/format.js';
import { clearError, showError } from './error-banner.js';
import { hashCounts, tileGrid } from './mandelbrot-image.js';
import { TileRender } from './tile-render.js';

const ELAPSED_TICK_MS = 100;
const SUFFIXES = { cancelled: ' (cancelled)', failed: ' (failed)', abandoned: ' (its tab left)' };
const RENDER_OPTIONS = ['tiles', 'maxIter', 'redundancy'];
const MAX_ITER_LIMIT = 1_000_000;
const MAX_REDUNDANCY = 16;
const FORM_FIELDS = [['tilesSelect', 'tiles'], ['maxIterSelect', 'maxIter'], ['redundancySelect', 'redundancy']];

function readForm() {
  return Object.fromEntries(FORM_FIELDS.map(([id, option]) => [option, Number(byId(id).value)]));
}

// Shows the options a render uses in the form, where the form offers them.
function showInForm(opts) {
  for (const [id, option] of FORM_FIELDS) {
    const select = byId(id);
    if ([...select.options].some((o) => Number(o.value) === opts[option])) select.value = String(opts[option]);
  }
}

// The form's choices overridden by options; throws a TypeError naming a bad one.
function renderOptions(options, canvas) {
  const where = 'computeDemo.render(options)';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${where}: options must be an object such as {tiles: 64, maxIter: 2000}`);
  for (const key of Object.keys(options)) {
    if (!RENDER_OPTIONS.includes(key)) throw new TypeError(`${where}: unknown option '${key}'; the options are ${RENDER_OPTIONS.join(', ')}`);
  }
  const opts = { ...readForm(), ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const side = Math.round(Math.sqrt(opts.tiles));
  if (!Number.isInteger(opts.tiles) || side * side !== opts.tiles || canvas.width % side || canvas.height % side) {
    throw new TypeError(`${where}: tiles must be a square number whose side divides ${canvas.width} and ${canvas.height}, such as 16, 64 or 256`);
  }
  if (!Number.isInteger(opts.maxIter) || opts.maxIter < 1 || opts.maxIter > MAX_ITER_LIMIT) {
    throw new TypeError(`${where}: maxIter must be an integer in 1..${MAX_ITER_LIMIT}`);
  }
  if (!Number.isInteger(opts.redundancy) || opts.redundancy < 1 || opts.redundancy > MAX_REDUNDANCY) {
    throw new TypeError(`${where}: redundancy must be an integer in 1..${MAX_REDUNDANCY}`);
  }
  return { ...opts, side };
}

// refresh(): redraw every panel; onTile(): a tile arrived (cheaper than
// refresh); view: the canvas (canvas-view.js); share: tells the peers
// (tile-share.js).
export function createRenderControls(session, canvas, { refresh, onTile, view, share }) {
  let elapsedTimer = null;

  function renderProgress() {
    const r = session.shown;
    const total = r?.total ?? Number(byId('tilesSelect').value);
    const done = r?.done ?? 0;
    const bar = byId('progress');
    if (bar.max !== total) bar.max = total;
    if (bar.value !== done) bar.value = done;
    setText(byId('progressText'), `${done} / ${total} tiles${SUFFIXES[r?.state] ?? ''}`);
    setText(byId('elapsed'), r ? seconds(r.elapsedMs) : '—');
    if (r?.isRemote) describeRemote(r);
  }

  // The summary of a peer's render: whose, and what this tab did for it.
  function describeRemote(r) {
    const whose = `${shortId(r.owner)}'s render`;
    const mine = `this tab computed ${plural(r.selfTiles(session.node.nodeId), 'tile')}`;
    let text;
    if (r.state === 'running') text = `Helping with ${whose}: ${mine} so far.`;
    else if (r.state === 'done') text = `${whose}: ${r.total} tiles in ${seconds(r.elapsedMs)} by ${plural(Object.keys(r.byPeer).length, 'tab')}; ${mine}.`;
    else text = `${whose} ${r.state === 'abandoned' ? 'stopped: its tab left' : `was ${r.state}`} after ${r.done} of ${r.total} tiles; ${mine}.`;
    setText(byId('summary'), text);
  }

  // The elapsed time ticks while the render shown runs.
  function tick() {
    if (elapsedTimer !== null) return;
    elapsedTimer = setInterval(() => {
      renderProgress();
      if (session.shown?.state === 'running') return;
      clearInterval(elapsedTimer);
      elapsedTimer = null;
    }, ELAPSED_TICK_MS);
  }

  function setRunning(running) {
    byId('renderBtn').disabled = running || session.phase !== 'running';
    byId('cancelBtn').disabled = !running;
    document.body.classList.toggle('rendering', running);
    if (running) tick();
    renderProgress();
  }

  // A peer's render began, ended or gained a tile.
  function remoteChanged() {
    view.sync();
    renderProgress();
    if (session.shown?.state === 'running') tick();
  }

  // Resolves to {outputs, stats, ms, tileOwners}; rejects (and shows why) if
  // the render cannot start or fails, or with an AbortError when cancelled.
  async function render(options = {}) {
    try {
      await session.ready;
    } catch {
      throw new Error(`the node is not running: ${session.bootError}`);
    }
    let r;
    try {
      if (session.current?.state === 'running') throw new Error('a render is already running; cancel it first');
      const opts = renderOptions(options, canvas);
      showInForm(opts);
      clearError();
      // Until the job exists, the previous render's image and table stay.
      r = new TileRender(session.compute, canvas, tileGrid(canvas, opts.side), opts);
    } catch (err) {
      showError(`Render failed to start: ${err.message}`);
      throw err;
    }

    session.current = r; // lastHash stays the last completed render's until this one completes
    view.sync();
    share.started(r);
    r.onTile(session.node.nodeId, (index) => {
      view.tile(r, index);
      share.tile(r, index);
      renderProgress();
      onTile();
    });
    setRunning(true);
    refresh();

    const summary = byId('summary');
    try {
      const outputs = await r.outcome();
      session.lastHash = hashCounts(outputs);
      const tabs = Object.keys(r.byPeer).length;
      setText(summary, `${r.total} tiles in ${seconds(r.elapsedMs)} by ${plural(tabs, 'tab')} · ${r.stats.retries} retries · ${r.stats.rejectedResults} rejected results · hash ${session.lastHash}`);
      return { outputs, stats: r.stats, ms: r.elapsedMs, tileOwners: r.owners.slice() };
    } catch (failure) {
      if (r.state === 'cancelled') {
        setText(summary, `Cancelled after ${r.done} of ${r.total} tiles.`);
      } else {
        setText(summary, `Failed after ${r.done} of ${r.total} tiles.`);
        showError(`Render failed: ${failure.message}`);
      }
      throw failure;
    } finally {
      share.ended(r);
      view.sync(); // a peer's render may still run
      setRunning(false);
      refresh();
    }
  }

  byId('renderForm').addEventListener('submit', (e) => {
    e.preventDefault();
    render(readForm()).catch(() => {}); // render() shows its own errors in #error
  });
  byId('cancelBtn').addEventListener('click', () => session.current?.cancel());

  return { render, renderProgress, remoteChanged };
}
