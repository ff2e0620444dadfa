/**
 * Data conversions of the migrations, from a database as the earlier schema left it: what was
 * stored before the upgrade is still read the same after it.
 */
import assert from 'node:assert/strict';
import { newId } from '@chat/shared/ids';
import { createTestDatabase, withPg } from '@chat/shared/local-postgres';
import { conversationKey } from '@chat/shared/types';
import { migrate } from '../../src/migrate.ts';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';

describe('migrations: conversation_heads (two rows per conversation) → conversations (one)', () => {
  it('keeps every user\'s conversation list, newest first, a conversation with oneself included', async () => {
    const url = await createTestDatabase();
    await migrate(url, { to: '20261126000000-create-log-mode.cjs' });
    // Stored the old way: each message a row, each conversation two heads (one for oneself).
    const sent: [string, string, number][] = [['alice', 'bob', 10], ['bob', 'alice', 11], ['carol', 'alice', 12], ['alice', 'alice', 13], ['dave', 'bob', 14]];
    const ids = new Map<number, string>();
    await withPg(url, async (q) => {
      for (const [from, to, seq] of sent) {
        const id = newId();
        ids.set(seq, id);
        await q('INSERT INTO messages (id, seq, conv, sender, recipient, cid, body, ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [id, seq, conversationKey(from, to), from, to, `c${seq}`, `body ${seq}`, 1_000 + seq]);
        for (const [user, peer] of from === to ? [[from, to]] : [[from, to], [to, from]]) {
          await q(`INSERT INTO conversation_heads (user_id, peer, last_seq, last_ts, last_message_id) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (user_id, peer) DO UPDATE SET last_seq = excluded.last_seq, last_ts = excluded.last_ts, last_message_id = excluded.last_message_id`,
          [user, peer, seq, 1_000 + seq, id]);
        }
      }
      await q("SELECT setval('messages_seq', 14)"); // as direct mode's inserts would have left it
    });

    await migrate(url);
    const store = SequelizeMessageStore.connect(url);
    try {
      const list = async (user: string) => (await store.conversations({ user })).map((i) => [i.with, i.last.seq, i.last.id]);
      assert.deepEqual(await list('alice'), [['alice', 13, ids.get(13)], ['carol', 12, ids.get(12)], ['bob', 11, ids.get(11)]]);
      assert.deepEqual(await list('bob'), [['dave', 14, ids.get(14)], ['alice', 11, ids.get(11)]]);
      assert.deepEqual(await list('carol'), [['alice', 12, ids.get(12)]]);
      // And the converted rows keep moving: a new message in an old conversation.
      await store.insertBatch([{ id: newId(), from: 'bob', to: 'alice', cid: 'after', body: 'after the upgrade', ts: 2_000 }]);
      assert.deepEqual((await store.conversations({ user: 'alice' })).map((i) => [i.with, i.last.cid]), [['bob', 'after'], ['alice', 'c13'], ['carol', 'c12']]);
      const rows = await withPg(url, (q) => q<{ n: string }>('SELECT count(*) AS n FROM conversations'));
      assert.equal(Number(rows[0]!.n), 4);
    } finally {
      await store.close();
    }
  });
});

describe('migrations: key columns compare bytewise', () => {
  it('sets COLLATE "C" on every key column, keeps the stored rows, and lookups still use the indexes', async () => {
    const url = await createTestDatabase();
    await migrate(url, { to: '20261126120000-conversations-one-row.cjs' });
    const store = SequelizeMessageStore.connect(url);
    try {
      await store.insertBatch([{ id: newId(), from: 'Zoe', to: 'adam', cid: 'before', body: 'before the upgrade', ts: 1_000 }]);
      await migrate(url);
      const columns = await withPg(url, (q) => q<{ table_name: string; column_name: string; collation_name: string | null }>(
        `SELECT table_name, column_name, collation_name FROM information_schema.columns
          WHERE table_name IN ('messages', 'conversations') AND data_type = 'text' ORDER BY table_name, column_name`));
      assert.deepEqual(columns.map((c) => [c.table_name, c.column_name, c.collation_name]), [
        ['conversations', 'conv', 'C'], ['conversations', 'user_a', 'C'], ['conversations', 'user_b', 'C'],
        ['messages', 'body', null], ['messages', 'cid', 'C'], ['messages', 'conv', 'C'], ['messages', 'recipient', 'C'], ['messages', 'sender', 'C'],
      ]);
      // A text parameter (the database's default collation) meets a "C" column: the column's wins, so the index serves it.
      const plan = await withPg(url, async (q) => {
        await q('SET enable_seqscan = off');
        return q<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT id FROM messages WHERE conv = $1::text ORDER BY seq DESC LIMIT 5`, [conversationKey('Zoe', 'adam')]);
      });
      assert.match(plan.map((r) => r['QUERY PLAN']).join('\n'), /Index Scan Backward using messages_conv_seq_idx/);
      // Stored rows read the same, and new ones go in next to them.
      await store.insertBatch([{ id: newId(), from: 'adam', to: 'Zoe', cid: 'after', body: 'after the upgrade', ts: 2_000 }]);
      const page = await store.history({ user: 'Zoe', with: 'adam' });
      assert.deepEqual(page.messages.map((m) => m.cid), ['before', 'after']);
      assert.deepEqual((await store.conversations({ user: 'adam' })).map((i) => [i.with, i.last.cid]), [['Zoe', 'after']]);
    } finally {
      await store.close();
    }
  });
});
