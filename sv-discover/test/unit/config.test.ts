import assert from 'node:assert/strict';
import { DEV_CLUSTER_SECRET } from '@chat/shared/config';
import { loadConfig } from '../../src/config.ts';

describe('sv-discover config', () => {
  it('has working defaults with nothing set', () => {
    assert.deepEqual(loadConfig({}, []), {
      port: 3000, host: '127.0.0.1', redisUrl: undefined, redisPrefix: 'chat:', leaseSweepMs: 500, leaseMs: 10_000, logLevel: 'info', clusterSecret: DEV_CLUSTER_SECRET,
      sendDedupeTtlMs: 86_400_000, sendDedupeMaxEntries: 1_000_000,
    });
  });

  it('reads variables and lets flags override them', () => {
    const c = loadConfig({ PORT: '4000', REDIS_URL: 'redis://127.0.0.1:6380', REDIS_PREFIX: 'x:', CLUSTER_SECRET: 's'.repeat(16) }, ['--port', '4001']);
    assert.equal(c.port, 4001);
    assert.equal(c.redisUrl, 'redis://127.0.0.1:6380');
    assert.equal(c.redisPrefix, 'x:');
    assert.equal(loadConfig({ LEASE_SWEEP_MS: '250' }, []).leaseSweepMs, 250);
    assert.equal(c.clusterSecret, 's'.repeat(16));
  });

  it('reports every bad variable in one error', () => {
    const bad = { PORT: 'abc', REDIS_URL: 'not a url', LOG_LEVEL: 'loud', LEASE_SWEEP_MS: '0', SEND_DEDUPE_TTL_MS: '10', SEND_DEDUPE_MAX_ENTRIES: '0' };
    assert.throws(() => loadConfig(bad, []), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CHAT_ERR_CONFIG');
      for (const name of Object.keys(bad)) assert.match(err.message, new RegExp(name));
      return true;
    });
  });

  it('requires CLUSTER_SECRET in production', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }, []), /CLUSTER_SECRET/);
  });
});
