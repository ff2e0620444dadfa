/**
 * A session's room frames on a fake socket: the `cid` of every room request reaches the answer
 * and the refusal of it, so a client matches each to its request; the others get the change
 * without it, and the asker gets it once.
 */
import assert from 'node:assert/strict';
import type { RoomFrame } from '@chat/shared/protocol';
import { FakeNode, settle } from '../helpers/session-fakes.ts';

async function roomOf(node: FakeNode): Promise<{ alice: ReturnType<FakeNode['connect']>; bob: ReturnType<FakeNode['connect']>; room: string }> {
  const [alice, bob] = [node.connect(), node.connect()];
  await alice.hello('alice');
  await bob.hello('bob');
  alice.ws.receive({ type: 'room_create', title: 'Team', members: ['bob'], cid: 'make' });
  await settle();
  const made = node.delivery.events.map((e) => e.event.event as RoomFrame).find((f) => f.cid === 'make');
  assert.ok(made, 'the creator gets the room frame with its cid');
  return { alice, bob, room: made.room };
}

/** The room frames sent to other nodes' and this node's connections since `from`: to whom, and with which cid. */
const announced = (node: FakeNode, from: number) => node.delivery.events.slice(from).map((e) => [e.event.to, (e.event.event as RoomFrame).cid]);

describe('SessionRooms: answers carry the request\'s cid', () => {
  it('gives a change\'s room frame to the asker with its cid and to the others without', async () => {
    const node = new FakeNode();
    const { alice, room } = await roomOf(node);
    const from = node.delivery.events.length;
    alice.ws.receive({ type: 'room_add', room, users: ['carol'], cid: 'add-1' });
    await settle();
    assert.deepEqual(announced(node, from), [[['alice'], 'add-1'], [['bob', 'carol'], undefined]]);
  });

  it('gives a leaver the frame once, with its cid', async () => {
    const node = new FakeNode();
    const { bob, room } = await roomOf(node);
    const from = node.delivery.events.length;
    bob.ws.receive({ type: 'room_leave', room, cid: 'bye' });
    await settle();
    assert.deepEqual(announced(node, from), [[['bob'], 'bye'], [['alice'], undefined]]);
  });

  it('answers room_info and a change that changed nothing on the asking connection, with the cid', async () => {
    const node = new FakeNode();
    const { alice, room } = await roomOf(node);
    alice.ws.receive({ type: 'room_info', room, cid: 'info-1' });
    alice.ws.receive({ type: 'room_add', room, users: ['bob'], cid: 'again' });
    await settle();
    assert.deepEqual(alice.frames().filter((f) => f.type === 'room').map((f) => (f as RoomFrame).cid).sort(), ['again', 'info-1']);
  });

  it('refuses with the cid of the refused request', async () => {
    const node = new FakeNode();
    const { bob, room } = await roomOf(node);
    bob.ws.receive({ type: 'room_remove', room, users: ['alice'], cid: 'not-yours' });
    bob.ws.receive({ type: 'room_info', room: 'no-such-room', cid: 'nothing' });
    bob.ws.receive({ type: 'room_join', room: 'bad id!', cid: 'malformed' });
    await settle();
    const errors = bob.frames().flatMap((f) => (f.type === 'error' ? [[f.code, f.cid]] : []));
    assert.deepEqual(errors.sort(), [['bad_request', 'malformed'], ['forbidden', 'not-yours'], ['forbidden', 'nothing']]);
  });
});
