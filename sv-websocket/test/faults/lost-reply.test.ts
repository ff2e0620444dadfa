/**
 * Direct mode, a committed write whose reply was lost: the node that took the first attempt
 * stored it and died before acking or delivering it. The client resends the same cid on another
 * node: it is acked with the original id, seq and ts, and this time delivered live (as stored),
 * so a recipient who never disconnected gets it without a reload.
 */
import assert from 'node:assert/strict';
import { newId } from '@chat/shared/ids';
import { ROUTES, type IngestReply } from '@chat/shared/internal-api';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { meshSuite } from '../helpers/mesh-suite.ts';
import { startMesh, TEST_SECRET, uniqueUser } from '../helpers/mesh.ts';

describe('faults: a committed send whose reply was lost', function () {
  this.timeout(90_000);
  const suite = meshSuite(() => startMesh({ nodes: [{}, {}] }));

  it('a retry of the same cid on another node is acked as the original and delivered live, as stored', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const bob = await suite.connect(1, b);
    // What the first node wrote before it died: committed, never acked, never delivered.
    const first = { id: newId(), from: a, to: b, cid: 'lost-reply', body: 'sent once', ts: Date.now() };
    const url = `${suite.mesh.persist.url}${ROUTES.persistIngest}`;
    const res = await fetch(url, signedRequest(TEST_SECRET, 'POST', url, { messages: [first] }));
    assert.equal(res.status, 200);
    const [stored] = (await res.json() as IngestReply).accepted;

    const alice = await suite.connect(0, a);
    const delivered = bob.next('message', (m) => m.cid === 'lost-reply');
    const ack = await alice.sendMessage(b, 'sent once', 'lost-reply');
    assert.deepEqual([ack.id, ack.seq, ack.ts], [first.id, stored!.seq, first.ts]);
    const live = await delivered;
    assert.deepEqual([live.id, live.seq, live.body, live.from], [first.id, stored!.seq, 'sent once', a]);
  });
});
