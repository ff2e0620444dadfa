// The page's elements and shared state, and the small helpers every part of the page uses.
// User data reaches the DOM only through textContent, never through innerHTML.

export const USER_RE = /^[A-Za-z0-9_.-]{1,64}$/;
export const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_ERRORS = 6; // error lines kept in the status area

const $ = (id) => document.getElementById(id);
export const el = {
  login: $('login'), user: $('user'), token: $('token'),
  status: $('status'), me: $('me'), node: $('node'), banner: $('conn-banner'),
  peerForm: $('peer-form'), peer: $('peer'), conversations: $('conversations'),
  roomForm: $('room-form'), roomTitle: $('room-title'), roomInvite: $('room-members'), roomPublic: $('room-public'),
  chatPeer: $('chat-peer'), peerPresence: $('peer-presence'), peerTyping: $('peer-typing'),
  roomPanel: $('room-panel'), roomMembers: $('room-member-list'), roomOwnerTools: $('room-owner-tools'),
  roomUsers: $('room-users'), roomAdd: $('room-add'), roomRemove: $('room-remove'), roomLeave: $('room-leave'),
  messages: $('messages'), older: $('older-status'),
  composer: $('composer'), text: $('text'), send: $('send'), errors: $('errors'),
};

export const state = {
  client: null,             // the ChatClient of the signed-in identity
  creds: null,              // what `hello` sends: {user} or {token}
  online: false, me: null,
  peer: null,               // the open conversation: a user id, or '#' and a room id (as every map below)
  outbox: new Set(),        // records of own messages not yet acked (any conversation)
  view: { records: new Set(), byId: new Map() }, // open conversation only
  olderMore: false, loadingOlder: false,
  convs: new Map(),         // conversation -> last message
  rooms: new Map(),         // room id -> { room, title, owner, public, members } (owner and members once known)
  unread: new Map(),        // peer -> messages from the peer above the user's read mark
  myRead: new Map(),        // peer -> the user's read mark (the highest seq told)
  peerRead: new Map(),      // peer -> the peer's read mark of the user's messages
  presence: new Map(),      // user -> { online, last_seen }
  typingUntil: new Map(),   // user -> epoch ms until which "typing…" shows
};

export function load(key) { try { return localStorage.getItem(key); } catch (_) { return null; } }
export function save(key, v) { try { localStorage.setItem(key, v); } catch (_) { /* storage disabled */ } }

export function node(tag, className, text) {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text != null) n.textContent = text;
  return n;
}

export function setStatus(kind, text) {
  el.status.dataset.state = kind;
  el.status.textContent = text;
  // The banner says what happens to what the user sends while there is no connection.
  el.banner.hidden = kind === 'online' || kind === 'offline';
  el.banner.dataset.state = kind;
  el.banner.textContent = kind === 'error' ? text
    : text + ' — messages you send wait here and go as soon as the connection is back';
}

export function showError(text) {
  const li = node('li', '', new Date().toLocaleTimeString() + '  ' + text);
  el.errors.prepend(li);
  while (el.errors.children.length > MAX_ERRORS) el.errors.lastChild.remove();
}

/** The room of a conversation key, or undefined for a user. */
export function roomOfKey(key) { return key && key.startsWith('#') ? key.slice(1) : undefined; }

/** The conversation of a message or an own record: its room, or the other user. */
export function keyOf(m) { return m.room !== undefined ? '#' + m.room : m.from === state.me ? m.to : m.from; }

/** What the page calls a conversation: the peer's id, or the room's title. */
export function nameOf(key) {
  const room = roomOfKey(key);
  if (room === undefined) return key;
  const title = state.rooms.get(room)?.title;
  return '# ' + (title || room.slice(-8));
}

export function isTyping(user) { return (state.typingUntil.get(user) || 0) > Date.now(); }

export function presenceText(user) {
  const p = state.presence.get(user);
  if (!p) return '';
  if (p.online) return 'online';
  return p.last_seen ? 'last seen ' + new Date(p.last_seen).toLocaleString() : 'offline';
}

export function nearBottom() {
  const b = el.messages;
  return b.scrollHeight - b.scrollTop - b.clientHeight < 40;
}
export function scrollToBottom() { el.messages.scrollTop = el.messages.scrollHeight; }
