/**
 * Read marks in Postgres: stored forward only (also under concurrent writers), served over the
 * internal route in both log modes, and read back as each conversation's unread count and the
 * peer's mark, from an index alone.
 */
import assert from 'node:assert/strict';
import { ROUTES, type ReadMarksReply } from '@chat/shared/internal-api';
import { createLogger } from '@chat/shared/logger';
import { withPg } from '@chat/shared/local-postgres';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { buildApp } from '../../src/app.ts';
import { BatchWriter } from '../../src/batch-writer.ts';
import * as sql from '../../src/sql.ts';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';
import { createMigratedDatabase, msg } from '../helpers/db.ts';

const SECRET = 'test-cluster-secret-0123456789';
const logger = createLogger({ service: 'sv-persist-test', level: 'silent' });
const mark = (reader: string, peer: string, seq: number) => ({ reader, peer, seq });

describe('read marks', () => {
  let url: string;
  let store: SequelizeMessageStore;
  const stored = () => withPg(url, (q) => q<{ reader: string; peer: string; seq: string }>('SELECT reader, peer, seq FROM read_marks ORDER BY reader, peer'))
    .then((rows) => rows.map((r) => [r.reader, r.peer, Number(r.seq)]));

  before(async () => {
    url = await createMigratedDatabase();
  });
  beforeEach(async () => {
    await withPg(url, (q) => q('TRUNCATE messages, conversations, read_marks'));
    store = SequelizeMessageStore.connect(url);
  });
  afterEach(async () => {
    await store.close();
  });

  it('only ever move forward, and say which moved', async () => {
    assert.deepEqual(await store.storeReadMarks([mark('alice', 'bob', 5)]), { moved: [true] });
    assert.deepEqual(await store.storeReadMarks([mark('alice', 'bob', 3), mark('alice', 'bob', 5)]), { moved: [false, false] });
    assert.deepEqual(await store.storeReadMarks([mark('alice', 'bob', 7), mark('bob', 'alice', 2), mark('alice', 'bob', 9), mark('alice', 'bob', 8)]), { moved: [false, true, true, false] });
    assert.deepEqual(await store.storeReadMarks([mark('carol', 'bob', 0)]), { moved: [false] }, 'a mark starts at 0');
    assert.deepEqual(await stored(), [['alice', 'bob', 9], ['bob', 'alice', 2]]);
  });

  it('end at the highest mark whatever order concurrent writers commit in, without deadlocks', async () => {
    const users = Array.from({ length: 20 }, (_, i) => `u${i}`);
    const requests = Array.from({ length: 16 }, (_, r) => users.map((u, i) => mark(u, 'peer', 1 + ((r * 7 + i * 3) % 50))).sort(() => Math.random() - 0.5));
    const answers = await Promise.all(requests.map((marks) => store.storeReadMarks(marks)));
    assert.equal(answers.length, 16);
    const highest = users.map((u) => [u, 'peer', Math.max(...requests.map((marks) => marks.find((m) => m.reader === u)!.seq))]);
    assert.deepEqual(await stored(), highest.sort());
  });

  it('give each conversation its unread count and the peer\'s mark, a conversation with oneself too', async () => {
    const [b1, b2, a1, b3, self] = [msg('bob', 'alice', 'b1'), msg('bob', 'alice', 'b2'), msg('alice', 'bob', 'a1'), msg('bob', 'alice', 'b3'), msg('alice', 'alice', 'n1')];
    const seqs = (await store.insertBatch([b1, b2, a1, b3, self])).map((a) => a.seq);
    const list = async (user: string) => (await store.conversations({ user })).map((i) => [i.with, i.unread, i.peer_read_seq]);
    assert.deepEqual(await list('alice'), [['alice', 1, 0], ['bob', 3, 0]], 'nothing read yet');
    assert.deepEqual(await list('bob'), [['alice', 1, 0]]);
    await store.storeReadMarks([mark('alice', 'bob', seqs[1]!), mark('alice', 'alice', seqs[4]!)]);
    assert.deepEqual(await list('alice'), [['alice', 0, seqs[4]], ['bob', 1, 0]], 'b3 is above the mark');
    assert.deepEqual(await list('bob'), [['alice', 1, seqs[1]]], 'bob sees how far alice read');
    await store.storeReadMarks([mark('alice', 'bob', seqs[3]! + 1000)]);
    assert.deepEqual(await list('alice'), [['alice', 0, seqs[4]], ['bob', 0, 0]], 'a mark above the last message is taken as given');
  });

  it('count unread from the (conv, seq) index alone (EXPLAIN)', async () => {
    await store.insertBatch([msg('bob', 'alice', 'e1'), msg('alice', 'bob', 'e2')]);
    const plan = await withPg(url, async (q) => {
      await q('VACUUM ANALYZE messages');
      await q('SET enable_seqscan = off');
      return q<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF) ${sql.CONVERSATIONS.replaceAll('$1', "'alice'").replaceAll('$2', '200')}`);
    });
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(text, /Index Only Scan using messages_conv_seq_idx on messages u/, text);
    assert.match(text, /Index Scan using read_marks_pkey on read_marks mine/, text);
    assert.doesNotMatch(text, /Seq Scan/, text);
  });

  for (const mode of ['direct', 'kafka'] as const) {
    it(`are served over the internal route in ${mode} mode; bad bodies change nothing`, async () => {
      const writer = new BatchWriter(store);
      const app = buildApp({ store, writer, secret: SECRET, logger, ingest: mode === 'direct' });
      try {
        const post = (body: unknown) => app.inject(signedRequest(SECRET, 'POST', ROUTES.persistReadMarks, body));
        const res = await post({ marks: [mark('alice', 'bob', 4), mark('alice', 'bob', 2)] });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json<ReadMarksReply>(), { moved: [true, false] });
        const bad: unknown[] = [
          {}, { marks: [] }, { marks: [mark('not a user!', 'bob', 5)] }, { marks: [mark('alice', 'bob', -1)] },
          { marks: [mark('alice', 'bob', 5.5)] }, { marks: [mark('alice', 'bob', 2 ** 53)] }, { marks: [{ reader: 'alice', peer: 'bob', seq: '9' }] },
        ];
        for (const body of bad) {
          const refused = await post(body);
          assert.equal(refused.statusCode, 400, JSON.stringify(body));
          assert.equal(refused.json().error, 'bad_request');
        }
        const unsigned = await app.inject({ method: 'POST', url: ROUTES.persistReadMarks, payload: { marks: [mark('alice', 'bob', 50)] } });
        assert.equal(unsigned.statusCode, 401);
        assert.deepEqual(await stored(), [['alice', 'bob', 4]]);
      } finally {
        await app.close();
        await writer.close();
      }
    });
  }
});
