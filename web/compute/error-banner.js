// The #error banner: why the node or a render failed, until dismissed or
// the next render starts.
import { byId } from '../shared/dom.js';

export function showError(text) {
  byId('errorText').textContent = text; // text, not markup: errors may quote peer data
  byId('error').hidden = false;
  console.error(`[compute-demo] ${text}`);
}

export function clearError() {
  byId('error').hidden = true;
  byId('errorText').textContent = '';
}

byId('errorClose').addEventListener('click', clearError);
