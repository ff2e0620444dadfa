/** sv-discover's record of sends over HTTP and its stream: settle then claim in one request, signed, validated, counted. */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '@chat/shared/logger';
import { ROUTES, type SendsReply } from '@chat/shared/internal-api';
import type { WebSocket } from 'ws';
import { openRawSocket, signedRequest } from '@chat/shared/testing/internal-requests';
import { buildApp } from '../../src/app.ts';
import { ChangeFeed } from '../../src/change-feed.ts';
import { MemoryRegistry } from '../../src/registry-memory.ts';
import { MemorySendLedger } from '../../src/send-ledger-memory.ts';

const SECRET = 'test-cluster-secret-0123456789';
const claim = (cid: string, id = `id-${cid}`) => ({ from: 'alice', cid, id, ts: 1_764_150_000_000 });

describe('sv-discover record of sends route', () => {
  let app: FastifyInstance;
  let ledger: MemorySendLedger;
  const post = (body: unknown) => app.inject(signedRequest(SECRET, 'POST', ROUTES.discoverSends, body));

  beforeEach(async () => {
    ledger = new MemorySendLedger({ ttlMs: 60_000, maxEntries: 2 });
    app = buildApp({ registry: new MemoryRegistry({ sweepIntervalMs: 0 }), sends: ledger, secret: SECRET, logger: createLogger({ service: 'test', level: 'silent' }) });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
  });

  it('claims, then answers the record held, with the seq a settlement in the same request brought', async () => {
    const first = claim('c1');
    let res = await post({ settle: [], claim: [first] });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json<SendsReply>(), { records: [null] });
    res = await post({ settle: [{ ...first, seq: 42 }], claim: [claim('c1', 'another-id')] });
    assert.deepEqual(res.json<SendsReply>(), { records: [{ id: first.id, ts: first.ts, seq: 42 }] });
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /^chat_discover_send_claims_total 2$/m);
    assert.match(metrics, /^chat_discover_send_repeats_total 1$/m);
  });

  it('counts the records the memory ledger drops for room', async () => {
    await post({ settle: [], claim: [claim('a'), claim('bb'), claim('ccc')] });
    assert.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /^chat_discover_send_records_evicted_total 1$/m);
  });

  it('refuses an unsigned request, claiming nothing', async () => {
    const res = await app.inject({ method: 'POST', url: ROUTES.discoverSends, payload: { settle: [], claim: [claim('c1')] } });
    assert.equal(res.statusCode, 401);
    assert.equal(ledger.size, 0);
  });

  const bad: [string, unknown][] = [
    ['no settle list', { claim: [claim('c1')] }],
    ['a bad sender', { settle: [], claim: [claim('c1'), { ...claim('c2'), from: 'no spaces' }] }],
    ['an empty cid', { settle: [], claim: [claim('c1'), claim('')] }],
    ['a NUL in a cid', { settle: [], claim: [claim('c1'), claim('a\u0000b')] }],
    ['a negative seq', { settle: [{ ...claim('c1'), seq: -1 }], claim: [] }],
    ['a ts that is not an integer', { settle: [], claim: [{ ...claim('c1'), ts: 1.5 }] }],
    ['a list', []],
  ];
  for (const [what, body] of bad) {
    it(`answers 400 to a body with ${what}, changing nothing`, async () => {
      const res = await post(body);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json<{ error: string }>().error, 'bad_request');
      assert.equal(ledger.size, 0);
    });
  }
});

describe('sv-discover sends stream', () => {
  let app: FastifyInstance;
  let ledger: MemorySendLedger;
  let wsBase: string;

  before(async () => {
    ledger = new MemorySendLedger({ ttlMs: 60_000, maxEntries: 100 });
    const logger = createLogger({ service: 'test', level: 'silent' });
    // With the change feed too, as sv-discover runs: two WebSocket endpoints on one server.
    app = buildApp({ registry: new MemoryRegistry({ sweepIntervalMs: 0 }), sends: ledger, feed: new ChangeFeed(logger), secret: SECRET, logger });
    wsBase = (await app.listen({ port: 0, host: '127.0.0.1' })).replace(/^http/, 'ws');
  });
  after(async () => {
    await app.close();
  });

  /** The next frame the socket receives, parsed. */
  const nextFrame = (ws: WebSocket) => new Promise<Record<string, unknown>>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()) as Record<string, unknown>)));

  it('answers numbered frames, and a bad one with bad_request, claiming nothing for it', async () => {
    const path = ROUTES.discoverSendsStream;
    const ws = await openRawSocket(wsBase + path, signedRequest(SECRET, 'GET', path).headers);
    try {
      ws.send(JSON.stringify({ n: 0, settle: [], claim: [claim('s1')] }));
      assert.deepEqual(await nextFrame(ws), { n: 0, records: [null] });
      ws.send(JSON.stringify({ n: 1, settle: [], claim: [claim('s2'), { ...claim('s3'), from: 'no spaces' }] }));
      const refused = await nextFrame(ws);
      assert.equal(refused['n'], 1);
      assert.equal(refused['error'], 'bad_request');
      ws.send(JSON.stringify({ n: 2, settle: [], claim: [claim('s2', 'later')] }));
      assert.deepEqual(await nextFrame(ws), { n: 2, records: [null] }, 's2 was not claimed by the refused frame');
    } finally {
      ws.close();
    }
  });

  it('refuses an unsigned upgrade, and ends an upgrade to a path nobody serves', async () => {
    await assert.rejects(openRawSocket(wsBase + ROUTES.discoverSendsStream, {}), /status 401/);
    const nowhere = '/internal/v1/nowhere';
    await assert.rejects(openRawSocket(wsBase + nowhere, signedRequest(SECRET, 'GET', nowhere).headers), /socket hang up|ECONNRESET/);
  });
});
