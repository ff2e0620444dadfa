// Sending: a line drawn at once as "sending…" that waits in the library's queue while there is
// no connection, becomes "sent ✓" at its ack, and offers a retry after a final refusal; and the
// `typing` notices while the user types.
import { el, roomOfKey, scrollToBottom, showError, state } from './client-dom.js';
import { addRecord, removeRecord, renderRecord, setRetry } from './client-messages.js';

const MAX_BODY = 4000;
const TYPING_EVERY_MS = 1500; // how often the peer is told while the user types
let onSent = () => {};

/** What else happens when a message was acknowledged (the conversation list shows it). */
export function setOnSent(fn) { onSent = fn; }

export function sendMessage() {
  const body = el.text.value;
  if (!body.trim()) return;
  if (!state.me) { showError('connect first'); return; }
  if (!state.peer) { showError('choose a peer first'); return; }
  if (body.length > MAX_BODY) { showError('message too long (max ' + MAX_BODY + ')'); return; }
  const room = roomOfKey(state.peer);
  const r = { from: state.me, ...(room !== undefined ? { room } : { to: state.peer }), body, ts: Date.now(), state: 'sending' };
  addRecord(r);
  transmit(r); // when offline it waits in the library's queue until the next welcome
  el.text.value = '';
  scrollToBottom();
}

// The library resends with the same cid until the ack; it fails only for a refusal that
// resending cannot fix (then the line offers a retry).
function transmit(r) {
  const client = state.client;
  state.outbox.add(r);
  const sent = r.room !== undefined ? client.sendToRoom(r.room, r.body) : client.send(r.to, r.body);
  sent.then((ack) => {
    if (client !== state.client) return;
    state.outbox.delete(r);
    Object.assign(r, { id: ack.id, seq: ack.seq, cid: ack.cid, ts: ack.ts || r.ts, state: 'sent' });
    if (state.view.records.has(r)) {
      const dup = state.view.byId.get(r.id); // already arrived in a history page
      if (dup && dup !== r) removeRecord(dup);
      state.view.byId.set(r.id, r);
      renderRecord(r);
    }
    onSent(r);
  }, (err) => {
    if (client !== state.client) return;
    r.state = 'failed'; // stays in the outbox, shown with its conversation until retried
    if (err.code !== 'closed') showError('not sent: ' + err.message);
    if (state.view.records.has(r)) renderRecord(r);
  });
}

setRetry((r) => {
  r.state = 'sending';
  if (state.view.records.has(r)) renderRecord(r);
  transmit(r);
});

let lastTyping = 0;
export function onInput() {
  const now = Date.now();
  // `typing` is one-to-one: a room has no indicator.
  if (!state.peer || roomOfKey(state.peer) !== undefined || !state.online || !el.text.value || now - lastTyping < TYPING_EVERY_MS) return;
  lastTyping = now;
  state.client.typing(state.peer);
}
