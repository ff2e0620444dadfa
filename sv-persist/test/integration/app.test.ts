import assert from 'node:assert/strict';
import { Sequelize, QueryTypes } from 'sequelize';
import { ROUTES, type IngestReply } from '@chat/shared/internal-api';
import { createLogger } from '@chat/shared/logger';
import { withPg } from '@chat/shared/local-postgres';
import { freePort } from '@chat/shared/free-port';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { buildApp } from '../../src/app.ts';
import { BatchWriter } from '../../src/batch-writer.ts';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';
import { createMigratedDatabase, msg } from '../helpers/db.ts';

const SECRET = 'test-cluster-secret-0123456789';
/** An internal request signed with the cluster secret, as InternalClient sends it. */
const signed = (method: 'GET' | 'POST', url: string, payload?: unknown) => signedRequest(SECRET, method, url, payload);
const logger = createLogger({ service: 'sv-persist-test', level: 'silent' });

function setup(url: string) {
  const store = SequelizeMessageStore.connect(url);
  const writer = new BatchWriter(store);
  const app = buildApp({ store, writer, secret: SECRET, logger });
  return { app, store, async close() { await app.close(); await writer.close(); await store.close(); } };
}

describe('sv-persist HTTP', () => {
  let url: string;
  let svc: ReturnType<typeof setup>;
  const count = () => withPg(url, (q) => q<{ n: string }>('SELECT count(*) AS n FROM messages')).then((r) => Number(r[0]!.n));

  before(async () => {
    url = await createMigratedDatabase();
  });
  beforeEach(() => {
    svc = setup(url);
  });
  afterEach(async () => {
    await svc.close();
    await withPg(url, (q) => q('TRUNCATE messages, conversations'));
  });

  it('ingest answers after the commit, with seq in order', async () => {
    const messages = [msg('alice', 'bob', 'i1'), msg('alice', 'bob', 'i2')];
    const blocker = new Sequelize(url, { dialect: 'postgres', logging: false });
    const lock = await blocker.transaction();
    try {
      await blocker.query('LOCK TABLE messages IN EXCLUSIVE MODE', { transaction: lock });
      let answered = false;
      const reply = svc.app.inject(signed('POST', ROUTES.persistIngest, { messages }))
        .then((r) => { answered = true; return r; });
      // Wait (by polling the server, not the clock) until the insert is blocked on our lock.
      for (;;) {
        const waiting = await blocker.query(
          "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO messages%'",
          // Outside the lock's transaction, whose statistics snapshot would never change.
          { type: QueryTypes.SELECT });
        if (waiting.length > 0) break;
      }
      assert.equal(answered, false, 'no answer while the insert cannot commit');
      await lock.commit();
      const res = await reply;
      assert.equal(res.statusCode, 200);
      const body = res.json<IngestReply>();
      assert.deepEqual(body.accepted.map((a) => [a.id, a.duplicate]), messages.map((m) => [m.id, false]));
      assert.ok(body.accepted[1]!.seq > body.accepted[0]!.seq);
      const stored = await withPg(url, (q) => q<{ id: string; seq: string }>('SELECT id, seq FROM messages ORDER BY seq'));
      assert.deepEqual(stored.map((r) => [r.id, Number(r.seq)]), body.accepted.map((a) => [a.id, a.seq]));
    } finally {
      await blocker.close();
    }
  });

  it('ingest of a repeated cid answers with the original', async () => {
    const m = msg('alice', 'bob', 'rep');
    const first = await svc.app.inject(signed('POST', ROUTES.persistIngest, { messages: [m] }));
    const again = await svc.app.inject(signed('POST', ROUTES.persistIngest, { messages: [{ ...m, id: msg('a', 'b', 'x').id }] }));
    assert.deepEqual(again.json<IngestReply>().accepted, [{ ...first.json<IngestReply>().accepted[0]!, duplicate: true, body: m.body }], 'the original, with its stored body');
    assert.equal(await count(), 1);
  });

  it('history and conversations over HTTP', async () => {
    const messages = [msg('alice', 'bob', 'h1'), msg('bob', 'alice', 'h2'), msg('alice', 'carol', 'h3')];
    await svc.app.inject(signed('POST', ROUTES.persistIngest, { messages }));
    const page = await svc.app.inject(signed('GET', `${ROUTES.persistHistory}?user=bob&with=alice&limit=1`));
    assert.equal(page.statusCode, 200);
    assert.deepEqual(page.json().messages.map((x: { cid: string }) => x.cid), ['h2']);
    assert.equal(page.json().more, true);
    const seq = page.json().messages[0].seq as number;
    const older = await svc.app.inject(signed('GET', `${ROUTES.persistHistory}?user=bob&with=alice&before=${seq}`));
    assert.deepEqual(older.json(), { messages: [{ id: messages[0]!.id, seq: seq - 1, cid: 'h1', from: 'alice', to: 'bob', body: 'body h1', ts: messages[0]!.ts }], more: false });
    const convs = await svc.app.inject(signed('GET', `${ROUTES.persistConversations}?user=alice`));
    assert.deepEqual(convs.json().items.map((i: { with: string; last: { cid: string } }) => [i.with, i.last.cid]), [['carol', 'h3'], ['bob', 'h2']]);
  });

  type Req = { method: 'GET' | 'POST'; url: string; payload?: string };
  const tampered: [string, (r: Req) => Record<string, string>][] = [
    ['without the secret', () => ({})],
    ['with a wrong secret', (r) => signedRequest('another-secret-0123456789', r.method, r.url, r.payload).headers],
    ['with a garbage header', () => ({ 'x-cluster-auth': 'x'.repeat(500) })],
    ['signed 60 s ago (replay outside the window)', (r) => signedRequest(SECRET, r.method, r.url, r.payload, Date.now() - 60_000).headers],
    ['signed for another query', (r) => signedRequest(SECRET, r.method, r.url + '&limit=1', r.payload).headers],
    ['signed for another body', (r) => signedRequest(SECRET, r.method, r.url, r.payload === undefined ? '{}' : r.payload.replace('u1', 'u2')).headers],
  ];
  for (const [name, headersFor] of tampered) {
    it(`refuses internal requests ${name} (401), storing nothing`, async () => {
      const requests: Req[] = [
        { method: 'POST', url: ROUTES.persistIngest, payload: JSON.stringify({ messages: [msg('alice', 'bob', 'u1')] }) },
        { method: 'GET', url: `${ROUTES.persistHistory}?user=alice&with=bob` },
        { method: 'GET', url: `${ROUTES.persistConversations}?user=alice` },
      ];
      for (const r of requests) {
        const headers = { ...(r.payload === undefined ? {} : { 'content-type': 'application/json' }), ...headersFor(r) };
        const res = await svc.app.inject({ ...r, headers });
        assert.equal(res.statusCode, 401, r.url);
        assert.equal(res.json().error, 'unauthorized');
      }
      assert.equal(await count(), 0);
    });
  }

  it('refuses a signed request played again (401), storing nothing more', async () => {
    const once = signed('POST', ROUTES.persistIngest, { messages: [msg('alice', 'bob', 'replayed')] });
    assert.equal((await svc.app.inject(once)).statusCode, 200);
    const again = await svc.app.inject(once);
    assert.equal(again.statusCode, 401);
    assert.equal(again.json().error, 'unauthorized');
    assert.equal(await count(), 1);
  });

  it('health needs no secret; readiness reflects the database', async () => {
    assert.equal((await svc.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await svc.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });

  it('bad input: 400 with a message, nothing stored', async () => {
    const good = msg('alice', 'bob', 'ok');
    const bad: unknown[] = [
      {}, { messages: [] }, { messages: [{ ...good, from: 'not a user!' }] }, { messages: [{ ...good, body: '' }] },
      { messages: [good, { ...good, cid: 'c'.repeat(65) }] }, { messages: [{ ...good, ts: -1 }] }, { messages: 'x' },
    ];
    for (const payload of bad) {
      const res = await svc.app.inject(signed('POST', ROUTES.persistIngest, payload));
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json().error, 'bad_request');
      assert.ok(res.json().message.length > 0);
    }
    const raw = await svc.app.inject(signed('POST', ROUTES.persistIngest, '{"messages":['));
    assert.equal(raw.statusCode, 400);
    for (const q of ['user=alice', 'user=alice&with=bob&before=1&after=2', 'user=alice&with=bob&limit=0', 'user=alice&with=bob&before=x']) {
      assert.equal((await svc.app.inject(signed('GET', `${ROUTES.persistHistory}?${q}`))).statusCode, 400, q);
    }
    assert.equal((await svc.app.inject(signed('GET', `${ROUTES.persistConversations}?user=a:b`))).statusCode, 400);
    assert.equal(await count(), 0);
  });
});

describe('sv-persist HTTP with the database down', () => {
  it('ingest and readiness answer 503 with a JSON error', async () => {
    const svc = setup(`postgres://u:p@127.0.0.1:${await freePort()}/x`);
    try {
      const res = await svc.app.inject(signed('POST', ROUTES.persistIngest, { messages: [msg('alice', 'bob', 'down')] }));
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().error, 'unavailable');
      assert.equal((await svc.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    } finally {
      await svc.close();
    }
  });
});
