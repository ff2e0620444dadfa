/**
 * CI smoke run of the bench tool (not a speed test: no speed assertions): a tiny same-node run on
 * embedded engines through the real CLI, with the peer product and the bare relay after the mesh,
 * then every run's accounting must be consistent.
 */
import { strict as assert } from 'node:assert';
import type { RunResult } from '../src/bench/results.ts';
import { runBenchCli } from './bench-cli.ts';

describe('bench smoke run', function () {
  this.timeout(240_000);

  it('runs a tiny same-node scenario on the mesh, Socket.IO and the relay and reports consistent counts', async () => {
    const { report } = await runBenchCli<{ results: RunResult[] }>(['--scenario', 'same-node', '--conns', '20', '--rate', '200', '--duration', '3', '--peer', 'socketio', '--baseline']);
    assert.deepEqual(report.results.map((r) => r.label), ['mesh', 'socketio', 'baseline']);
    for (const run of report.results) {
      const c = run.counts!;
      assert.equal(run.connections.connected, 20, run.label);
      assert.equal(c.sent, 600, run.label);
      assert.equal(c.sent, c.acked + c.errors + c.unanswered, run.label);
      assert.equal(c.unanswered, 0, run.label);
      assert.ok(c.delivered <= c.acked + c.deliveredWithoutAck, run.label);
      assert.equal(c.lost, 0, run.label);
      assert.equal(c.duplicated, 0, run.label);
      assert.ok(run.sendToDeliver!.count > 0, run.label);
      assert.ok(run.timeline.length > 0, run.label);
      // The per-second timeline accounts for every send and error the totals count.
      assert.equal(run.timeline.reduce((a, t) => a + t.sent, 0), c.sent, run.label);
      assert.equal(run.timeline.reduce((a, t) => a + t.errors, 0), c.errors, run.label);
      assert.ok(run.errorsInWarmup! <= c.errors, run.label);
    }
    // Server CPU is read from each run's own processes: the peer's two servers and its Redis.
    const [, socketio] = report.results;
    assert.deepEqual(Object.keys(socketio!.processes).filter((n) => !n.startsWith('client-')).sort(), ['node-0', 'node-1', 'redis']);
    assert.ok(socketio!.cpuPerMessageUs! > 0);
  });
});
