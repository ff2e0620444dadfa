// Rooms on the page: creating one (title, members, public), the open room's members with the
// owner's add and remove, leaving, and every `room` frame the client passes on (a room the user
// is no longer in leaves the list).
import { el, node, roomOfKey, showError, state } from './client-dom.js';
import { renderSidebar, updateConv } from './client-sidebar.js';

let hooks = { open: (_key) => {}, closed: () => {} };

/** What the page does to open a conversation, and when the open room is gone from under it. */
export function setRoomHooks(h) { hooks = h; }

/** A list of user ids as typed: split on commas and spaces. */
const usersIn = (text) => String(text).split(/[\s,]+/).filter(Boolean);

/** A `room` frame: a room created, changed, left, or answered by `room_info`. */
export function onRoom(r) {
  const key = '#' + r.room;
  if (!r.members.includes(state.me)) {
    state.rooms.delete(r.room);
    state.convs.delete(key);
    state.unread.delete(key);
    if (state.peer === key) {
      showError('you are no longer a member of ' + (r.title || r.room));
      hooks.closed();
    }
  } else {
    state.rooms.set(r.room, r);
    // A new room shows in the list before its first message.
    if (!state.convs.has(key)) updateConv(key, { ts: Date.now(), body: '' });
  }
  renderSidebar();
  renderRoomPanel();
}

/** The room list of `conversations` knows titles before the room's state is asked for. */
export function knowTitle(room, title) {
  if (!state.rooms.has(room)) state.rooms.set(room, { room, title });
}

/** Ask for the open room's members and owner. */
export function loadRoom(room) {
  const client = state.client;
  client.roomInfo(room).then(onRoom, (err) => {
    if (client !== state.client || err.code === 'closed') return;
    if (err.code === 'disconnected') return loadRoom(room);
    showError('room: ' + err.message);
  });
}

export function renderRoomPanel() {
  const room = roomOfKey(state.peer);
  const r = room !== undefined ? state.rooms.get(room) : undefined;
  el.roomPanel.hidden = room === undefined;
  if (room === undefined) return;
  const members = r?.members ?? [];
  el.roomMembers.replaceChildren(node('span', '', members.length
    ? members.length + (members.length === 1 ? ' member: ' : ' members: ') + members.map((u) => (u === r.owner ? u + ' (owner)' : u)).join(', ')
    : 'members…'));
  el.roomOwnerTools.hidden = !r || r.owner !== state.me;
}

/** Run a room request from the page; its `room` frame updates the page through onRoom. */
function request(what, ask) {
  if (!state.client || !state.me) { showError('connect first'); return; }
  ask(state.client).then(() => {}, (err) => { if (err.code !== 'closed') showError(what + ': ' + err.message); });
}

function createRoom() {
  const title = el.roomTitle.value.trim();
  const members = usersIn(el.roomInvite.value);
  request('create room', (client) => client.createRoom({ title, members, public: el.roomPublic.checked }).then((r) => {
    el.roomTitle.value = '';
    el.roomInvite.value = '';
    hooks.open('#' + r.room);
  }));
}

function changeMembers(add) {
  const room = roomOfKey(state.peer);
  const users = usersIn(el.roomUsers.value);
  if (room === undefined || users.length === 0) return;
  request(add ? 'add' : 'remove', (client) => (add ? client.addToRoom(room, users) : client.removeFromRoom(room, users))
    .then(() => { el.roomUsers.value = ''; }));
}

el.roomForm.addEventListener('submit', (e) => { e.preventDefault(); createRoom(); });
el.roomAdd.addEventListener('click', () => changeMembers(true));
el.roomRemove.addEventListener('click', () => changeMembers(false));
el.roomLeave.addEventListener('click', () => {
  const room = roomOfKey(state.peer);
  if (room !== undefined) request('leave', (client) => client.leaveRoom(room));
});
