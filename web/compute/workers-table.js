// Who computes: the workers table (#peerTable), one row per tab, and the
// colour legend (#legend), both of the render shown: this tab's own, or a
// peer's it helps with.
import { byId, setHtml, setText } from '../shared/dom.js';
import { escapeHtml, orDash, plural, shortId } from '../shared/format.js';
import { peerCss } from './peer-colour.js';

// This tab's ms per unit, from timings: its workers were busy from the start
// of the render to its last unit, so each unit took workers × that ÷ units.
function selfMsPerUnit(r, units, workers) {
  if (!r?.selfUnitsAt || !units || !workers) return null;
  return ((r.selfUnitsAt - r.startedAt) * workers) / units;
}

// This tab first, then the others by id.
const selfFirst = (selfId) => (a, b) => (a === selfId ? -1 : b === selfId ? 1 : a.localeCompare(b));

const swatch = (id) => `<span class="swatch" style="background:${peerCss(id)}"></span>`;

export function renderWorkersTable(session) {
  const connected = session.connectedIds();
  setText(byId('peerSummary'), `${connected.length} connected · ${plural(1 + connected.length, 'worker tab')}`);
  if (!session.node || session.phase === 'starting') {
    setHtml(byId('peerTableBody'), '<tr class="empty"><td colspan="7">Starting…</td></tr>');
    return;
  }
  const selfId = session.node.nodeId;
  const caps = session.capabilities();
  const r = session.shown;
  const byPeer = r?.byPeer ?? {};
  const ids = [...new Set([selfId, ...connected, ...Object.keys(byPeer)])].sort(selfFirst(selfId));
  const totalUnits = Object.values(byPeer).reduce((n, v) => n + v, 0);
  const secs = r ? r.elapsedMs / 1000 : 0;

  const html = ids.map((id) => {
    const self = id === selfId;
    const units = byPeer[id] ?? 0;
    // A peer that has not advertised its workers yet, or has left, has no capabilities.
    const peerCaps = self ? null : caps?.peers[id];
    const workers = self ? caps?.workers : peerCaps?.workers;
    const ms = self ? selfMsPerUnit(r, units, workers) : peerCaps?.msPerUnit ?? null;
    const gone = !self && !connected.includes(id);
    return `<tr class="${self ? 'self' : ''}${gone ? ' gone' : ''}" data-peer="${escapeHtml(id)}" data-units="${units}">
      <td class="id" title="${escapeHtml(id)}">${swatch(id)}${escapeHtml(shortId(id))}${gone ? ' <span class="badge">left</span>' : ''}</td>
      <td>${self ? '<span class="badge badge-ok">this tab</span>' : '<span class="muted">—</span>'}</td>
      <td class="num">${orDash(workers)}</td>
      <td class="num units">${units}</td>
      <td class="num">${totalUnits ? `${((units / totalUnits) * 100).toFixed(1)} %` : '—'}</td>
      <td class="num" title="${self ? 'estimated from this render' : 'smoothed round trip, from the scheduler'}">${ms === null ? '—' : `${self ? '≈ ' : ''}${ms.toFixed(1)}`}</td>
      <td class="num">${units && secs > 0 ? (units / secs).toFixed(1) : '—'}</td>
    </tr>`;
  }).join('');
  setHtml(byId('peerTableBody'), html);
}

export function renderLegend(session) {
  const selfId = session.node?.nodeId;
  const r = session.shown;
  const byPeer = r?.byPeer ?? {};
  const ids = Object.keys(byPeer).sort(selfFirst(selfId));
  const html = ids.length
    ? ids.map((id) => `<li title="${escapeHtml(id)}">${swatch(id)}<span class="id">${escapeHtml(shortId(id))}</span>${id === selfId ? ' <span class="muted">(this tab)</span>' : ''} <span class="muted">· ${plural(byPeer[id], 'tile')}</span></li>`).join('')
    : `<li class="muted">${r ? 'Waiting for the first tile…' : 'No render yet.'}</li>`;
  setHtml(byId('legend'), html);
}
