// Bundled browser test client for chat protocol v1 (see docs/protocol.md).
// Plain script, no dependencies. All user-supplied data (bodies, user ids)
// reaches the DOM only through textContent, never through innerHTML.
(function () {
  'use strict';

  const USER_RE = /^[A-Za-z0-9_.-]{1,64}$/;
  const PAGE = 50;              // history page size
  const PING_MS = 25000;        // keeps idle-timeout proxies from dropping us
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
    ws: null, online: false, manualClose: false, attempt: 0,
    creds: null,                // what `hello` sends: {user} or {token}
    me: null, node: null, peer: null,
    pingTimer: null, retryTimer: null, countdownTimer: null,
    pending: new Map(),         // cid -> record of an own message not yet acked (any peer)
    view: { records: new Set(), byId: new Map(), byCid: new Map() }, // open conversation only
    olderMore: false,
    historyQueue: [],           // kinds of outstanding history requests, answered in order
    convs: new Map(),           // peer -> last message
    unread: new Set(),
  };
  const recordOf = new WeakMap(); // <li> -> record, for sorted insertion
  let localCounter = 0;           // orders not-yet-sequenced messages by creation

  // ---------- small helpers ----------

  function load(key) { try { return localStorage.getItem(key); } catch (_) { return null; } }
  function save(key, v) { try { localStorage.setItem(key, v); } catch (_) { /* storage disabled */ } }

  // crypto.randomUUID only exists in secure contexts; a node reached over plain
  // http on a LAN address is not one, so fall back to getRandomValues.
  function newCid() {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'c-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

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

  function sendFrame(frame) {
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function updateControls() {
    el.send.disabled = !(state.peer && state.me);
    el.older.disabled = !(state.online && state.peer && state.olderMore);
  }

  // ---------- connection lifecycle ----------

  function wsUrl() {
    return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws';
  }

  function connect() {
    clearTimers();
    let ws;
    try { ws = new WebSocket(wsUrl()); } catch (e) { showError('cannot open socket: ' + e.message); scheduleReconnect(); return; }
    state.ws = ws;
    state.online = false;
    state.historyQueue = [];
    setStatus('connecting', state.attempt ? 'reconnecting…' : 'connecting…');
    // Every handler ignores events from a socket we have already replaced.
    ws.onopen = () => {
      if (ws !== state.ws) return;
      sendFrame(Object.assign({ type: 'hello' }, state.creds)); // server expects it within 5 s
      state.pingTimer = setInterval(() => sendFrame({ type: 'ping' }), PING_MS);
    };
    ws.onmessage = (ev) => { if (ws === state.ws) handleFrame(ev.data); };
    ws.onclose = (ev) => { if (ws === state.ws) onClosed(ev); };
    ws.onerror = () => { /* a close event always follows; handled there */ };
  }

  function onClosed(ev) {
    clearTimers();
    state.ws = null;
    state.online = false;
    updateControls();
    if (ev.code === 4401) {
      // Bad credentials will not get better by retrying: stop and say so.
      setStatus('error', 'unauthorized (4401)');
      showError('closed 4401: ' + (ev.reason || 'unauthorized, check user / token'));
      return;
    }
    if (state.manualClose) { setStatus('offline', 'offline'); return; }
    scheduleReconnect();
  }

  // Full-jitter exponential backoff: uniform in [0, min(cap, base * 2^attempt)].
  function scheduleReconnect() {
    const delay = Math.random() * Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** state.attempt);
    state.attempt++;
    const due = Date.now() + delay;
    const tick = () => setStatus('reconnecting', 'reconnecting in ' + Math.ceil(Math.max(0, due - Date.now()) / 1000) + 's');
    tick();
    state.countdownTimer = setInterval(tick, 250);
    state.retryTimer = setTimeout(connect, delay);
  }

  function clearTimers() {
    clearInterval(state.pingTimer); clearTimeout(state.retryTimer); clearInterval(state.countdownTimer);
    state.pingTimer = state.retryTimer = state.countdownTimer = null;
  }

  function disconnect() {
    state.manualClose = true;
    clearTimers();
    const ws = state.ws;
    state.ws = null; // detach first so its close event is ignored
    state.online = false;
    if (ws) ws.close(1000, 'client reconnecting');
  }

  // Login button: validate, remember, (re)connect with the new credentials.
  function startLogin() {
    const token = el.token.value.trim();
    const user = el.user.value.trim();
    if (!token && !USER_RE.test(user)) { showError('invalid user id (allowed: A-Z a-z 0-9 _ . -, 1–64 chars)'); return; }
    const creds = token ? { token } : { user };
    if (!token) save('chat.user', user);
    disconnect();
    // Switching identity drops everything tied to the old one; reconnecting as
    // the same identity keeps unsent messages so they are re-sent.
    if (JSON.stringify(creds) !== JSON.stringify(state.creds)) resetSession();
    state.creds = creds;
    state.manualClose = false;
    state.attempt = 0;
    connect();
  }

  function resetSession() {
    state.pending.clear(); state.convs.clear(); state.unread.clear();
    state.me = state.node = null;
    el.me.textContent = '–'; el.node.textContent = '–';
    clearView();
    renderConversations();
    updateControls();
  }

  // ---------- incoming frames ----------

  function handleFrame(data) {
    let f;
    try { f = JSON.parse(data); } catch (_) { showError('unparseable frame from server'); return; }
    if (!f || typeof f.type !== 'string') return;
    switch (f.type) {
      case 'welcome': return onWelcome(f);
      case 'ack': return onAck(f);
      case 'message': return onLiveMessage(f);
      case 'history': return onHistory(f);
      case 'conversations': return onConversations(f);
      case 'error': return onError(f);
      case 'pong': return;
      default: return; // unknown types are ignored: the protocol may grow
    }
  }

  function onWelcome(f) {
    state.me = f.user; state.node = f.node;
    state.online = true;
    state.attempt = 0;
    el.me.textContent = String(f.user);
    el.node.textContent = String(f.node);
    setStatus('online', 'online');
    sendFrame({ type: 'conversations' });
    if (state.peer) catchUp();
    // Re-send with the SAME cid: the server dedupes, so nothing is doubled.
    for (const r of state.pending.values()) if (r.state === 'sending') transmit(r);
    updateControls();
  }

  function onAck(f) {
    const r = state.pending.get(f.cid);
    if (!r) return;
    state.pending.delete(f.cid);
    Object.assign(r, { id: f.id, seq: f.seq, ts: f.ts || r.ts, state: 'sent' });
    if (state.view.records.has(r)) {
      const dup = state.view.byId.get(r.id); // already arrived via history catch-up
      if (dup && dup !== r) removeRecord(dup);
      state.view.byId.set(r.id, r);
      renderRecord(r);
    }
    updateConv(r.to, r, false);
  }

  function onError(f) {
    showError((f.code || 'error') + (f.message ? ': ' + f.message : '') + (f.cid ? ' (cid ' + f.cid + ')' : ''));
    const r = f.cid && state.pending.get(f.cid);
    if (!r) return;
    r.state = 'failed'; // stays in pending so a retry reuses the cid
    if (state.view.records.has(r)) renderRecord(r);
  }

  function onLiveMessage(m) {
    const other = m.from === state.me ? m.to : m.from;
    updateConv(other, m, m.from !== state.me && other !== state.peer);
    if (other !== state.peer) return;
    const stick = nearBottom();
    upsert(m);
    if (stick) scrollToBottom();
  }

  function onHistory(f) {
    const req = state.historyQueue.shift() || { kind: 'latest' };
    if (f.with !== state.peer) return; // answer for a conversation we left
    const list = Array.isArray(f.messages) ? f.messages : [];
    const box = el.messages;
    const fromBottom = box.scrollHeight - box.scrollTop; // to keep the view still when prepending
    const stick = nearBottom();
    list.forEach(upsert);
    if (req.kind === 'older') box.scrollTop = box.scrollHeight - fromBottom;
    else if (stick || req.kind === 'latest') scrollToBottom();
    if (req.kind === 'after') {
      // Keep catching up from this page's end, not from the highest seq shown: a live message
      // that arrived meanwhile may sit above messages still missing.
      if (f.more && list.length) requestHistory('after', list[list.length - 1].seq);
    } else {
      state.olderMore = !!f.more;
    }
    updateControls();
  }

  function onConversations(f) {
    const items = Array.isArray(f.items) ? f.items : [];
    for (const it of items) {
      if (!it || !it.last) continue;
      const prev = state.convs.get(it.with);
      // Something new arrived while we were away: flag it.
      if (prev && it.last.seq > prev.seq && it.last.from !== state.me && it.with !== state.peer) state.unread.add(it.with);
      state.convs.set(it.with, it.last);
    }
    renderConversations();
  }

  // ---------- history requests ----------

  function requestHistory(kind, seq) {
    const f = { type: 'history', with: state.peer };
    if (kind === 'older') { f.before = seq; f.limit = PAGE; }
    else if (kind === 'after') f.after = seq;
    else f.limit = PAGE;
    if (sendFrame(f)) state.historyQueue.push({ kind });
  }

  // After a reconnect only fetch what we missed; with nothing shown, the newest page.
  function catchUp() {
    const hi = highestSeq();
    if (hi == null) requestHistory('latest'); else requestHistory('after', hi);
  }

  function highestSeq() {
    let hi = null;
    for (const r of state.view.records) if (r.seq != null && (hi == null || r.seq > hi)) hi = r.seq;
    return hi;
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
    for (const r of state.pending.values()) if (r.to === p) addRecord(r); // our unsent ones
    renderConversations();
    if (state.online) requestHistory('latest');
    updateControls();
  }

  function clearView() {
    state.view.records.clear(); state.view.byId.clear(); state.view.byCid.clear();
    el.messages.replaceChildren();
  }

  // Insert or merge a server-shaped message: dedupe by id, and match our own
  // messages by cid so a "sending" line turns into the stored one.
  function upsert(m) {
    if (!m || typeof m.id !== 'string') return;
    const v = state.view;
    const own = m.from === state.me && m.cid;
    let r = v.byId.get(m.id);
    const byCid = own ? v.byCid.get(m.cid) : null;
    if (r && byCid && byCid !== r) removeRecord(byCid);
    r = r || byCid;
    if (own) state.pending.delete(m.cid); // stored: no need to re-send
    if (!r) { r = { local: ++localCounter }; addRecord(r, true); }
    Object.assign(r, {
      id: m.id, seq: m.seq, cid: m.cid || r.cid || '', from: m.from, to: m.to,
      body: String(m.body), ts: m.ts, state: m.from === state.me ? 'sent' : 'received',
    });
    v.byId.set(r.id, r);
    if (own) v.byCid.set(r.cid, r);
    renderRecord(r);
  }

  function addRecord(r, deferRender) {
    if (r.local == null) r.local = ++localCounter;
    state.view.records.add(r);
    if (r.id) state.view.byId.set(r.id, r);
    if (r.cid && r.from === state.me) state.view.byCid.set(r.cid, r);
    if (!deferRender) renderRecord(r);
  }

  function removeRecord(r) {
    state.view.records.delete(r);
    if (r.id && state.view.byId.get(r.id) === r) state.view.byId.delete(r.id);
    if (r.cid && state.view.byCid.get(r.cid) === r) state.view.byCid.delete(r.cid);
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
    const r = { cid: newCid(), from: state.me, to: state.peer, body, ts: Date.now(), state: 'sending' };
    state.pending.set(r.cid, r);
    addRecord(r);
    transmit(r); // when offline it waits in `pending` until the next welcome
    el.text.value = '';
    scrollToBottom();
  }

  function transmit(r) {
    if (state.online) sendFrame({ type: 'send', to: r.to, body: r.body, cid: r.cid });
  }

  function retry(r) {
    r.state = 'sending';
    state.pending.set(r.cid, r);
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
    const lo = lowestSeq();
    if (lo == null) requestHistory('latest'); else requestHistory('older', lo);
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
})();
