/**
 * SendLedgerClient, a node's side of the record of sends, against a real sv-discover app (memory
 * ledger) over its sends stream: the SendLedger contract, and settlements riding on the next claims.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '@chat/shared/logger';
import { sendLedgerContract } from '@chat/shared/testing/send-ledger-contract';
import { buildApp } from '../../../sv-discover/src/app.ts';
import { MemoryRegistry } from '../../../sv-discover/src/registry-memory.ts';
import { MemorySendLedger } from '../../../sv-discover/src/send-ledger-memory.ts';
import { SendLedgerClient } from '../../src/send-ledger-client.ts';

const SECRET = 'test-cluster-secret-0123456789';
let requests = 0;

/** sv-discover answers each request with one call of `claim`: counting them counts requests. */
class CountingLedger extends MemorySendLedger {
  override claim(...args: Parameters<MemorySendLedger['claim']>) {
    requests++;
    return super.claim(...args);
  }
}

describe('SendLedgerClient against sv-discover', () => {
  /** One sv-discover per TTL the contract asks for; `requests` counts the requests on the sends stream. */
  const apps = new Map<number, { app: FastifyInstance; url: string }>();

  async function discoverWith(ttlMs: number): Promise<string> {
    const known = apps.get(ttlMs);
    if (known) return known.url;
    const app = buildApp({
      registry: new MemoryRegistry({ sweepIntervalMs: 0 }), sends: new CountingLedger({ ttlMs, maxEntries: 100_000 }),
      secret: SECRET, logger: createLogger({ service: 'test', level: 'silent' }),
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    apps.set(ttlMs, { app, url });
    return url;
  }

  after(async () => {
    for (const { app } of apps.values()) await app.close();
  });

  sendLedgerContract('SendLedgerClient', async (ttlMs) => new SendLedgerClient([await discoverWith(ttlMs)], { secret: SECRET }));

  it('sends settlements with the next claims, or alone once they have waited their linger', async () => {
    const ledger = new SendLedgerClient([await discoverWith(60_000)], { secret: SECRET, settleLingerMs: 10_000 });
    const first = { from: 'alice', cid: 'ride-1', id: 'id-1', ts: 1 };
    await ledger.claim([first]);
    const before = requests;
    const landed = ledger.settle([{ ...first, seq: 7 }]);
    const [held] = await ledger.claim([{ ...first, id: 'id-2' }]);
    await landed;
    assert.equal(requests, before + 1, 'one request carried both');
    assert.deepEqual(held, { id: 'id-1', ts: 1, seq: 7 }, 'the settlement went first');
    const quick = new SendLedgerClient([await discoverWith(60_000)], { secret: SECRET, settleLingerMs: 5 });
    await quick.settle([{ from: 'alice', cid: 'alone-1', id: 'id-3', ts: 3, seq: 9 }]);
    assert.deepEqual(await quick.claim([{ from: 'alice', cid: 'alone-1', id: 'id-4', ts: 4 }]), [{ id: 'id-3', ts: 3, seq: 9 }]);
    await Promise.all([ledger.close(), quick.close()]);
  });
});
