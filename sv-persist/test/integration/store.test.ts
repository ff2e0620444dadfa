import assert from 'node:assert/strict';
import { QueryTypes, Sequelize } from 'sequelize';
import { withPg } from '@chat/shared/local-postgres';
import { SequelizeMessageStore, type InsertMethod } from '../../src/store-sequelize.ts';
import { conversationKey } from '@chat/shared/types';
import { INSERT_UNNEST } from '../../src/sql.ts';
import { connectSequelize } from '../../src/store-connection.ts';
import { createMigratedDatabase, msg, storePerTest } from '../helpers/db.ts';

// Direct mode runs the unnest insert with Postgres's own plan choice (customPlans false).
for (const [insertMethod, customPlans] of [['unnest', false], ['bulkCreate', true]] as [InsertMethod, boolean][]) {
  describe(`SequelizeMessageStore (${insertMethod})`, () => {
    const db = storePerTest({ insertMethod, customPlans });

    const count = () => withPg(db.url(), (q) => q<{ n: string }>('SELECT count(*) AS n FROM messages')).then((r) => Number(r[0]!.n));

    it('assigns seq increasing in input order and returns ids and ts', async () => {
      const batch = [msg('alice', 'bob', 'a1'), msg('bob', 'alice', 'b1'), msg('alice', 'carol', 'a2'), msg('alice', 'bob', 'a3')];
      const out = await db.store().insertBatch(batch);
      assert.deepEqual(out.map((a) => [a.id, a.ts, a.duplicate]), batch.map((m) => [m.id, m.ts, false]));
      for (let i = 1; i < out.length; i++) assert.ok(out[i]!.seq > out[i - 1]!.seq, `seq ${out[i]!.seq} after ${out[i - 1]!.seq}`);
      const next = await db.store().insertBatch([msg('carol', 'alice', 'c1')]);
      assert.ok(next[0]!.seq > out[3]!.seq);
      assert.equal(await count(), 5);
    });

    it('stores a (from, cid) once: repeats in the database and in the same batch get the original', async () => {
      const first = msg('alice', 'bob', 'dup');
      const [orig] = await db.store().insertBatch([first]);
      const retry = { ...msg('alice', 'bob', 'dup', 'changed'), id: first.id };
      const fresh = msg('alice', 'bob', 'new');
      const again = msg('alice', 'bob', 'new', 'second copy');
      const otherSender = msg('bob', 'alice', 'dup');
      const out = await db.store().insertBatch([retry, fresh, again, otherSender]);
      // The original's body, not the retry's: a repeat is delivered as it was stored.
      assert.deepEqual(out[0], { id: first.id, seq: orig!.seq, ts: first.ts, duplicate: true, body: first.body });
      assert.deepEqual(out[1], { id: fresh.id, seq: out[1]!.seq, ts: fresh.ts, duplicate: false });
      const { body: _repeatBody, ...repeat } = out[2]!;
      assert.deepEqual(repeat, { ...out[1]!, duplicate: true });
      assert.equal(out[3]!.duplicate, false);
      assert.equal(out[3]!.id, otherSender.id);
      assert.equal(await count(), 3);
      const page = await db.store().history({ user: 'alice', with: 'bob' });
      assert.deepEqual(page.messages.map((m) => m.body), ['body dup', 'body new', 'body dup']);
    });

    it('a retry with a new id still answers with the original id and seq', async () => {
      const first = msg('alice', 'bob', 'r');
      const [orig] = await db.store().insertBatch([first]);
      const [dup] = await db.store().insertBatch([msg('alice', 'bob', 'r')]);
      assert.deepEqual(dup, { ...orig!, duplicate: true, body: first.body });
    });

    describe('history', () => {
      let seqs: number[];
      beforeEach(async () => {
        const batch = Array.from({ length: 7 }, (_, i) => (i % 2 ? msg('bob', 'alice', `h${i}`) : msg('alice', 'bob', `h${i}`)));
        batch.splice(3, 0, msg('alice', 'carol', 'other'));
        const out = await db.store().insertBatch(batch);
        seqs = out.filter((_, i) => i !== 3).map((a) => a.seq);
      });

      it('without a cursor: the newest page, ascending, more when older rows exist', async () => {
        const page = await db.store().history({ user: 'bob', with: 'alice', limit: 3 });
        assert.deepEqual(page.messages.map((m) => m.seq), seqs.slice(4));
        assert.equal(page.more, true);
        const all = await db.store().history({ user: 'alice', with: 'bob' });
        assert.deepEqual(all.messages.map((m) => m.seq), seqs);
        assert.equal(all.more, false);
        assert.deepEqual(all.messages[1], { id: all.messages[1]!.id, seq: seqs[1], cid: 'h1', from: 'bob', to: 'alice', body: 'body h1', ts: all.messages[1]!.ts });
      });

      it('before: the page just below, ascending; more false at the start', async () => {
        const page = await db.store().history({ user: 'alice', with: 'bob', before: seqs[4]!, limit: 2 });
        assert.deepEqual(page.messages.map((m) => m.seq), [seqs[2], seqs[3]]);
        assert.equal(page.more, true);
        const last = await db.store().history({ user: 'alice', with: 'bob', before: seqs[2]!, limit: 2 });
        assert.deepEqual(last.messages.map((m) => m.seq), [seqs[0], seqs[1]]);
        assert.equal(last.more, false);
      });

      it('after: oldest first above it; more while newer rows remain', async () => {
        const page = await db.store().history({ user: 'alice', with: 'bob', after: seqs[1]!, limit: 3 });
        assert.deepEqual(page.messages.map((m) => m.seq), [seqs[2], seqs[3], seqs[4]]);
        assert.equal(page.more, true);
        const rest = await db.store().history({ user: 'alice', with: 'bob', after: seqs[4]!, limit: 3 });
        assert.deepEqual(rest.messages.map((m) => m.seq), [seqs[5], seqs[6]]);
        assert.equal(rest.more, false);
        const none = await db.store().history({ user: 'alice', with: 'bob', after: seqs[6]! });
        assert.deepEqual(none, { messages: [], more: false });
      });

      it('only the two users\' conversation', async () => {
        const page = await db.store().history({ user: 'carol', with: 'alice' });
        assert.deepEqual(page.messages.map((m) => m.cid), ['other']);
      });
    });

    it('conversations: newest first, each with its last message, heads never move back', async () => {
      await db.store().insertBatch([msg('alice', 'bob', 'c1'), msg('carol', 'alice', 'c2')]);
      const last = await db.store().insertBatch([msg('alice', 'dave', 'c3'), msg('bob', 'alice', 'c4'), msg('bob', 'alice', 'c5')]);
      // A retried old message must not make its conversation look newer.
      await db.store().insertBatch([msg('carol', 'alice', 'c2')]);
      const items = await db.store().conversations({ user: 'alice' });
      assert.deepEqual(items.map((i) => [i.with, i.last.cid]), [['bob', 'c5'], ['dave', 'c3'], ['carol', 'c2']]);
      assert.equal(items[0]!.last.seq, last[2]!.seq);
      assert.deepEqual((await db.store().conversations({ user: 'bob' })).map((i) => [i.with, i.last.cid, i.last.from]), [['alice', 'c5', 'bob']]);
      assert.deepEqual((await db.store().conversations({ user: 'alice', limit: 1 })).map((i) => i.with), ['bob']);
      assert.deepEqual(await db.store().conversations({ user: 'nobody' }), []);
    });

    it('a message to oneself is one conversation', async () => {
      await db.store().insertBatch([msg('alice', 'alice', 'note')]);
      const items = await db.store().conversations({ user: 'alice' });
      assert.deepEqual(items.map((i) => [i.with, i.last.cid]), [['alice', 'note']]);
    });

    it('a failed batch stores nothing', async () => {
      const a = msg('alice', 'bob', 'x1');
      // Same id, different (from, cid): the primary key refuses the batch, and the transaction rolls back.
      const b = { ...msg('alice', 'bob', 'x2'), id: a.id };
      await assert.rejects(db.store().insertBatch([a, b]));
      assert.equal(await count(), 0);
      const heads = await withPg(db.url(), (q) => q('SELECT * FROM conversations'));
      assert.equal(heads.length, 0);
    });
  });
}

