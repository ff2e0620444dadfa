// Bundled browser test client for chat protocol v1 (see docs/protocol.md), built on the client
// library the node serves next to it: the library connects, reconnects with backoff, resends
// unacked messages with their cid and catches up after a reconnect; this page draws.
// All user-supplied data (bodies, user ids) reaches the DOM only through textContent, never
// through innerHTML.
import { ChatClient } from '/client/chat-client.js';

const USER_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const PAGE = 50;              // history page size
const BACKOFF_BASE = 500;
const BACKOFF_CAP = 30000;
const MAX_BODY = 4000;
const MAX_ERRORS = 6;         // error lines kept in the status area

const $ = (id) => document.getElementById(id);
const el = {
  login: $('login'), user: $('user'), token: $('token'), connect: $('connect'),
  status: $('status'), me: $('me'), node: $('node'),
  peerForm: $('peer-form'), peer: $('peer'), open: $('open'),
  conversations: $('conversations'), chatPeer: $('chat-peer'),
  older: $('older'), messages: $('messages'),
  composer: $('composer'), text: $('text'), send: $('send'), errors: $('errors'),
};

const state = {
  client: null,               // the ChatClient of the signed-in identity
  creds: null,                // what `hello` sends: {user} or {token}
  online: false, me: null, peer: null,
  countdownTimer: null,
  outbox: new Set(),          // records of own messages not yet acked (any peer)
  view: { records: new Set(), byId: new Map() }, // open conversation only
  olderMore: false,
  convs: new Map(),           // peer -> last message
  unread: new Set(),
};
const recordOf = new WeakMap(); // <li> -> record, for sorted insertion
let localCounter = 0;           // orders not-yet-sequenced messages by creation

// ---------- small helpers ----------

function load(key) { try { return localStorage.getItem(key); } catch (_) { return null; } }
function save(key, v) { try { localStorage.setItem(key, v); } catch (_) { /* storage disabled */ } }

function setStatus(kind, text) {
  el.status.dataset.state = kind;
  el.status.textContent = text;
}

function showError(text) {
  const li = document.createElement('li');
  li.textContent = new Date().toLocaleTimeString() + '  ' + text;
  el.errors.prepend(li);
  while (el.errors.children.length > MAX_ERRORS) el.errors.lastChild.remove();
}

function updateControls() {
  el.send.disabled = !(state.peer && state.me);
  el.older.disabled = !(state.online && state.peer && state.olderMore);
}

// ---------- signing in ----------

// Login button: validate, remember, (re)connect with the new credentials.
function startLogin() {
  const token = el.token.value.trim();
  const user = el.user.value.trim();
  if (!token && !USER_RE.test(user)) { showError('invalid user id (allowed: A-Z a-z 0-9 _ . -, 1–64 chars)'); return; }
  const creds = token ? { token } : { user };
  if (!token) save('chat.user', user);
  // The same identity again: reconnect now, keeping unsent messages so they are re-sent.
  if (state.client && JSON.stringify(creds) === JSON.stringify(state.creds)) { state.client.reconnect(); return; }
  // Switching identity drops everything tied to the old one.
  if (state.client) state.client.close();
  resetSession();
  state.creds = creds;
  const client = new ChatClient({ urls: [location.origin], ...creds, backoffBaseMs: BACKOFF_BASE, backoffCapMs: BACKOFF_CAP });
  state.client = client;
  // Every handler ignores a client that was replaced.
  const mine = (fn) => (detail) => { if (client === state.client) fn(detail); };
  client.on('state', mine(onState));
  client.on('message', mine(onMessage));
  client.on('error', mine((e) => showError(e.code + (e.message ? ': ' + e.message : '') + (e.cid ? ' (cid ' + e.cid + ')' : ''))));
  client.connect().catch(() => { /* the state and error events say why */ });
  if (state.peer) loadPage(state.peer, 'latest');
}

function resetSession() {
  state.outbox.clear(); state.convs.clear(); state.unread.clear();
  state.me = null; state.online = false;
  el.me.textContent = '–'; el.node.textContent = '–';
  clearView();
  renderConversations();
  updateControls();
}

// ---------- what the client reports ----------

function onState(s) {
  clearInterval(state.countdownTimer);
  state.online = s.state === 'open';
  if (s.state === 'open') {
    state.me = state.client.user;
    el.me.textContent = String(state.me);
    el.node.textContent = String(s.node);
    setStatus('online', 'online');
    state.client.conversations().then(onConversations, () => { /* refreshed at the next welcome */ });
  } else if (s.state === 'connecting') {
    setStatus('connecting', 'connecting…');
  } else if (s.state === 'reconnecting') {
    const due = Date.now() + s.delayMs;
    const tick = () => {
      const left = due - Date.now();
      setStatus('reconnecting', left > 0 ? 'reconnecting in ' + Math.ceil(left / 1000) + 's' : 'reconnecting…');
    };
    tick();
    state.countdownTimer = setInterval(tick, 250);
  } else if (s.code === 4401) {
    // Bad credentials will not get better by retrying: the client stopped; say so.
    setStatus('error', 'unauthorized (4401)');
    showError('closed 4401: ' + (s.reason || 'unauthorized, check user / token'));
  } else {
    setStatus('offline', 'offline');
  }
  updateControls();
}

