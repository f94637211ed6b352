// Render and Cancel, the progress bar and summary, and the tint toggle.
// render(options) is also the tests' entry point (window.computeDemo.render).
import { byId, setText } from '../shared/dom.js';
import { plural, seconds } from '../shared/format.js';
import { clearError, showError } from './error-banner.js';
import { drawPending, drawTile, hashCounts, tileGrid } from './mandelbrot-image.js';
import { TileRender } from './tile-render.js';

const ELAPSED_TICK_MS = 100;
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

// refresh(): redraw every panel; onTile(): a tile arrived (cheaper than refresh).
export function createRenderControls(session, canvas, { refresh, onTile }) {
  const ctx = canvas.getContext('2d');
  const tinted = () => byId('tintToggle').checked;
  let elapsedTimer = null;

  function renderProgress() {
    const r = session.current;
    const total = r?.total ?? Number(byId('tilesSelect').value);
    const done = r?.done ?? 0;
    const bar = byId('progress');
    if (bar.max !== total) bar.max = total;
    if (bar.value !== done) bar.value = done;
    const suffix = r?.state === 'cancelled' ? ' (cancelled)' : r?.state === 'failed' ? ' (failed)' : '';
    setText(byId('progressText'), `${done} / ${total} tiles${suffix}`);
    setText(byId('elapsed'), r ? seconds(r.elapsedMs) : '—');
  }

  function setRunning(running) {
    byId('renderBtn').disabled = running || session.phase !== 'running';
    byId('cancelBtn').disabled = !running;
    document.body.classList.toggle('rendering', running);
    clearInterval(elapsedTimer);
    elapsedTimer = running ? setInterval(renderProgress, ELAPSED_TICK_MS) : null;
    renderProgress();
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

    session.current = r;
    drawPending(ctx, r.grid); // lastHash stays the last completed render's until this one completes
    r.onTile(session.node.nodeId, (index) => {
      drawTile(ctx, r, index, tinted());
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
      setRunning(false);
      refresh();
    }
  }

  byId('renderForm').addEventListener('submit', (e) => {
    e.preventDefault();
    render(readForm()).catch(() => {}); // render() shows its own errors in #error
  });
  byId('cancelBtn').addEventListener('click', () => session.current?.cancel());

  // Tinting is a view: the tiles are redrawn from the counts they arrived with.
  byId('tintToggle').addEventListener('change', () => {
    const r = session.current;
    if (!r) return;
    drawPending(ctx, r.grid);
    for (let i = 0; i < r.total; i++) drawTile(ctx, r, i, tinted());
  });

  drawPending(ctx, tileGrid(canvas, 8));

  return { render, renderProgress };
}
