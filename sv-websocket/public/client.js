// The bundled chat page for protocol v1 (see docs/protocol.md), built on the client library the
// node serves next to it: the library connects, reconnects with backoff, resends unacked
// messages with their cid and catches up after a reconnect; this page draws and marks read.
import { ChatClient } from '/client/chat-client.js';
import { ROOM_RE, USER_RE, el, keyOf, load, nearBottom, roomOfKey, save, scrollToBottom, setStatus, showError, state } from './client-dom.js';
import { addRecord, clearView, highestSeq, lowestSeq, refreshTicks, upsert } from './client-messages.js';
import { knowTitle, loadRoom, onRoom, renderRoomPanel, setRoomHooks } from './client-rooms.js';
import { onInput, sendMessage, setOnSent } from './client-send.js';
import { renderHead, renderSidebar, updateConv, watchPeers } from './client-sidebar.js';

const PAGE = 50;              // history page size
const TYPING_SHOWN_MS = 5000; // how long "typing…" shows after the last `typing` (protocol advice)

// ---------- signing in ----------

function startLogin() {
  const token = el.token.value.trim();
  const user = el.user.value.trim();
  if (!token && !USER_RE.test(user)) { showError('invalid user id (allowed: A-Z a-z 0-9 _ . -, 1–64 chars)'); return; }
  const creds = token ? { token } : { user };
  if (!token) save('chat.user', user);
  // The same identity again: reconnect now, keeping unsent messages so they are re-sent.
  if (state.client && JSON.stringify(creds) === JSON.stringify(state.creds)) { state.client.reconnect(); return; }
  if (state.client) state.client.close(); // switching identity drops everything tied to the old one
  resetSession();
  state.creds = creds;
  const client = new ChatClient({ urls: [location.origin], ...creds, backoffBaseMs: 500, backoffCapMs: 30000 });
  state.client = client;
  const mine = (fn) => (detail) => { if (client === state.client) fn(detail); }; // ignore a replaced client
  client.on('state', mine(onState));
  client.on('message', mine(onMessage));
  client.on('presence', mine((p) => { state.presence.set(p.user, p); renderSidebar(); }));
  client.on('typing', mine(onTyping));
  client.on('read', mine(onRead));
  client.on('room', mine(onRoom));
  client.on('error', mine((e) => showError(e.code + (e.message ? ': ' + e.message : '') + (e.cid ? ' (cid ' + e.cid + ')' : ''))));
  client.connect().catch(() => { /* the state and error events say why */ });
  if (state.peer) selectPeer(state.peer);
  watchPeers();
}

function resetSession() {
  for (const m of [state.convs, state.rooms, state.unread, state.myRead, state.peerRead, state.presence, state.typingUntil]) m.clear();
  state.outbox.clear();
  state.me = null; state.online = false;
  el.me.textContent = '–'; el.node.textContent = '–';
  clearView();
  renderSidebar();
  updateControls();
}

function updateControls() { el.send.disabled = !(state.peer && state.me); }

// ---------- what the client reports ----------

let countdown = null;
function onState(s) {
  clearInterval(countdown);
  state.online = s.state === 'open';
  if (!state.online && state.presence.size) { state.presence.clear(); renderSidebar(); }
  if (s.state === 'open') {
    state.me = state.client.user;
    el.me.textContent = String(state.me);
    el.node.textContent = String(s.node);
    setStatus('online', 'online');
    refreshConversations();
    markRead();
  } else if (s.state === 'connecting') {
    setStatus('connecting', 'connecting…');
  } else if (s.state === 'reconnecting') {
    const due = Date.now() + s.delayMs;
    const show = () => {
      const left = due - Date.now();
      setStatus('reconnecting', left > 0 ? 'reconnecting in ' + Math.ceil(left / 1000) + 's' : 'reconnecting…');
    };
    show();
    countdown = setInterval(show, 250);
  } else if (s.code === 4401) {
    setStatus('error', 'unauthorized (4401)'); // bad credentials do not get better by retrying
    showError('closed 4401: ' + (s.reason || 'unauthorized, check user / token'));
  } else {
    setStatus('offline', 'offline');
  }
  updateControls();
}

function refreshConversations() {
  const client = state.client;
  client.conversations().then((items) => {
    if (client !== state.client) return;
    for (const it of items) {
      const key = it.room !== undefined ? '#' + it.room : it.with;
      if (it.room !== undefined) knowTitle(it.room, it.title);
      updateConv(key, it.last);
      state.unread.set(key, it.unread);
      if (it.room === undefined) raise(state.peerRead, it.with, it.peer_read_seq);
    }
    if (state.peer && visible()) state.unread.set(state.peer, 0); // markRead below tells the node
    refreshTicks();
    renderSidebar();
    watchPeers();
    markRead();
  }, () => { /* asked again at the next welcome */ });
}

// A message received live or while catching up (each once; own sends come back as acks).
function onMessage(m) {
  const other = keyOf(m);
  updateConv(other, m);
  if (m.from !== state.me) {
    state.typingUntil.delete(m.from);
    if (other !== state.peer || !visible()) state.unread.set(other, (state.unread.get(other) || 0) + 1);
  }
  if (other === state.peer) {
    const stick = nearBottom();
    upsert(m);
    if (stick) scrollToBottom();
    markRead();
  }
  renderSidebar();
  watchPeers();
}

function onTyping(t) {
  state.typingUntil.set(t.from, Date.now() + TYPING_SHOWN_MS);
  renderSidebar();
  setTimeout(renderSidebar, TYPING_SHOWN_MS + 50);
}

