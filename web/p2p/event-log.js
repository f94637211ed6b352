// The event log (#log), mirrored to the console. Lines are text, never
// markup: they quote peer data.
import { byId, element } from '../shared/dom.js';
import { clockTime } from '../shared/format.js';

const MAX_LOG_ENTRIES = 500;
const TAGS = { info: 'info', success: 'ok', warn: 'warn', error: 'error', message: 'msg', state: 'state' };
const CONSOLE = { error: console.error, warn: console.warn };

const logEl = byId('log');

export function log(text, kind = 'info') {
  const nearBottom = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 40;
  const entry = element('div', `log-entry log-${kind}`);
  entry.append(element('time', '', clockTime()), element('span', 'tag', TAGS[kind]), element('span', 'msg', text));
  logEl.append(entry);
  while (logEl.childElementCount > MAX_LOG_ENTRIES) logEl.firstElementChild.remove();
  if (nearBottom) logEl.scrollTop = logEl.scrollHeight;
  (CONSOLE[kind] ?? console.log)(`[peercompute-demo] ${text}`);
}

byId('clearLogBtn').addEventListener('click', () => logEl.replaceChildren());
