import assert from 'node:assert/strict';
import { z } from 'zod';
import { DEV_CLUSTER_SECRET, env, flagsToEnv, parseConfig, resolveClusterSecret } from '../../src/config.ts';

describe('config', () => {
  const schema = z.object({ PORT: env.port(3001), DISCOVER_URL: env.url().default('http://127.0.0.1:3000'), LEASE_MS: env.int(10_000, 1000) });

  it('reads flags over env', () => {
    assert.deepEqual(flagsToEnv(['--port', '3003', '--node-id=n3', '--verbose']), { PORT: '3003', NODE_ID: 'n3', VERBOSE: 'true' });
    assert.equal(parseConfig(schema, { PORT: '1' }, ['--port', '3003']).PORT, 3003);
  });

  it('applies defaults', () => {
    assert.deepEqual(parseConfig(schema, {}), { PORT: 3001, DISCOVER_URL: 'http://127.0.0.1:3000', LEASE_MS: 10_000 });
  });

  it('names every bad variable in one error', () => {
    assert.throws(() => parseConfig(schema, { PORT: 'abc', DISCOVER_URL: 'not a url', LEASE_MS: '5' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CHAT_ERR_CONFIG');
      for (const name of ['PORT', 'DISCOVER_URL', 'LEASE_MS']) assert.match(err.message, new RegExp(name));
      return true;
    });
  });

  it('requires CLUSTER_SECRET in production only', () => {
    assert.equal(resolveClusterSecret({ NODE_ENV: 'development' }), DEV_CLUSTER_SECRET);
    assert.throws(() => resolveClusterSecret({ NODE_ENV: 'production' }), /CLUSTER_SECRET/);
    assert.equal(resolveClusterSecret({ NODE_ENV: 'production', CLUSTER_SECRET: 's'.repeat(20) }), 's'.repeat(20));
  });
});
