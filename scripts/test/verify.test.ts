/**
 * CI pass of `npm run verify -- --local`: a short run in each log mode, through the real CLI, with
 * the faults injected. It must pass (exit 0), have counted acked messages, find none lost,
 * duplicated, out of order or mismatched, and have injected every fault and seen its service ready
 * again. No durations are asserted: recovery times are reported, not judged.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VerifyResult } from '../src/verify/result.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'scripts/src/verify/main.ts');

function verify(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

const MODES = [
  { name: 'direct mode', args: [], faults: ['node-kill', 'node-stop', 'persist-kill', 'discover-kill'] },
  { name: 'Kafka mode', args: ['--kafka'], faults: ['node-kill', 'node-stop', 'persist-kill', 'discover-kill'] },
];

describe('npm run verify -- --local', function () {
  this.timeout(300_000);
  let dir: string;

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'verify-test-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  for (const mode of MODES) {
    it(`passes a short run with faults in ${mode.name}`, async () => {
      const json = join(dir, `${mode.name.replace(/\W+/g, '-')}.json`);
      const run = await verify(['--local', '--seconds', '20', '--rate', '100', '--json', json, ...mode.args]);
      assert.equal(run.code, 0, `verify failed:\n${run.stdout}\n${run.stderr}`);
      const result = JSON.parse(await readFile(json, 'utf8')) as VerifyResult;
      const c = result.counts;
      assert.ok(c.acked > 0, 'acked messages were counted');
      assert.deepEqual([c.lost, c.duplicated, c.outOfOrder, c.mismatched, c.unknown], [0, 0, 0, 0, 0], run.stdout);
      assert.equal(c.historyRows, c.acked + c.unackedStored, 'history holds exactly what was acked (and what was stored without its ack arriving)');
      assert.deepEqual(result.faults.map((f) => f.kind), mode.faults, 'every fault of the schedule is in the report');
      for (const f of result.faults) {
        assert.ok(f.at !== undefined, `${f.what} was injected: ${f.problem}`);
        assert.ok(f.readyAt !== undefined, `${f.target} was ready again: ${f.problem}`);
      }
      assert.match(run.stdout, /PASS: every acked message is in history once/);
    });
  }
});