function onRead(r) {
  if (r.room !== undefined) {
    // A room's mark is the user's own: another tab or device of the user read.
    raise(state.myRead, '#' + r.room, r.seq);
    return refreshConversations();
  }
  if (r.with === undefined) return;
  if (r.by === state.me) {
    // Another tab or device of the user read: its badge goes, and the counts come from the node.
    raise(state.myRead, r.with, r.seq);
    refreshConversations();
  } else if (r.with === state.me) {
    raise(state.peerRead, r.by, r.seq);
    if (r.by === state.peer) refreshTicks();
  }
}

function raise(map, key, seq) { if (seq > (map.get(key) || 0)) map.set(key, seq); }

// ---------- reading ----------

function visible() { return document.visibilityState === 'visible'; }

// The open conversation counts as read while the page is visible: tell the node the newest seq
// shown, once per new seq (the node tells the peer and the user's other tabs).
function markRead() {
  const peer = state.peer;
  if (!peer || !state.client || !state.online || !visible()) return;
  const seq = highestSeq();
  if (state.unread.get(peer)) { state.unread.set(peer, 0); renderSidebar(); }
  if (seq <= (state.myRead.get(peer) || 0)) return;
  const room = roomOfKey(peer);
  const told = room !== undefined ? state.client.markRoomRead(room, seq) : state.client.markRead(peer, seq);
  if (told !== false) state.myRead.set(peer, seq);
}

// ---------- history pages ----------

// `latest`: the newest page; `older`: the page before the lowest seq shown. A query cut off by
// a lost connection is asked again; it waits for the next one.
function loadPage(peer, kind) {
  const client = state.client;
  const page = kind === 'older' ? { before: lowestSeq(), limit: PAGE } : { limit: PAGE };
  if (kind === 'older') { state.loadingOlder = true; el.older.hidden = false; }
  const room = roomOfKey(peer);
  (room !== undefined ? client.roomHistory(room, page) : client.history(peer, page)).then((reply) => {
    if (client === state.client && peer === state.peer) onPage(reply, kind);
  }, (err) => {
    if (client !== state.client) return;
    if (err.code === 'disconnected') return loadPage(peer, kind);
    state.loadingOlder = false; el.older.hidden = true;
    if (err.code !== 'closed') showError('history: ' + err.message);
  });
}

function onPage(reply, kind) {
  const box = el.messages;
  const fromBottom = box.scrollHeight - box.scrollTop; // keeps the view still when prepending
  reply.messages.forEach(upsert);
  if (kind === 'older') box.scrollTop = box.scrollHeight - fromBottom;
  else scrollToBottom();
  state.olderMore = reply.more;
  state.loadingOlder = false;
  el.older.hidden = true;
  markRead();
  maybeLoadOlder(); // a first page too short to scroll asks for the next
}

function maybeLoadOlder() {
  if (!state.peer || !state.olderMore || state.loadingOlder || el.messages.scrollTop > 60) return;
  if (lowestSeq() != null) loadPage(state.peer, 'older');
}

// ---------- the open conversation ----------

// `p`: a peer's id, or '#' and a room's id.
function selectPeer(p) {
  p = String(p || '').trim();
  const room = roomOfKey(p);
  if (room !== undefined ? !ROOM_RE.test(room) : !USER_RE.test(p)) { showError('invalid peer id'); return; }
  state.peer = p;
  if (room === undefined) { save('chat.peer', p); el.peer.value = p; }
  state.olderMore = false;
  clearView();
  for (const r of state.outbox) if (keyOf(r) === p) addRecord(r); // our unsent ones
  renderSidebar();
  renderRoomPanel();
  if (state.client) { loadPage(p, 'latest'); watchPeers(); }
  if (state.client && room !== undefined) loadRoom(room);
  updateControls();
}

// The open room is no longer the user's: nothing is open.
function closeConversation() {
  state.peer = null;
  clearView();
  renderSidebar();
  renderRoomPanel();
  updateControls();
}

// ---------- wiring ----------

setOnSent((r) => { updateConv(keyOf(r), r); renderSidebar(); watchPeers(); });
setRoomHooks({ open: selectPeer, closed: closeConversation });

el.login.addEventListener('submit', (e) => { e.preventDefault(); startLogin(); });
el.peerForm.addEventListener('submit', (e) => { e.preventDefault(); selectPeer(el.peer.value); });
el.composer.addEventListener('submit', (e) => { e.preventDefault(); sendMessage(); });
el.text.addEventListener('input', onInput);
el.text.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendMessage(); }
});
el.messages.addEventListener('scroll', maybeLoadOlder);
document.addEventListener('visibilitychange', markRead);
// One delegated listener: the list is rebuilt on every update.
const pickConv = (target) => { const li = target.closest('li[data-peer]'); if (li) selectPeer(li.dataset.peer); };
el.conversations.addEventListener('click', (e) => pickConv(e.target));
el.conversations.addEventListener('keydown', (e) => { if (e.key === 'Enter') pickConv(e.target); });
// "last seen" and "typing…" age without events.
setInterval(renderHead, 30_000);

// Prefill from ?user=&peer= (auto-connects, handy for tests) or localStorage.
function init() {
  const params = new URLSearchParams(location.search);
  el.user.value = params.get('user') || load('chat.user') || '';
  const peer = params.get('peer') || load('chat.peer') || '';
  if (peer && USER_RE.test(peer)) selectPeer(peer);
  setStatus('offline', 'offline');
  updateControls();
  if (params.get('user')) startLogin();
}

init();
