import assert from 'node:assert/strict';
import { withPg } from '@chat/shared/local-postgres';
import { conversationKey, type Message } from '@chat/shared/types';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';
import { createMigratedDatabase, msg, storePerTest } from '../helpers/db.ts';

/** A message as the consumer hands it over: seq fixed by the log. */
const logged = (from: string, to: string, cid: string, seq: number, body?: string): Message => ({ ...msg(from, to, cid, body), seq });

describe('SequelizeMessageStore.insertLogged (Kafka mode)', () => {
  const db = storePerTest();

  const rows = () => withPg(db.url(), (q) => q<{ id: string; seq: string; body: string; cid: string }>('SELECT id, seq, body, cid FROM messages ORDER BY seq'))
    .then((r) => r.map((x) => ({ ...x, seq: Number(x.seq) })));
  const head = (user: string, peer: string) => withPg(db.url(), (q) => q<{ last_seq: string; last_message_id: string }>(
    'SELECT last_seq, last_message_id FROM conversations WHERE conv = $1', [conversationKey(user, peer)]))
    .then((r) => r[0] && { seq: Number(r[0].last_seq), id: r[0].last_message_id });

  it('stores the given seq; a replayed record and a retried (from, cid) are skipped, the first row stays', async () => {
    const batch = [logged('alice', 'bob', 'a1', 100), logged('bob', 'alice', 'b1', 101), logged('alice', 'bob', 'a1', 102, 'retry')];
    assert.deepEqual(await db.store().insertLogged(batch), { inserted: 2, duplicates: 1, regressed: [], collided: [] });
    assert.deepEqual((await rows()).map((r) => [r.id, r.seq, r.body]), [[batch[0]!.id, 100, 'body a1'], [batch[1]!.id, 101, 'body b1']]);
    // The same records again (a replay), and the retry once more in a later batch.
    assert.deepEqual(await db.store().insertLogged([...batch, logged('alice', 'bob', 'a1', 103, 'again')]),
      { inserted: 0, duplicates: 4, regressed: [], collided: [] });
    assert.equal((await rows()).length, 2);
    assert.deepEqual(await head('alice', 'bob'), { seq: 101, id: batch[1]!.id });
    assert.deepEqual(await head('bob', 'alice'), { seq: 101, id: batch[1]!.id });
  });

  it('reports a seq below the conversation head (stored) and a seq already taken (not stored); the head never moves back', async () => {
    const high = logged('alice', 'bob', 'h', 50);
    const taken = logged('alice', 'bob', 't', 40);
    await db.store().insertLogged([taken, high]);
    const low = logged('bob', 'alice', 'low', 10);
    const clash = logged('alice', 'bob', 'clash', 40);
    const other = logged('carol', 'dave', 'fine', 5);
    const r = await db.store().insertLogged([low, clash, other]);
    assert.deepEqual(r, { inserted: 2, duplicates: 0, regressed: [low.id], collided: [clash.id] });
    assert.deepEqual((await rows()).map((x) => x.id).sort(), [taken.id, high.id, low.id, other.id].sort());
    assert.deepEqual(await head('alice', 'bob'), { seq: 50, id: high.id });
    assert.deepEqual(await head('carol', 'dave'), { seq: 5, id: other.id });
  });

  it('stores a NUL character as U+FFFD instead of failing the batch forever, replays still match', async () => {
    const m = logged('alice', 'bob', 'n\u0000l', 7, 'a\u0000b');
    assert.equal((await db.store().insertLogged([m])).inserted, 1);
    assert.deepEqual((await rows()).map((x) => [x.body, x.cid]), [['a\uFFFDb', 'n\uFFFDl']]);
    assert.deepEqual(await db.store().insertLogged([{ ...m, id: logged('x', 'y', 'z', 0).id, seq: 8 }]), { inserted: 0, duplicates: 1, regressed: [], collided: [] });
  });

  it('a failing batch stores nothing', async () => {
    const a = logged('alice', 'bob', 'x1', 1);
    await withPg(db.url(), (q) => q('ALTER TABLE messages ADD CONSTRAINT body_short CHECK (length(body) < 20)'));
    try {
      await assert.rejects(db.store().insertLogged([a, logged('alice', 'bob', 'x2', 2, 'a body far longer than twenty')]));
      assert.equal((await rows()).length, 0);
      assert.equal(await head('alice', 'bob'), undefined);
    } finally {
      await withPg(db.url(), (q) => q('ALTER TABLE messages DROP CONSTRAINT body_short'));
    }
  });
});
