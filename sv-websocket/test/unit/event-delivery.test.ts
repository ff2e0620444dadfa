/** Typing and read events: handed to local connections, and taken from a forward in the order queued. */
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { deliverRequestSchema } from '@chat/shared/internal-api';
import { InternalClient } from '@chat/shared/internal-client';
import { encodeMessageFrame } from '@chat/shared/protocol';
import type { Message } from '@chat/shared/types';
import { MemoryRegistry } from '../../../sv-discover/src/registry-memory.ts';
import { Delivery } from '../../src/delivery.ts';
import { Forwarder } from '../../src/forwarder.ts';
import { LocalConnections } from '../../src/local-connections.ts';
import { LookupCache } from '../../src/lookup-cache.ts';

const silent = pino({ level: 'silent' });
const msg = (id: string): Message => ({ id, seq: 1, cid: id, from: 'alice', to: 'bob', body: 'hi', ts: 1 });
const typing = { type: 'typing' as const, from: 'alice' };

describe('Delivery: events', () => {
  const registry = new MemoryRegistry();
  const client = new InternalClient({ secret: 'x'.repeat(20) });
  after(async () => { await client.close(); await registry.close(); });

  function node() {
    const local = new LocalConnections();
    const delivery = new Delivery('self', local, new LookupCache(registry, { ttlMs: 1000 }), new Forwarder(client, () => {}, silent));
    const socket = (user: string, connId: string) => {
      const got: string[] = [];
      local.add({ user, connId, socket: { sendRaw: (f) => got.push(f) } });
      return got;
    };
    return { delivery, socket };
  }

  it('hands an event to the connections of its users here, except the one it came from', async () => {
    const { delivery, socket } = node();
    const [bob, aliceOther, aliceOrigin, carol] = [socket('bob', 'b1'), socket('alice', 'a2'), socket('alice', 'a1'), socket('carol', 'c1')];
    const read = { type: 'read' as const, by: 'alice', with: 'bob', seq: 7 };
    await delivery.deliverEvent({ event: read, to: ['bob', 'alice'], originConn: 'a1' }, true);
    assert.deepEqual([bob, aliceOther], [[JSON.stringify(read)], [JSON.stringify(read)]]);
    assert.deepEqual([aliceOrigin, carol], [[], []]);
    assert.equal(delivery.parked, 0, 'nobody elsewhere: nothing to retry');
  });

  it('takes the events of a forward in their place among its messages', () => {
    const { delivery, socket } = node();
    const bob = socket('bob', 'b1');
    delivery.receive({
      users: ['bob'],
      items: [{ message: msg('m1') }, { message: msg('m2') }, { message: msg('m3') }],
      events: [{ event: typing, to: ['bob'], at: 0 }, { event: typing, to: ['bob'], at: 2 }, { event: typing, to: ['bob'] }],
    });
    const t = JSON.stringify(typing);
    assert.deepEqual(bob, [t, encodeMessageFrame(msg('m1')), encodeMessageFrame(msg('m2')), t, encodeMessageFrame(msg('m3')), t]);
  });

  it('takes a forward of events alone', () => {
    const { delivery, socket } = node();
    const bob = socket('bob', 'b1');
    const reply = delivery.receive({ users: ['bob', 'dave'], items: [], events: [{ event: typing, to: ['bob'], at: 5 }] });
    assert.deepEqual(bob, [JSON.stringify(typing)]);
    assert.deepEqual(reply.absent, ['dave']);
  });
});

describe('the forward request: events beside messages', () => {
  const valid = (body: unknown) => deliverRequestSchema.safeParse(body).success;

  it('accepts messages alone, events alone, or both, and refuses a forward of nothing', () => {
    assert.equal(valid({ users: [], items: [{ message: msg('m1') }] }), true);
    assert.equal(valid({ users: [], items: [], events: [{ event: typing, to: ['bob'] }] }), true);
    assert.equal(valid({ users: [], items: [{ message: msg('m1') }], events: [{ event: typing, to: ['bob'], at: 1 }] }), true);
    assert.equal(valid({ users: [], items: [] }), false);
    assert.equal(valid({ users: [], items: [], events: [] }), false);
  });

  it('refuses an event that is not a typing or read frame, or has no recipient', () => {
    assert.equal(valid({ users: [], items: [], events: [{ event: { type: 'message', from: 'alice' }, to: ['bob'] }] }), false);
    assert.equal(valid({ users: [], items: [], events: [{ event: { type: 'read', by: 'alice', with: 'bob', seq: -1 }, to: ['bob'] }] }), false);
    assert.equal(valid({ users: [], items: [], events: [{ event: typing, to: [] }] }), false);
    assert.equal(valid({ users: [], items: [], events: [{ event: typing, to: ['b o b'] }] }), false);
  });
});
