import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { checkReadiness, registerReadiness } from '../../src/readiness.ts';
import { createLogger } from '../../src/logger.ts';

describe('readiness', () => {
  it('names every check with its state, and is ready only when all pass', async () => {
    const r = await checkReadiness({
      discovery: async () => undefined,
      log: () => { throw new Error('the producer is disconnected'); },
      store: () => Promise.any([Promise.reject(new Error('a refused')), Promise.reject(new Error('b refused'))]),
      slow: () => new Promise(() => undefined),
    }, 50);
    assert.equal(r.ready, false);
    assert.deepEqual(r.checks, {
      discovery: 'ok',
      log: 'down: the producer is disconnected',
      store: 'down: a refused; b refused',
      slow: 'down: no answer from the slow check within 50 ms',
    });
    assert.deepEqual(await checkReadiness({ a: () => 1, b: async () => 'x' }, 50), { ready: true, checks: { a: 'ok', b: 'ok' } });
  });

  it('serves /readyz: 200 with the checks, 503 with them when any is down', async () => {
    let down = false;
    const app = Fastify();
    registerReadiness(app, { registry: () => { if (down) throw new Error('redis: connection refused'); } }, { logger: createLogger({ service: 't', level: 'silent' }) });
    try {
      const ok = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json(), { ready: true, checks: { registry: 'ok' } });
      down = true;
      const notReady = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(notReady.statusCode, 503);
      assert.deepEqual(notReady.json(), { ready: false, checks: { registry: 'down: redis: connection refused' } });
    } finally {
      await app.close();
    }
  });
});
