import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ROUTES } from '@chat/shared/internal-api';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { startTestRedis, uniqueRedisPrefix } from '@chat/shared/testing/redis';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const SECRET = 'main-test-secret-0123456789';

/** Start main.ts under tsx; resolves with the child and the URL from its `listening` record. */
async function startMain(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', '0'], {
    env: { PATH: process.env['PATH'] ?? '', CLUSTER_SECRET: SECRET, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const record = JSON.parse(line) as { msg?: string; url?: string };
    if (record.msg === 'listening' && record.url) return { child, url: record.url };
  }
  throw new Error(`sv-discover exited (${child.exitCode}) before listening`);
}

for (const mode of ['memory', 'redis'] as const) {
  describe(`sv-discover main.ts (${mode} registry)`, () => {
    it('listens, serves the internal API, and exits 0 on SIGTERM', async () => {
      const env: Record<string, string> = mode === 'redis' ? { REDIS_URL: await startTestRedis(), REDIS_PREFIX: uniqueRedisPrefix('main') } : {};
      const { child, url } = await startMain(env);
      const exited = once(child, 'exit');
      try {
        assert.equal((await fetch(`${url}/readyz`)).status, 200);
        const lease = await fetch(url + ROUTES.discoverLease,
          signedRequest(SECRET, 'POST', url + ROUTES.discoverLease, { nodeId: 'n1', url: 'http://127.0.0.1:3001', ttlMs: 60_000 }));
        assert.deepEqual(await lease.json(), { known: false });
        assert.equal((await fetch(url + ROUTES.discoverLookup, { method: 'POST', body: '{"users":["a"]}' })).status, 401);
      } finally {
        child.kill('SIGTERM');
      }
      const [code, signal] = await exited;
      assert.equal(signal, null);
      assert.equal(code, 0);
    });
  });
}
