import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import { ROUTES, type IngestFrameReply } from '@chat/shared/internal-api';
import { IngestStreamClient } from '@chat/shared/ingest-stream-client';
import { internalAuthHeaders } from '@chat/shared/internal-auth';
import { openRawSocket } from '@chat/shared/testing/internal-requests';
import { createLogger } from '@chat/shared/logger';
import { withPg } from '@chat/shared/local-postgres';
import { freePort } from '@chat/shared/free-port';
import { buildApp } from '../../src/app.ts';
import { BatchWriter } from '../../src/batch-writer.ts';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';
import { createMigratedDatabase, msg } from '../helpers/db.ts';

const SECRET = 'test-cluster-secret-0123456789';
const logger = createLogger({ service: 'sv-persist-test', level: 'silent' });

async function start(databaseUrl: string, port?: number) {
  const store = SequelizeMessageStore.connect(databaseUrl);
  const writer = new BatchWriter(store);
  const app = buildApp({ store, writer, secret: SECRET, logger });
  port ??= await freePort();
  await app.listen({ port, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;
  return { url, port, wsUrl: `ws://127.0.0.1:${port}${ROUTES.persistIngestStream}`, async close() { await app.close(); await store.close(); } };
}

const connect = openRawSocket;

const signedUpgrade = (secret = SECRET) => internalAuthHeaders(secret, { method: 'GET', path: ROUTES.persistIngestStream });

/** The next answers on `ws`. */
function answers(ws: WebSocket, count: number): Promise<IngestFrameReply[]> {
  return new Promise((resolve) => {
    const got: IngestFrameReply[] = [];
    const on = (data: Buffer) => {
      got.push(JSON.parse(data.toString()) as IngestFrameReply);
      if (got.length === count) { ws.off('message', on); resolve(got); }
    };
    ws.on('message', on);
  });
}

const closeOf = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

describe('sv-persist ingest stream', () => {
  let databaseUrl: string;
  let svc: Awaited<ReturnType<typeof start>>;
  const stored = () => withPg(databaseUrl, (q) => q<{ cid: string; seq: string }>('SELECT cid, seq FROM messages ORDER BY seq'));

  before(async () => {
    databaseUrl = await createMigratedDatabase();
  });
  beforeEach(async () => {
    svc = await start(databaseUrl);
  });
  afterEach(async () => {
    await svc.close();
    await withPg(databaseUrl, (q) => q('TRUNCATE messages, conversations'));
  });

  it('writes frames in the order they were sent, several in flight, each answered after its commit', async () => {
    const client = new IngestStreamClient({ persistUrl: svc.url, secret: SECRET });
    try {
      // Twenty frames sent at once, before the socket is even open: all wait in order.
      const batches = Array.from({ length: 20 }, (_, i) => [msg('alice', 'bob', `f${i}a`), msg('alice', 'bob', `f${i}b`)]);
      const results = await Promise.all(batches.map((b) => client.write(b)));
      const seqs = results.flat().map((r) => r.seq);
      assert.equal(seqs.length, 40);
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}`);
      const rows = await stored();
      assert.deepEqual(rows.map((r) => r.cid), batches.flat().map((m) => m.cid), 'stored in the order sent');
      assert.deepEqual(rows.map((r) => Number(r.seq)), seqs, 'each answer is its own batch’s commit');
    } finally {
      client.close();
    }
  });

  it('answers a repeated (sender, cid) with the stored message, not a second row', async () => {
    const client = new IngestStreamClient({ persistUrl: svc.url, secret: SECRET });
    try {
      const first = msg('alice', 'bob', 'once');
      const [a] = await client.write([first]);
      const [b] = await client.write([{ ...msg('alice', 'bob', 'once'), id: msg('x', 'y', 'z').id }]);
      assert.equal(b!.id, a!.id);
      assert.equal(b!.duplicate, true);
      assert.equal((await stored()).length, 1);
    } finally {
      client.close();
    }
  });

  it('refuses an upgrade without the cluster secret, with a wrong one, or played again', async () => {
    await assert.rejects(connect(svc.wsUrl, {}), /status 401/);
    await assert.rejects(connect(svc.wsUrl, signedUpgrade('another-secret-0123456789')), /status 401/);
    const headers = signedUpgrade();
    const ws = await connect(svc.wsUrl, headers);
    ws.close();
    await assert.rejects(connect(svc.wsUrl, headers), /status 401/, 'a captured upgrade cannot be replayed');
    const client = new IngestStreamClient({ persistUrl: svc.url, secret: 'another-secret-0123456789' });
    try {
      await assert.rejects(client.write([msg('mallory', 'bob', 'forged')]), /refused the ingest stream with 401/);
    } finally {
      client.close();
    }
    assert.equal((await stored()).length, 0);
  });

  it('answers an invalid frame with bad_request and keeps serving; closes on frames it cannot answer', async () => {
    const ws = await connect(svc.wsUrl, signedUpgrade());
    const replies = answers(ws, 2);
    ws.send(JSON.stringify({ n: 1, messages: [{ id: 'x', from: 'alice' }] }));
    ws.send(JSON.stringify({ n: 2, messages: [msg('alice', 'bob', 'good')] }));
    const [bad, good] = await replies;
    assert.equal(bad!.n, 1);
    assert.ok('error' in bad! && bad.error === 'bad_request', JSON.stringify(bad));
    assert.ok(good && 'accepted' in good && good.accepted.length === 1, JSON.stringify(good));
    const notJson = closeOf(ws);
    ws.send('{"n": 3, "messages": [');
    assert.equal(await notJson, 1007);

    const ws2 = await connect(svc.wsUrl, signedUpgrade());
    const noNumber = closeOf(ws2);
    ws2.send(JSON.stringify({ messages: [msg('alice', 'bob', 'unnumbered')] }));
    assert.equal(await noNumber, 1008);
    assert.deepEqual((await stored()).map((r) => r.cid), ['good']);
  });

  it('a client refuses at once while sv-persist is unreachable, then reconnects', async () => {
    const client = new IngestStreamClient({ persistUrl: svc.url, secret: SECRET, retryMs: 200 });
    try {
      await client.write([msg('alice', 'bob', 'before')]);
      await svc.close();
      await assert.rejects(client.write([msg('alice', 'bob', 'down')]), /ingest stream/);
      await assert.rejects(client.write([msg('alice', 'bob', 'down2')]), /unreachable just now/, 'no new connect within retryMs');
      svc = await start(databaseUrl, svc.port);
      // Lets retryMs (200) run out on purpose: until then the client refuses without trying (above).
      await new Promise((r) => setTimeout(r, 250));
      const [after] = await client.write([msg('alice', 'bob', 'after')]);
      assert.equal(after!.duplicate, false);
      assert.deepEqual((await stored()).map((r) => r.cid), ['before', 'after']);
    } finally {
      client.close();
    }
  });
});
