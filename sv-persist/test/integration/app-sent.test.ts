/** sv-persist's lookup of stored messages by (from, cid), which nodes use to resolve a repeated cid (Kafka mode). */
import assert from 'node:assert/strict';
import { createLogger } from '@chat/shared/logger';
import { ROUTES, type SentReply } from '@chat/shared/internal-api';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { buildApp } from '../../src/app.ts';
import { BatchWriter } from '../../src/batch-writer.ts';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';
import { createMigratedDatabase, msg } from '../helpers/db.ts';

const SECRET = 'test-cluster-secret-0123456789';

describe('sv-persist stored sends lookup', () => {
  let store: SequelizeMessageStore;
  let writer: BatchWriter;
  let app: ReturnType<typeof buildApp>;
  const post = (body: unknown) => app.inject(signedRequest(SECRET, 'POST', ROUTES.persistSent, body));

  before(async () => {
    store = SequelizeMessageStore.connect(await createMigratedDatabase());
    writer = new BatchWriter(store);
    // Kafka mode's app (no ingest route): that is where nodes ask.
    app = buildApp({ store, writer, secret: SECRET, logger: createLogger({ service: 't', level: 'silent' }), ingest: false });
  });
  after(async () => {
    await app.close();
    await writer.close();
    await store.close();
  });

  it('answers each (from, cid) in order with its stored id, seq and ts, or null', async () => {
    const [first, second] = [msg('alice', 'bob', 'k1'), msg('bob', 'alice', 'k1')];
    await store.insertLogged([{ ...first, seq: 2 ** 40 + 5 }, { ...second, seq: 2 ** 40 + 6 }]);
    const res = await post({ keys: [{ from: 'bob', cid: 'k1' }, { from: 'alice', cid: 'absent' }, { from: 'alice', cid: 'k1' }] });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json<SentReply>(), {
      found: [{ id: second.id, seq: 2 ** 40 + 6, ts: second.ts }, null, { id: first.id, seq: 2 ** 40 + 5, ts: first.ts }],
    });
  });

  it('refuses bad keys with 400 and an unsigned request with 401', async () => {
    for (const body of [{ keys: [] }, { keys: [{ from: 'alice' }] }, { keys: [{ from: 'a b', cid: 'x' }] }, { keys: [{ from: 'alice', cid: 'a\u0000' }] }]) {
      const res = await post(body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json<{ error: string }>().error, 'bad_request');
    }
    const unsigned = await app.inject({ method: 'POST', url: ROUTES.persistSent, payload: { keys: [{ from: 'alice', cid: 'k1' }] } });
    assert.equal(unsigned.statusCode, 401);
  });
});
