/** The room scenario's accounting and table, from hand-made worker finals (no mesh). */
import { strict as assert } from 'node:assert';
import { encodeHist, newHist } from '../src/bench/hist.ts';
import type { RoomFinal } from '../src/bench/room-protocol.ts';
import { roomTable } from '../src/bench/room-report.ts';
import { roomAccounting, summarizeRoom } from '../src/bench/room-results.ts';

const empty = encodeHist(newHist());

/** A worker's final: its own messages' answers, and per source worker how many of its members got each message. */
function final(answers: number[], received: number[][], counts: Partial<RoomFinal['counts']> = {}): RoomFinal {
  return {
    type: 'final',
    counts: { sent: answers.length, acked: 0, errors: 0, delivered: 0, duplicates: 0, unknown: 0, dropped: 0, ...counts },
    errorCodes: {}, ackHist: empty, deliverHist: empty,
    answers: Uint8Array.from(answers), received: received.map((r) => Uint16Array.from(r)), seconds: [],
  };
}

describe('bench room accounting', () => {
  // Four members over two workers: every acked message is owed to the three members but its sender.
  const finals = [
    final([1, 1, 2], [[2, 1, 0], [1, 2]], { delivered: 6, duplicates: 1 }),
    final([1, 0], [[1, 1, 0], [2, 2]], { delivered: 6, dropped: 1 }),
  ];

  it('owes each acked message to every other member and counts what never came', () => {
    const c = roomAccounting(finals, 4);
    assert.equal(c.sent, 5);
    assert.equal(c.acked, 3);
    assert.equal(c.errors, 1);
    assert.equal(c.unanswered, 1);
    assert.equal(c.owed, 9);
    // worker 0's first message reached 3 members, its second 2; worker 1's first 3.
    assert.equal(c.missing, 1);
    assert.equal(c.delivered, 12);
    assert.equal(c.duplicates, 1);
    assert.equal(c.dropped, 1);
  });

  it('reports forward requests per acked message beside the number of other nodes, and puts each phase in a column', () => {
    const sample = { t: 0, procs: { 'node-0': { cpuSec: 1, rssBytes: 2 ** 20, pids: 1 } }, services: {} };
    const later = { t: 2000, procs: { 'node-0': { cpuSec: 2, rssBytes: 2 ** 21, pids: 1 } }, services: {} };
    const r = summarizeRoom({
      label: 'room of 4', members: 4, nodes: 3, rate: 2, warmupS: 0, durationS: 2, windowS: 2,
      connections: { requested: 4, connected: 4, failed: 0, connectSeconds: 0.1 }, finals, seconds: [],
      before: sample, after: later, samples: [sample, later], forwardsBefore: 10, forwardsAfter: 16,
    });
    assert.equal(r.forwardRequests, 6);
    assert.equal(r.forwardRequestsPerMessage, 2);
    assert.equal(r.otherNodes, 2);
    assert.equal(r.processes['node-0']!.cpuPct, 50);
    const table = roomTable([r, { ...r, label: 'room of 8', members: 8 }]);
    assert.match(table, /^\| metric \| room of 4 \| room of 8 \|$/m);
    assert.match(table, /^\| forward requests per message \| 2 \| 2 \|$/m);
    assert.match(table, /^\| missing \| 1 \| 1 \|$/m);
    assert.match(table, /^\| node-0 CPU \(%\) \| 50 \| 50 \|$/m);
  });

  it('leaves forward requests unknown when a node did not report them', () => {
    const sample = { t: 0, procs: {}, services: {} };
    const r = summarizeRoom({
      label: 'room', members: 4, nodes: 2, rate: 1, warmupS: 0, durationS: 1, windowS: 1,
      connections: { requested: 4, connected: 4, failed: 0, connectSeconds: 0 }, finals, seconds: [],
      before: sample, after: sample, samples: [], forwardsBefore: undefined, forwardsAfter: 3,
    });
    assert.equal(r.forwardRequests, null);
    assert.equal(r.forwardRequestsPerMessage, null);
  });
});
