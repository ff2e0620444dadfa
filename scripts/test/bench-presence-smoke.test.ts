/**
 * Smoke run of the bench's presence scenario through the real CLI (no speed assertions): a few
 * dozen watchers and some churn on a two-node mesh, then the accounting must hold together.
 */
import { strict as assert } from 'node:assert';
import type { PresenceResult } from '../src/bench/presence-load.ts';
import { runBenchCli } from './bench-cli.ts';

describe('bench presence smoke run', function () {
  this.timeout(240_000);

  it('matches every change frame to a close or open and answers every watch', async () => {
    const { stdout, report: { result } } = await runBenchCli<{ result: PresenceResult }>(['--scenario', 'presence', '--conns', '60', '--rate', '5', '--duration', '4']);
    assert.match(stdout, /\| change→frame p99 \(ms\) \| /);
    const c = result.counts;
    assert.equal(result.connections.connected, 60);
    assert.equal(c.closed, 20);
    assert.equal(c.reopened, 20);
    assert.equal(c.changes, 40);
    assert.equal(c.answers, (60 + 20) * 20, 'every connect and reconnect answered its 20 watched users');
    assert.equal(c.unmatched, 0);
    assert.equal(c.matched, c.frames);
    assert.ok(c.matched > 0 && c.matched <= c.expected + 5, `matched ${c.matched}, expected ${c.expected}`);
    assert.equal(result.latency.count, c.matched);
    assert.ok(result.processes['sv-discover'] && result.processes['node-0'] && result.processes['node-1']);
  });
});
