/**
 * The forwarder and delivery under failure, in one process: a peer nobody listens for, a
 * discovery that does not answer, and a recording forwarder in place of the network.
 */
import assert from 'node:assert/strict';
import { InternalClient } from '@chat/shared/internal-client';
import { createLogger } from '@chat/shared/logger';
import { eventually } from '@chat/shared/testing/eventually';
import { freePort } from '@chat/shared/free-port';
import type { Message, NodeInfo } from '@chat/shared/types';
import { MemoryRegistry } from '../../../sv-discover/src/registry-memory.ts';
import { Delivery } from '../../src/delivery.ts';
import { Forwarder, type DeliverItem } from '../../src/forwarder.ts';
import { LocalConnections } from '../../src/local-connections.ts';
import { LookupCache } from '../../src/lookup-cache.ts';
import { recordingForwarder, registryWith } from '../helpers/delivery-fakes.ts';

const silent = createLogger({ service: 'test', level: 'silent' });
const SECRET = 'x'.repeat(20);
const msg = (id: string): Message => ({ id, seq: 1, cid: id, from: 'alice', to: 'bob', body: 'hi', ts: 1 });

describe('Forwarder: a peer that does not answer', () => {
  it('marks it down after the first failed forward and holds the next ones without a request, until the probe', async () => {
    const down: string[] = [];
    const forwarder = new Forwarder(new InternalClient({ secret: SECRET }), () => undefined, silent, { secret: SECRET },
      { onPeerDown: (node) => down.push(node), breaker: { firstDelayMs: 200, maxDelayMs: 200 } });
    try {
      const dead: NodeInfo = { nodeId: 'dead', url: `http://127.0.0.1:${await freePort()}` };
      const item = (id: string): DeliverItem => ({ message: msg(id) });
      assert.deepEqual(await forwarder.forward(dead, item('m0'), ['bob']), { reached: false, absent: [] });
      assert.deepEqual(down, ['dead'], 'marked down once');
      assert.equal(forwarder.peersDown, 1);
      const held = await Promise.all(Array.from({ length: 50 }, (_, i) => forwarder.forward(dead, item(`m${i + 1}`), ['bob'])));
      assert.ok(held.every((r) => !r.reached));
      assert.deepEqual([forwarder.stats.failures, forwarder.stats.held, forwarder.stats.batches], [1, 50, 1], 'one request, the rest held');
      await new Promise((r) => setTimeout(r, 250)); // past the probe delay
      await forwarder.forward(dead, item('probe'), ['bob']);
      assert.deepEqual([forwarder.stats.failures, forwarder.stats.batches], [2, 2], 'the probe went out and failed');
      assert.deepEqual(down, ['dead'], 'a failed probe does not mark it down again');
    } finally {
      forwarder.close();
    }
  });
});

describe('Delivery: retries of remote deliveries that failed', () => {
  it('parks a delivery whose lookup failed and delivers it once discovery answers, without counting it as pending', async () => {
    const registry = await registryWith([['bob', 'n1'], ['alice', 'self']]);
    let discoveryUp = false;
    const flaky = Object.assign(Object.create(registry) as MemoryRegistry, {
      lookup: (users: string[]) => discoveryUp ? registry.lookup(users) : Promise.reject(new Error('discovery down')),
    });
    const { sent, forwarder } = recordingForwarder(() => ({ reached: true, absent: [] }));
    const delivery = new Delivery('self', new LocalConnections(), new LookupCache(flaky, { ttlMs: 1000 }), forwarder, { maxPending: 1, retryMs: 60_000 });
    await delivery.deliver(msg('m1'));
    assert.deepEqual(sent, []);
    assert.equal(delivery.parked, 1);
    assert.deepEqual([delivery.pending, delivery.saturated], [0, false], 'a parked delivery does not hold the door shut');
    discoveryUp = true;
    await eventually('nothing left parked', () => delivery.parked === 0, 10_000);
    assert.deepEqual(sent, [{ node: 'n1', id: 'm1', users: ['bob'] }]);
    await delivery.idle();
    await registry.close();
  });

  it('retries a forward that did not get through until it does, and not to a node that took the message', async () => {
    const registry = await registryWith([['bob', 'n1'], ['bob', 'n2']]);
    let n1Up = false;
    const { sent, forwarder } = recordingForwarder((node) => node.nodeId === 'n1' && !n1Up ? { reached: false, absent: [] } : { reached: true, absent: [] });
    const delivery = new Delivery('self', new LocalConnections(), new LookupCache(registry, { ttlMs: 60_000 }), forwarder, { retryMs: 60_000 });
    await delivery.deliver(msg('m1'));
    assert.deepEqual(sent.map((s) => s.node).sort(), ['n1', 'n2']);
    assert.equal(delivery.parked, 1);
    n1Up = true;
    await eventually('nothing left parked', () => delivery.parked === 0, 10_000);
    assert.deepEqual(sent.slice(2).map((s) => s.node), ['n1'], 'n2 took it the first time: not sent there again');
    await delivery.idle();
    await registry.close();
  });

  it('is bounded by maxParked, and gives up what is parked on shutdown at once', async () => {
    const registry = await registryWith([['bob', 'n1']]);
    const { forwarder } = recordingForwarder(() => ({ reached: false, absent: [] }));
    const delivery = new Delivery('self', new LocalConnections(), new LookupCache(registry, { ttlMs: 60_000 }), forwarder, { retryMs: 600_000, maxParked: 3 });
    for (let i = 0; i < 5; i++) await delivery.deliver(msg(`m${i}`));
    assert.equal(delivery.parked, 3);
    assert.equal(delivery.retriesDropped.full, 2);
    await delivery.idle();
    assert.equal(delivery.parked, 0);
    assert.equal(delivery.retriesDropped.shutdown, 3);
    await registry.close();
  });
});
