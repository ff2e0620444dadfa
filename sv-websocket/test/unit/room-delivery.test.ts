/**
 * A room's message and room events: delivered to local members from the node's own table, looked
 * up in one batch, forwarded once per node with the recipients there, and taken from a forward by
 * those recipients alone.
 */
import assert from 'node:assert/strict';
import { deliverRequestSchema, MAX_FORWARD_USERS } from '@chat/shared/internal-api';
import { encodeMessageFrame, roomFrame } from '@chat/shared/protocol';
import { eventually } from '@chat/shared/testing/eventually';
import { roomAddress, type Message } from '@chat/shared/types';
import { Delivery } from '../../src/delivery.ts';
import { forwardSize, requestOf, type Outgoing } from '../../src/forward-request.ts';
import { LocalConnections } from '../../src/local-connections.ts';
import { LookupCache } from '../../src/lookup-cache.ts';
import { recordingForwarder, registryWith } from '../helpers/delivery-fakes.ts';

const ROOM = roomAddress('r1');
const roomMsg = (id: string): Message => ({ id, seq: 1, cid: id, from: 'alice', to: ROOM, body: 'hi', ts: 1 });
const oneToOne: Message = { id: 'd1', seq: 1, cid: 'd1', from: 'alice', to: 'bob', body: 'hi', ts: 1 };
const state = { room: 'r1', title: 't', owner: 'alice', public: false, members: ['alice', 'bob', 'carol', 'dave', 'erin'] };

function sockets(local: LocalConnections) {
  return (user: string, connId: string) => {
    const got: string[] = [];
    local.add({ user, connId, socket: { sendRaw: (f) => got.push(f) } });
    return got;
  };
}

describe('Delivery: a room\'s message', () => {
  it('reaches local members but the sending connection, and goes once to each other node with its members there', async () => {
    const registry = await registryWith([['alice', 'self'], ['bob', 'self'], ['carol', 'n1'], ['dave', 'n1'], ['erin', 'n2'], ['alice', 'n2']]);
    const { sent, forwarder } = recordingForwarder(() => ({ reached: true, absent: [] }));
    const local = new LocalConnections();
    const socket = sockets(local);
    const [aliceOrigin, aliceOther, bob, stranger] = [socket('alice', 'a1'), socket('alice', 'a2'), socket('bob', 'b1'), socket('zed', 'z1')];
    const delivery = new Delivery('self', local, new LookupCache(registry, { ttlMs: 60_000 }), forwarder);
    await delivery.deliverRoom(roomMsg('m1'), state.members, 'a1');

    const frame = encodeMessageFrame(roomMsg('m1'));
    assert.deepEqual([aliceOrigin, aliceOther, bob, stranger], [[], [frame], [frame], []]);
    assert.deepEqual(JSON.parse(frame), { type: 'message', id: 'm1', seq: 1, cid: 'm1', from: 'alice', room: 'r1', body: 'hi', ts: 1 });
    assert.deepEqual(sent.sort((x, y) => x.node.localeCompare(y.node)), [
      { node: 'n1', id: 'm1', users: ['carol', 'dave'] },
      { node: 'n2', id: 'm1', users: ['alice', 'erin'] },
    ], 'one forward per node, not per member');
    assert.deepEqual([delivery.stats.forwarded, delivery.pending], [2, 0]);
    await registry.close();
  });

  it('parks the members a failed forward did not reach, and retries them on their node only', async () => {
    const registry = await registryWith([['carol', 'n1'], ['dave', 'n1'], ['erin', 'n2']]);
    let n1Up = false;
    const { sent, forwarder } = recordingForwarder((node) => (node.nodeId === 'n1' && !n1Up ? { reached: false, absent: [] } : { reached: true, absent: [] }));
    const delivery = new Delivery('self', new LocalConnections(), new LookupCache(registry, { ttlMs: 60_000 }), forwarder, { retryMs: 60_000 });
    await delivery.deliverRoom(roomMsg('m1'), state.members);
    assert.equal(delivery.parked, 1);
    n1Up = true;
    await eventually('nothing left parked', () => delivery.parked === 0, 10_000);
    assert.deepEqual(sent.slice(2), [{ node: 'n1', id: 'm1', users: ['carol', 'dave'] }], 'n2 took it: only n1 again, with its members');
    await delivery.idle();
    await registry.close();
  });

  it('sends a room event to every member named, on any node, past the two users of a typing or read event', async () => {
    const registry = await registryWith([['bob', 'self'], ['carol', 'n1'], ['dave', 'n1'], ['erin', 'n2']]);
    const { sent, forwarder } = recordingForwarder(() => ({ reached: true, absent: [] }));
    const local = new LocalConnections();
    const bob = sockets(local)('bob', 'b1');
    const delivery = new Delivery('self', local, new LookupCache(registry, { ttlMs: 60_000 }), forwarder);
    const event = roomFrame(state);
    await delivery.deliverEvent({ event, to: ['bob', 'carol', 'dave', 'erin'] }, true);
    assert.deepEqual(bob, [JSON.stringify(event)]);
    assert.deepEqual(sent.map((s) => [s.node, s.users]).sort(), [['n1', ['carol', 'dave']], ['n2', ['erin']]]);
    await registry.close();
  });

  it('is taken from a forward by the recipients it names alone', async () => {
    const registry = await registryWith([]);
    const local = new LocalConnections();
    const socket = sockets(local);
    const [carol, dave, alice] = [socket('carol', 'c1'), socket('dave', 'd1'), socket('alice', 'a9')];
    const delivery = new Delivery('self', local, new LookupCache(registry, { ttlMs: 1 }), recordingForwarder(() => ({ reached: true, absent: [] })).forwarder);
    const reply = delivery.receive({ users: ['carol', 'frank'], items: [{ message: roomMsg('m2'), originConn: 'a1', recipients: ['carol', 'frank'] }] });
    assert.deepEqual([carol, dave, alice], [[encodeMessageFrame(roomMsg('m2'))], [], []], 'not the sender, not another member this forward did not name');
    assert.deepEqual(reply.absent, ['frank']);
    await registry.close();
  });
});