describe('conversation rows on disk', () => {
  // Every message moves its conversation's row; an update that touches an index costs a new
  // index entry per index (docs/benchmarks.md), an in-place (HOT) one none.
  it('a message moves its conversation\'s one row in place (a HOT update, no index entries)', async () => {
    const url = await createMigratedDatabase();
    const store = SequelizeMessageStore.connect(url);
    try {
      await store.insertBatch([msg('alice', 'bob', 'h1')]);
      const next = msg('bob', 'alice', 'h2');
      const counts = await withPg(url, async (q) => {
        await q('BEGIN');
        try {
          await q(INSERT_UNNEST, [[next.id], [conversationKey(next.from, next.to)], [next.from], [next.to], [next.cid], [next.body], [next.ts]]);
          return (await q<{ updated: string; hot: string }>(`SELECT
            pg_stat_get_xact_tuples_updated('conversations'::regclass) AS updated,
            pg_stat_get_xact_tuples_hot_updated('conversations'::regclass) AS hot`))[0]!;
        } finally {
          await q('ROLLBACK');
        }
      });
      assert.deepEqual(counts, { updated: '1', hot: '1' });
    } finally {
      await store.close();
    }
  });
});

describe('plans of the prepared insert', () => {
  // Counted by Postgres per session: one pooled connection, so the store's statements and the
  // count share it.
  async function plansAfter(customPlans: boolean): Promise<{ generic_plans: string; custom_plans: string }> {
    const sequelize = connectSequelize(await createMigratedDatabase(), 1, customPlans);
    const store = new SequelizeMessageStore(sequelize);
    try {
      for (let i = 0; i < 8; i++) await store.insertBatch([msg('alice', 'bob', `p${i}`)]);
      const [row] = await sequelize.query<{ generic_plans: string; custom_plans: string }>(
        "SELECT generic_plans::text, custom_plans::text FROM pg_prepared_statements WHERE name = 'chat_insert_unnest'", { type: QueryTypes.SELECT });
      return row!;
    } finally {
      await store.close();
    }
  }

  it('direct mode keeps a generic plan; with customPlans every execution is planned', async () => {
    const generic = await plansAfter(false);
    assert.ok(Number(generic.generic_plans) >= 3, `generic plans ${generic.generic_plans} of 8 executions`);
    assert.deepEqual(await plansAfter(true), { generic_plans: '0', custom_plans: '8' });
  });
});

describe('SequelizeMessageStore with the database down', () => {
  it('rejects with CHAT_ERR_STORE_UNAVAILABLE', async () => {
    const { freePort } = await import('@chat/shared/free-port');
    const store = new SequelizeMessageStore(new Sequelize(`postgres://u:p@127.0.0.1:${await freePort()}/x`, {
      dialect: 'postgres', logging: false, retry: { max: 1 },
    }));
    try {
      await assert.rejects(store.insertBatch([msg('a', 'b', 'c')]), { code: 'CHAT_ERR_STORE_UNAVAILABLE' });
      await assert.rejects(store.ping(), { code: 'CHAT_ERR_STORE_UNAVAILABLE' });
    } finally {
      await store.close();
    }
  });
});

