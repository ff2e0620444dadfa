/**
 * SIGKILL of a node under load (the product's promises: an acked message is never lost; a recipient
 * gets every message, live or through `history`). Clients use the client library: the killed
 * node's clients reconnect elsewhere with full-jitter backoff, resend what was not acked with the
 * same cid, and catch up with `history after`.
 */
import assert from 'node:assert/strict';
import type { Ack } from '@chat/shared/protocol';
import { eventually } from '@chat/shared/testing/eventually';
import { startMesh, uniqueUser, type Mesh } from '../helpers/mesh.ts';
import { expectStoredExactlyOnce, type AckedMessage } from '../helpers/stored.ts';
import { RecordingClient } from '../helpers/recording-client.ts';

const NODE = { LEASE_MS: '2000', RATE_LIMIT_BURST: '1000' };
const PER_SENDER = 40;

describe('faults: SIGKILL of a node under load', function () {
  this.timeout(120_000);
  let mesh: Mesh;
  const clients: RecordingClient[] = [];

  before(async function () {
    this.timeout(180_000);
    mesh = await startMesh({ nodes: [NODE, NODE, NODE] });
  });
  after(async () => {
    for (const c of clients.splice(0)) c.close();
    await mesh?.stop();
  });

  it('loses no acked message; its clients reconnect, resend and catch up, every recipient ends complete', async () => {
    const users = Array.from({ length: 6 }, (_, i) => uniqueUser(`k${i}`));
    const urls = mesh.nodes.map((n) => n.url);
    for (const [i, u] of users.entries()) clients.push(new RecordingClient(u, { urls, first: i % 3 }));
    await Promise.all(clients.map((c) => c.start()));
    const victims = clients.filter((c) => c.currentNode === 'node-2');
    assert.equal(victims.length, 2);

    const acked: (AckedMessage & { to: string })[] = [];
    const record = (from: string, to: string, a: Ack) => acked.push({ from, to, cid: a.cid, id: a.id, seq: a.seq });
    const load = Promise.all(clients.map(async (c, i) => {
      for (let k = 0; k < PER_SENDER; k++) {
        const to = users[(i + 1 + (k % 5)) % users.length]!;
        record(c.user, to, await c.send(to, `load ${k} from ${c.user}`, `nk-${k}`));
      }
    }));
    await eventually('a third of the load acked', () => acked.length >= (PER_SENDER * users.length) / 3);
    await mesh.nodes[2]!.stop('SIGKILL');
    await load;
    assert.equal(mesh.nodes[2]!.child.signalCode, 'SIGKILL', 'the node really died');
    assert.equal(acked.length, PER_SENDER * users.length, 'every send was acked in the end');
    for (const v of victims) {
      assert.ok(v.welcomes.length >= 2, `${v.user} reconnected`);
      assert.notEqual(v.currentNode, 'node-2');
    }

    // Durable: every acked (sender, cid) is in Postgres exactly once, with the acked id and seq.
    await expectStoredExactlyOnce(mesh.databaseUrl, acked);

    // Live + catch-up: a recipient misses live only messages whose sender went through the killed
    // node (acked, or committed, before it could forward them); everything else arrives.
    await Promise.all(clients.map((c) => c.connected()));
    const byUser = new Map(clients.map((c) => [c.user, c]));
    const throughKilled = new Set(acked.filter((a) => byUser.get(a.from)!.sentThrough.get(a.cid)?.has('node-2')).map((a) => a.id));
    const missingLive = () => acked.filter((a) => !byUser.get(a.to)!.received.has(a.id));
    await eventually('every message not sent through the killed node delivered live or caught up',
      () => missingLive().every((a) => throughKilled.has(a.id)));
    for (const a of acked) {
      const got = byUser.get(a.to)!.received.get(a.id);
      if (got) assert.deepEqual([got.seq, got.from, got.cid], [a.seq, a.from, a.cid], 'a received message is the acked one');
    }

    // A reload (history from the start) completes every recipient, once per id.
    await Promise.all(clients.map((c) => c.reload()));
    assert.deepEqual(missingLive(), []);
    for (const c of clients) {
      const mine = acked.filter((a) => a.to === c.user).map((a) => a.id).sort();
      assert.deepEqual(c.messagesToMe().map((m) => m.id).sort(), mine, `${c.user} has each message addressed to it once`);
    }
  });
});
