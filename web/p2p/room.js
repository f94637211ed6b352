// The room this tab joins: ?room=, ?game= and the room password, the header
// that shows them, and the form that switches room.
//
// A password entered in the form is kept in this tab's sessionStorage, bound
// to the room and game it was entered for: it survives the reload a room
// switch does without ever being in the URL, the log or the title.
// ?password= (used by tests) wins.
import { byId } from '../shared/dom.js';

const PASSWORD_STORE_KEY = 'peercompute-demo:room-password';

export function readRoom() {
  const params = new URLSearchParams(location.search);
  const roomId = (params.get('room') || '').trim() || 'default';
  const gameId = (params.get('game') || '').trim() || null;
  const fromUrl = params.get('password');
  if (fromUrl) return { roomId, gameId, password: fromUrl, passwordSource: '?password= in the URL' };
  const saved = readSavedPassword();
  if (saved?.roomId === roomId && saved.gameId === gameId && saved.password) {
    return { roomId, gameId, password: saved.password, passwordSource: 'entered in this tab' };
  }
  return { roomId, gameId, password: null, passwordSource: null };
}

// Storage throws where it is disabled (a sandboxed frame, say).
function readSavedPassword() {
  try {
    return JSON.parse(sessionStorage.getItem(PASSWORD_STORE_KEY) ?? 'null');
  } catch {
    return null;
  }
}

function savePassword(roomId, gameId, password) {
  try {
    if (password) sessionStorage.setItem(PASSWORD_STORE_KEY, JSON.stringify({ roomId, gameId, password }));
    else sessionStorage.removeItem(PASSWORD_STORE_KEY);
  } catch {
    /* the password lasts until the reload */
  }
}

// The page's own URL for a room, keeping ?game= and never adding a password.
function roomUrl(room) {
  const url = new URL(location.pathname, location.href);
  url.searchParams.set('room', room.roomId);
  if (room.gameId !== null) url.searchParams.set('game', room.gameId);
  return url;
}

export function roomDescription(room) {
  return `room "${room.roomId}"${room.gameId === null ? '' : ` of game "${room.gameId}"`}${room.password === null ? '' : ', password-protected'}`;
}

export function showRoom(room, version) {
  byId('version').textContent = version;
  byId('roomName').textContent = room.roomId;
  byId('roomInput').value = room.roomId;
  byId('passwordInput').value = room.password ?? '';
  byId('gameName').textContent = room.gameId ?? '';
  byId('gameChip').hidden = room.gameId === null;
  byId('passwordChip').hidden = room.password === null;
  byId('newTabLink').href = roomUrl(room).href;
  document.title = `PeerCompute · ${room.gameId === null ? '' : `${room.gameId} / `}${room.roomId}`;
}

// A node is bound to one room and password for its lifetime, so switching reloads.
export function bindRoomForm(room) {
  byId('roomForm').addEventListener('submit', (e) => {
    e.preventDefault();
    const roomId = byId('roomInput').value.trim() || 'default';
    const password = byId('passwordInput').value || null;
    if (roomId === room.roomId && password === room.password) return;
    savePassword(roomId, room.gameId, password);
    const url = new URL(location.href);
    url.searchParams.set('room', roomId);
    url.searchParams.delete('password');
    location.assign(url.toString());
  });
}