describe('the forward request of rooms', () => {
  const out = (item: Outgoing['item'], users: string[]): Outgoing => ({ item, users, probe: false });

  it('names a room message\'s recipients on the target, cuts a room event down to them, and leaves one-to-one items as they were', () => {
    const event = roomFrame(state);
    const req = requestOf(['carol', 'dave', 'bob'], [
      out({ message: roomMsg('m1'), originConn: 'a1' }, ['carol', 'dave']),
      out({ message: oneToOne }, ['bob']),
      out({ event, to: state.members }, ['carol']),
    ]);
    assert.deepEqual(req, {
      users: ['carol', 'dave', 'bob'],
      items: [{ message: roomMsg('m1'), originConn: 'a1', recipients: ['carol', 'dave'] }, { message: oneToOne }],
      events: [{ event, to: ['carol'], at: 2 }],
    });
    assert.equal(deliverRequestSchema.safeParse(req).success, true);
  });

  it('weighs an item by the users it names, so that a batch of 1,000 names at most MAX_FORWARD_USERS', () => {
    const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
    const perUnit = MAX_FORWARD_USERS / 1000;
    assert.deepEqual([1, 2, perUnit, perUnit + 1, 10_000].map((n) => forwardSize(out({ message: roomMsg('m') }, users(n)))),
      [1, 1, 1, 2, Math.ceil(10_000 / perUnit)]);
  });

  it('refuses recipients that are not user ids, an empty list, and a room event with a bad member', () => {
    const valid = (body: unknown) => deliverRequestSchema.safeParse(body).success;
    assert.equal(valid({ users: [], items: [{ message: roomMsg('m1'), recipients: [] }] }), false);
    assert.equal(valid({ users: [], items: [{ message: roomMsg('m1'), recipients: ['no spaces'] }] }), false);
    assert.equal(valid({ users: [], items: [], events: [{ event: { ...roomFrame(state), members: ['#r1'] }, to: ['bob'] }] }), false);
  });
});
