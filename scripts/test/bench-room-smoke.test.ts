/**
 * Smoke run of the bench's room scenario through the real CLI (no speed assertions): two tiny
 * rooms on a two-node mesh, the second grown past one room_add, then the accounting must hold:
 * every acked message reached every other member once, and the nodes forwarded each message about
 * once per other node, not once per member.
 */
import { strict as assert } from 'node:assert';
import type { RoomResult } from '../src/bench/room-results.ts';
import { runBenchCli } from './bench-cli.ts';

describe('bench room smoke run', function () {
  this.timeout(240_000);

  it('delivers every message of each room to every other member once, one forward per other node at most', async () => {
    const { stdout, report: { results } } = await runBenchCli<{ results: RoomResult[] }>(['--scenario', 'room', '--members', '12,1030', '--rate', '4,2', '--duration', '3', '--grace', '20']);
    assert.match(stdout, /\| forward requests per message \| /);
    assert.deepEqual(results.map((r) => r.members), [12, 1030]);
    for (const r of results) {
      const c = r.counts;
      assert.equal(r.connections.connected, r.members, r.label);
      assert.equal(c.sent, r.offeredRate * 3, r.label);
      assert.equal(c.acked, c.sent, r.label);
      assert.equal(c.owed, c.acked * (r.members - 1), r.label);
      assert.equal(c.missing, 0, r.label);
      assert.equal(c.duplicates, 0, r.label);
      assert.equal(c.delivered, c.owed, r.label);
      assert.equal(r.sendToDeliver.count, c.delivered, `${r.label}: a latency for every recipient`);
      assert.equal(r.otherNodes, 1);
      // One per other node per message, or fewer when messages share a request; a forward retried
      // on a loaded machine counts again, hence the factor 2. One per member would be members / 2 times more.
      assert.ok(r.forwardRequests !== null && r.forwardRequests > 0 && r.forwardRequests <= 2 * c.acked * r.otherNodes,
        `${r.label}: ${r.forwardRequests} forward requests for ${c.acked} messages`);
      assert.ok(r.processes['node-0'] && r.processes['node-1'] && r.processes['sv-persist'], r.label);
    }
  });
});
