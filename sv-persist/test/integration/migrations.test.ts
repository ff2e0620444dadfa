/**
 * Data conversions of the migrations, from a database as the earlier schema left it: what was
 * stored before the upgrade is still read the same after it.
 */
import assert from 'node:assert/strict';
import { newId } from '@chat/shared/ids';
import { createTestDatabase, withPg } from '@chat/shared/testing/postgres';
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
