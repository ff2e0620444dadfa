// The open conversation's message lines: one record per message (or per own message not yet
// acked), kept in seq order, each drawn with its state: "sending…", sent ✓, read ✓✓ (one-to-one
// only: a room's read marks are each member's own), and in a room with its sender's name.
import { el, node, state } from './client-dom.js';

const recordOf = new WeakMap(); // <li> -> record, for sorted insertion
let localCounter = 0;           // orders not-yet-sequenced messages by creation
let onRetry = () => {};

/** What the retry button of a failed line does. */
export function setRetry(fn) { onRetry = fn; }

export function clearView() {
  state.view.records.clear(); state.view.byId.clear();
  el.messages.replaceChildren();
}

// Insert or merge a server-shaped message, once per id.
export function upsert(m) {
  const v = state.view;
  let r = v.byId.get(m.id);
  if (!r) { r = { local: ++localCounter }; addRecord(r, true); }
  Object.assign(r, {
    id: m.id, seq: m.seq, cid: m.cid, from: m.from, to: m.to, room: m.room,
    body: String(m.body), ts: m.ts, state: m.from === state.me ? 'sent' : 'received',
  });
  v.byId.set(r.id, r);
  renderRecord(r);
}

export function addRecord(r, deferRender) {
  if (r.local == null) r.local = ++localCounter;
  state.view.records.add(r);
  if (r.id) state.view.byId.set(r.id, r);
  if (!deferRender) renderRecord(r);
}

export function removeRecord(r) {
  state.view.records.delete(r);
  if (r.id && state.view.byId.get(r.id) === r) state.view.byId.delete(r.id);
  if (r.el) r.el.remove();
}

export function lowestSeq() {
  let lo = null;
  for (const r of state.view.records) if (r.seq != null && (lo == null || r.seq < lo)) lo = r.seq;
  return lo;
}

export function highestSeq() {
  let hi = 0;
  for (const r of state.view.records) if (r.seq != null && r.seq > hi) hi = r.seq;
  return hi;
}

/** Redraw the ticks of own lines after the peer's read mark moved. */
export function refreshTicks() {
  for (const r of state.view.records) if (r.state === 'sent') renderRecord(r);
}

function tick(r) {
  if (r.state === 'sending') return 'sending…';
  if (r.state === 'failed') return 'not sent';
  if (r.state !== 'sent') return '';
  return isRead(r) ? '✓✓ read' : '✓ sent';
}

function isRead(r) { return r.seq != null && r.to !== undefined && (state.peerRead.get(r.to) || 0) >= r.seq; }

// (Re)draw one message line; everything from the wire goes in as text.
export function renderRecord(r) {
  if (!r.el) {
    r.el = node('li');
    r.el.append(node('div', 'from'), node('div', 'body'), node('div', 'meta'));
    recordOf.set(r.el, r);
  }
  const li = r.el;
  li.className = 'msg ' + (r.from === state.me ? 'own' : 'theirs');
  li.dataset.cid = r.cid || '';
  li.dataset.state = r.state;
  if (r.state === 'sent' && isRead(r)) li.dataset.read = 'true'; else delete li.dataset.read;
  if (r.id) li.dataset.id = r.id;
  if (r.seq != null) li.dataset.seq = String(r.seq);
  li.querySelector('.from').textContent = r.room !== undefined && r.from !== state.me ? r.from : '';
  li.querySelector('.body').textContent = r.body;
  const meta = li.querySelector('.meta');
  const time = r.ts ? new Date(r.ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
  meta.replaceChildren(node('span', 'time', time));
  const label = tick(r);
  if (label) meta.append(node('span', 'tick', label));
  if (r.state === 'failed') {
    const btn = node('button', 'retry', 'retry');
    btn.type = 'button';
    btn.addEventListener('click', () => onRetry(r));
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