// A message received live or while catching up (each once; own sends come back as acks).
function onMessage(m) {
  const other = m.from === state.me ? m.to : m.from;
  updateConv(other, m, m.from !== state.me && other !== state.peer);
  if (other !== state.peer) return;
  const stick = nearBottom();
  upsert(m);
  if (stick) scrollToBottom();
}

function onConversations(items) {
  for (const it of items) {
    const prev = state.convs.get(it.with);
    // Something new arrived while we were away: flag it.
    if (prev && it.last.seq > prev.seq && it.last.from !== state.me && it.with !== state.peer) state.unread.add(it.with);
    state.convs.set(it.with, it.last);
  }
  renderConversations();
}

// ---------- history pages ----------

// `latest`: the newest page; `older`: the page before the lowest seq shown. A query cut off by
// a lost connection is asked again; it waits for the next one.
function loadPage(peer, kind) {
  const client = state.client;
  const page = kind === 'older' ? { before: lowestSeq(), limit: PAGE } : { limit: PAGE };
  client.history(peer, page).then((reply) => {
    if (client === state.client && peer === state.peer) onPage(reply, kind);
  }, (err) => {
    if (client !== state.client) return;
    if (err.code === 'disconnected') loadPage(peer, kind);
    else if (err.code !== 'closed') showError('history: ' + err.message);
  });
}

function onPage(reply, kind) {
  const box = el.messages;
  const fromBottom = box.scrollHeight - box.scrollTop; // to keep the view still when prepending
  reply.messages.forEach(upsert);
  if (kind === 'older') box.scrollTop = box.scrollHeight - fromBottom;
  else scrollToBottom();
  state.olderMore = reply.more;
  updateControls();
}

function lowestSeq() {
  let lo = null;
  for (const r of state.view.records) if (r.seq != null && (lo == null || r.seq < lo)) lo = r.seq;
  return lo;
}

// ---------- the open conversation ----------

function selectPeer(p) {
  p = String(p || '').trim();
  if (!USER_RE.test(p)) { showError('invalid peer id'); return; }
  state.peer = p;
  save('chat.peer', p);
  el.peer.value = p;
  el.chatPeer.textContent = p;
  state.unread.delete(p);
  state.olderMore = false;
  clearView();
  for (const r of state.outbox) if (r.to === p) addRecord(r); // our unsent ones
  renderConversations();
  if (state.client) loadPage(p, 'latest');
  updateControls();
}

function clearView() {
  state.view.records.clear(); state.view.byId.clear();
  el.messages.replaceChildren();
}

// Insert or merge a server-shaped message, once per id.
function upsert(m) {
  const v = state.view;
  let r = v.byId.get(m.id);
  if (!r) { r = { local: ++localCounter }; addRecord(r, true); }
  Object.assign(r, {
    id: m.id, seq: m.seq, cid: m.cid, from: m.from, to: m.to,
    body: String(m.body), ts: m.ts, state: m.from === state.me ? 'sent' : 'received',
  });
  v.byId.set(r.id, r);
  renderRecord(r);
}

function addRecord(r, deferRender) {
  if (r.local == null) r.local = ++localCounter;
  state.view.records.add(r);
  if (r.id) state.view.byId.set(r.id, r);
  if (!deferRender) renderRecord(r);
}

function removeRecord(r) {
  state.view.records.delete(r);
  if (r.id && state.view.byId.get(r.id) === r) state.view.byId.delete(r.id);
  if (r.el) r.el.remove();
}

const STATE_LABEL = { sending: 'sending…', sent: 'sent ✓', failed: 'failed', received: '' };

// (Re)draw one message line; everything from the wire goes in as text.
function renderRecord(r) {
  if (!r.el) {
    r.el = document.createElement('li');
    const body = document.createElement('div');
    body.className = 'body';
    const meta = document.createElement('div');
    meta.className = 'meta';
    r.el.append(body, meta);
    recordOf.set(r.el, r);
  }
  const li = r.el;
  li.className = 'msg ' + (r.from === state.me ? 'own' : 'theirs');
  li.dataset.cid = r.cid || '';
  li.dataset.state = r.state;
  if (r.id) li.dataset.id = r.id;
  if (r.seq != null) li.dataset.seq = String(r.seq);
  li.querySelector('.body').textContent = r.body;
  const meta = li.querySelector('.meta');
  const parts = [r.ts ? new Date(r.ts).toLocaleTimeString() : '', STATE_LABEL[r.state] || ''];
  meta.replaceChildren(document.createTextNode(parts.filter(Boolean).join(' · ')));
  if (r.state === 'failed') {
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'retry';
    btn.textContent = 'retry';
    btn.addEventListener('click', () => retry(r));
    meta.append(btn);
  }
  place(r);
}

