// The conversation list (newest first, unread badge, presence dot or a room's title, "typing…")
// and the open conversation's head (presence and "typing…" under the peer's name; a room's title).
import { el, isTyping, nameOf, node, presenceText, roomOfKey, state } from './client-dom.js';

export function updateConv(key, msg) {
  const cur = state.convs.get(key);
  if (!cur || cur.seq == null || msg.seq == null || msg.seq >= cur.seq) {
    state.convs.set(key, { id: msg.id, seq: msg.seq, from: msg.from, to: msg.to, room: msg.room, body: msg.body, ts: msg.ts });
  }
}

function dot(user) {
  const d = node('span', 'dot');
  const p = state.presence.get(user);
  d.dataset.online = p ? String(p.online) : 'unknown';
  d.title = presenceText(user) || 'presence unknown';
  return d;
}

export function renderConversations() {
  const items = Array.from(state.convs, ([peer, last]) => ({ peer, last }));
  items.sort((a, b) => (b.last.ts || 0) - (a.last.ts || 0));
  const lis = items.map(({ peer, last }) => {
    const unread = state.unread.get(peer) || 0;
    const room = roomOfKey(peer);
    const li = node('li', 'conv' + (room !== undefined ? ' room' : '') + (peer === state.peer ? ' active' : '') + (unread ? ' unread' : ''));
    li.dataset.peer = peer;
    li.tabIndex = 0;
    const top = node('div', 'conv-top');
    if (room === undefined) top.append(dot(peer));
    top.append(node('span', 'name', nameOf(peer)));
    if (unread) top.append(node('span', 'badge', String(unread)));
    const text = String(last.body || '');
    const preview = isTyping(peer)
      ? node('span', 'preview typing', 'typing…')
      : node('span', 'preview', (last.from === state.me ? 'you: ' : room !== undefined && last.from ? last.from + ': ' : '') + (text.length > 60 ? text.slice(0, 60) + '…' : text));
    li.append(top, preview);
    return li;
  });
  el.conversations.replaceChildren(...lis);
}

export function renderHead() {
  const p = state.peer;
  const room = roomOfKey(p);
  el.chatPeer.textContent = p ? nameOf(p) : 'No conversation open: pick one or open a peer';
  el.peerPresence.replaceChildren();
  if (p && room === undefined) el.peerPresence.append(dot(p), node('span', '', presenceText(p)));
  el.peerPresence.dataset.online = p && state.presence.get(p) ? String(state.presence.get(p).online) : 'unknown';
  el.peerTyping.hidden = !(p && isTyping(p));
}

export function renderSidebar() {
  renderConversations();
  renderHead();
}

/** Watch every peer in the list plus the open one; sent again only when the set changed. */
const watched = new WeakMap(); // client -> the list it watches
export function watchPeers() {
  if (!state.client) return;
  const users = new Set([...state.convs.keys()].filter((key) => roomOfKey(key) === undefined));
  if (state.peer && roomOfKey(state.peer) === undefined) users.add(state.peer);
  const list = [...users].sort().slice(0, 500);
  const key = list.join(',');
  if (watched.get(state.client) === key) return;
  watched.set(state.client, key); // the library sends it again after every reconnect
  try { state.client.watch(list); } catch (_) { /* ids are checked before they get here */ }
}
