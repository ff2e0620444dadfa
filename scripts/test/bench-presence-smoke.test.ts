/**
 * Smoke run of the bench's presence scenario through the real CLI (no speed assertions): a few
 * dozen watchers and some churn on a two-node mesh, then the accounting must hold together.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PresenceResult } from '../src/bench/presence-load.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'scripts/src/bench/main.ts');

describe('bench presence smoke run', function () {
  this.timeout(240_000);
  let out: string;

  before(async () => { out = await mkdtemp(join(tmpdir(), 'bench-presence-')); });
  after(async () => { await rm(out, { recursive: true, force: true }); });

  it('matches every change frame to a close or open and answers every watch', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', MAIN, '--scenario', 'presence', '--conns', '60', '--rate', '5', '--duration', '4', '--quiet', '--out', out],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
        (err, so, se) => (err ? reject(new Error(`bench failed: ${err.message}\n${se}`)) : resolve(so)));
    });
    assert.match(stdout, /\| change→frame p99 \(ms\) \| /);
    const file = /results: (.+\.json)/.exec(stdout)?.[1];
    assert.ok(file, stdout);
    const { result } = JSON.parse(await readFile(file, 'utf8')) as { result: PresenceResult };
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