// Keep lines in ascending seq; unsequenced (unsent) ones last, in creation order.
function compare(a, b) {
  const as = a.seq == null ? Infinity : a.seq;
  const bs = b.seq == null ? Infinity : b.seq;
  if (as !== bs) return as < bs ? -1 : 1;
  return a.local - b.local;
}

function place(r) {
  let before = null;
  for (const child of el.messages.children) {
    if (child === r.el) continue;
    const other = recordOf.get(child);
    if (other && compare(other, r) > 0) { before = child; break; }
  }
  if (r.el.nextSibling === before && r.el.parentNode === el.messages) return;
  el.messages.insertBefore(r.el, before);
}

function nearBottom() {
  const b = el.messages;
  return b.scrollHeight - b.scrollTop - b.clientHeight < 40;
}

function scrollToBottom() { el.messages.scrollTop = el.messages.scrollHeight; }

// ---------- sending ----------

function sendMessage() {
  const body = el.text.value;
  if (!body.trim()) return;
  if (!state.me) { showError('connect first'); return; }
  if (!state.peer) { showError('choose a peer first'); return; }
  if (body.length > MAX_BODY) { showError('message too long (max ' + MAX_BODY + ')'); return; }
  const r = { from: state.me, to: state.peer, body, ts: Date.now(), state: 'sending' };
  addRecord(r);
  transmit(r); // when offline the client holds it until the next welcome
  el.text.value = '';
  scrollToBottom();
}

// The client resends with the same cid until the ack; it fails only for a refusal that
// resending cannot fix (then the line offers a retry).
function transmit(r) {
  const client = state.client;
  state.outbox.add(r);
  client.send(r.to, r.body).then((ack) => {
    if (client !== state.client) return;
    state.outbox.delete(r);
    Object.assign(r, { id: ack.id, seq: ack.seq, cid: ack.cid, ts: ack.ts || r.ts, state: 'sent' });
    if (state.view.records.has(r)) {
      const dup = state.view.byId.get(r.id); // already arrived in a history page
      if (dup && dup !== r) removeRecord(dup);
      state.view.byId.set(r.id, r);
      renderRecord(r);
    }
    updateConv(r.to, r, false);
  }, (err) => {
    if (client !== state.client) return;
    r.state = 'failed'; // stays in the outbox, shown with its conversation until retried
    if (err.code !== 'closed') showError('not sent: ' + err.message);
    if (state.view.records.has(r)) renderRecord(r);
  });
}

function retry(r) {
  r.state = 'sending';
  if (state.view.records.has(r)) renderRecord(r);
  transmit(r);
}

// ---------- conversation list ----------

function updateConv(peer, msg, markUnread) {
  const cur = state.convs.get(peer);
  if (!cur || cur.seq == null || msg.seq == null || msg.seq >= cur.seq) {
    state.convs.set(peer, { id: msg.id, seq: msg.seq, from: msg.from, to: msg.to, body: msg.body, ts: msg.ts });
  }
  if (markUnread) state.unread.add(peer);
  renderConversations();
}

function renderConversations() {
  const items = Array.from(state.convs, ([peer, last]) => ({ peer, last }));
  items.sort((a, b) => (b.last.ts || 0) - (a.last.ts || 0)); // newest first
  const lis = items.map(({ peer, last }) => {
    const li = document.createElement('li');
    li.className = 'conv' + (peer === state.peer ? ' active' : '') + (state.unread.has(peer) ? ' unread' : '');
    li.dataset.peer = peer;
    li.tabIndex = 0;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = peer;
    const preview = document.createElement('span');
    preview.className = 'preview';
    const text = String(last.body || '');
    preview.textContent = (last.from === state.me ? 'you: ' : '') + (text.length > 60 ? text.slice(0, 60) + '…' : text);
    li.append(name, preview);
    return li;
  });
  el.conversations.replaceChildren(...lis);
}

// ---------- wiring ----------

el.login.addEventListener('submit', (e) => { e.preventDefault(); startLogin(); });
el.peerForm.addEventListener('submit', (e) => { e.preventDefault(); selectPeer(el.peer.value); });
el.composer.addEventListener('submit', (e) => { e.preventDefault(); sendMessage(); });
el.text.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendMessage(); }
});
el.older.addEventListener('click', () => {
  if (state.peer && state.client) loadPage(state.peer, lowestSeq() == null ? 'latest' : 'older');
});
// One delegated listener: the list is rebuilt on every update.
const pickConv = (target) => { const li = target.closest('li[data-peer]'); if (li) selectPeer(li.dataset.peer); };
el.conversations.addEventListener('click', (e) => pickConv(e.target));
el.conversations.addEventListener('keydown', (e) => { if (e.key === 'Enter') pickConv(e.target); });

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
