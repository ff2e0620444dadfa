// The page's elements and shared state, and the small helpers every part of the page uses.
// User data reaches the DOM only through textContent, never through innerHTML.

export const USER_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_ERRORS = 6; // error lines kept in the status area

const $ = (id) => document.getElementById(id);
export const el = {
  login: $('login'), user: $('user'), token: $('token'),
  status: $('status'), me: $('me'), node: $('node'), banner: $('conn-banner'),
  peerForm: $('peer-form'), peer: $('peer'), conversations: $('conversations'),
  chatPeer: $('chat-peer'), peerPresence: $('peer-presence'), peerTyping: $('peer-typing'),
  messages: $('messages'), older: $('older-status'),
  composer: $('composer'), text: $('text'), send: $('send'), errors: $('errors'),
};

export const state = {
  client: null,             // the ChatClient of the signed-in identity
  creds: null,              // what `hello` sends: {user} or {token}
  online: false, me: null, peer: null,
  outbox: new Set(),        // records of own messages not yet acked (any peer)
  view: { records: new Set(), byId: new Map() }, // open conversation only
  olderMore: false, loadingOlder: false,
  convs: new Map(),         // peer -> last message
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
