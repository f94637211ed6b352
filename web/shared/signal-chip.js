// The header chip that says how a tab finds its peers.
import { setText } from './dom.js';
import { PEER_CONFIG_URL } from './signaling-config.js';

// link: null while /peer-config.json has not answered; else {url, state} of
// the PeerJS server (url null when there is none, and why in note).
export function renderSignalChip(chip, link) {
  let text;
  let cls = '';
  let title;
  if (link === null) {
    [text, title] = ['Signaling: …', `Waiting for ${PEER_CONFIG_URL}`];
  } else if (link.url === null) {
    [text, cls, title] = ['BroadcastChannel only', 'chip-warn', `No signaling server (${link.note}): only tabs of this browser can meet`];
  } else {
    text = `PeerJS server: ${link.state}`;
    cls = link.state === 'registered' ? 'chip-ok' : link.state === 'reconnecting' ? 'chip-err' : '';
    title = `${link.url}: tabs in other browsers and devices meet through it`;
  }
  setText(chip, text);
  chip.className = `chip chip-signal ${cls}`;
  chip.title = title;
}
