/**
 * HttpSendLedger, a node's side of the record of sends, against a real sv-discover app (memory
 * ledger) over HTTP: the SendLedger contract, and settlements riding on the next claims.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { InternalClient } from '@chat/shared/internal-client';
import { ROUTES } from '@chat/shared/internal-api';
import { createLogger } from '@chat/shared/logger';
import { sendLedgerContract } from '@chat/shared/testing/send-ledger-contract';
import { buildApp } from '../../../sv-discover/src/app.ts';
import { MemoryRegistry } from '../../../sv-discover/src/registry-memory.ts';
import { MemorySendLedger } from '../../../sv-discover/src/send-ledger-memory.ts';
import { HttpSendLedger } from '../../src/send-ledger-http.ts';

const SECRET = 'test-cluster-secret-0123456789';

describe('HttpSendLedger against sv-discover', () => {
  const client = new InternalClient({ secret: SECRET });
  /** One sv-discover per TTL the contract asks for; `requests` counts POSTs to the sends route. */
  const apps = new Map<number, { app: FastifyInstance; url: string }>();
  let requests = 0;

  async function discoverWith(ttlMs: number): Promise<string> {
    const known = apps.get(ttlMs);
    if (known) return known.url;
    const app = buildApp({
      registry: new MemoryRegistry({ sweepIntervalMs: 0 }), sends: new MemorySendLedger({ ttlMs, maxEntries: 100_000 }),
      secret: SECRET, logger: createLogger({ service: 'test', level: 'silent' }),
    });
    app.addHook('onRequest', async (req) => { if (req.url === ROUTES.discoverSends) requests++; });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    apps.set(ttlMs, { app, url });
    return url;
  }

  after(async () => {
    for (const { app } of apps.values()) await app.close();
    await client.close();
  });

  sendLedgerContract('HttpSendLedger', async (ttlMs) => new HttpSendLedger(client, [await discoverWith(ttlMs)]));

  it('sends settlements with the next claims, or alone once they have waited their linger', async () => {
    const ledger = new HttpSendLedger(client, [await discoverWith(60_000)], { settleLingerMs: 10_000 });
    const first = { from: 'alice', cid: 'ride-1', id: 'id-1', ts: 1 };
    await ledger.claim([first]);
    const before = requests;
    const landed = ledger.settle([{ ...first, seq: 7 }]);
    const [held] = await ledger.claim([{ ...first, id: 'id-2' }]);
    await landed;
    assert.equal(requests, before + 1, 'one request carried both');
    assert.deepEqual(held, { id: 'id-1', ts: 1, seq: 7 }, 'the settlement went first');
    const quick = new HttpSendLedger(client, [await discoverWith(60_000)], { settleLingerMs: 5 });
    await quick.settle([{ from: 'alice', cid: 'alone-1', id: 'id-3', ts: 3, seq: 9 }]);
    assert.deepEqual(await quick.claim([{ from: 'alice', cid: 'alone-1', id: 'id-4', ts: 4 }]), [{ id: 'id-3', ts: 3, seq: 9 }]);
    await Promise.all([ledger.close(), quick.close()]);
  });
});
