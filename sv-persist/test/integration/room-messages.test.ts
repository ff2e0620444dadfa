/**
 * A room's messages in Postgres: stored in both log modes as a conversation keyed by the room's
 * address, `seq` increasing per room; history and read marks for members only; rooms listed in
 * `conversations` beside one-to-one peers with their unread counts.
 */
import assert from 'node:assert/strict';
import { ROUTES, type ReadMarksReply } from '@chat/shared/internal-api';
import { createLogger } from '@chat/shared/logger';
import { withPg } from '@chat/shared/local-postgres';
import type { ConversationItem, HistoryPage } from '@chat/shared/protocol';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { roomAddress, type Message } from '@chat/shared/types';
import { buildApp } from '../../src/app.ts';
import { BatchWriter } from '../../src/batch-writer.ts';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';
import { msg, storePerTest } from '../helpers/db.ts';

const SECRET = 'test-cluster-secret-0123456789';
const logger = createLogger({ service: 'sv-persist-test', level: 'silent' });
const mark = (reader: string, peer: string, seq: number) => ({ reader, peer, seq });
const isCode = (code: string) => (err: { code?: string }) => err.code === code;

describe('room messages', () => {
  const db = storePerTest();
  const store = () => db.store();
  /** A room owned by alice with bob and carol. */
  const newRoom = async (title = 'trip') => {
    const r = await store().createRoom({ owner: 'alice', title, public: false, members: ['bob', 'carol'] });
    return { id: r.room, to: roomAddress(r.room) };
  };
  const storedRows = (conv: string) => withPg(db.url(), (q) => q<{ cid: string; seq: string; conv: string; recipient: string }>(
    'SELECT cid, seq, conv, recipient FROM messages WHERE conv = $1 ORDER BY seq', [conv]));

  it('direct mode: stored under the room\'s address, seq increasing per room; the room\'s row is no one-to-one conversation', async () => {
    const room = await newRoom();
    const batch = [msg('bob', room.to, 'r1'), msg('alice', 'bob', 'd1'), msg('carol', room.to, 'r2'), msg('alice', room.to, 'r3')];
    const acks = await store().insertBatch(batch);
    await store().insertBatch([msg('bob', room.to, 'r4')]);
    const rows = await storedRows(room.to);
    assert.deepEqual(rows.map((r) => [r.cid, r.conv, r.recipient]), ['r1', 'r2', 'r3', 'r4'].map((c) => [c, room.to, room.to]));
    const seqs = rows.map((r) => Number(r.seq));
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `increasing: ${seqs}`);
    assert.deepEqual(seqs.slice(0, 3), [acks[0]!.seq, acks[2]!.seq, acks[3]!.seq]);
    // bob sent the room's first message: its conversation row names him, yet he sees the room as a room only.
    const bobs = await store().conversations({ user: 'bob' });
    assert.deepEqual(bobs.map((i) => [i.with, i.room, i.last.cid]), [[undefined, room.id, 'r4'], ['alice', undefined, 'd1']]);
  });

  it('direct mode: the ingest route and the bulkCreate insert store a room\'s messages the same way', async () => {
    const room = await newRoom();
    const writer = new BatchWriter(store());
    const app = buildApp({ store: store(), writer, secret: SECRET, logger });
    const bulk = SequelizeMessageStore.connect(db.url(), { insertMethod: 'bulkCreate' });
    try {
      const res = await app.inject(signedRequest(SECRET, 'POST', ROUTES.persistIngest, { messages: [msg('bob', room.to, 'i1'), msg('carol', room.to, 'i2')] }));
      assert.equal(res.statusCode, 200);
      const [b3] = await bulk.insertBatch([msg('alice', room.to, 'i3')]);
      assert.equal(b3!.duplicate, false);
      const rows = await storedRows(room.to);
      assert.deepEqual(rows.map((r) => [r.cid, r.recipient]), [['i1', room.to], ['i2', room.to], ['i3', room.to]]);
      assert.deepEqual((await store().conversations({ user: 'carol' })).map((i) => [i.room, i.last.cid, i.unread]), [[room.id, 'i3', 2]]);
    } finally {
      await bulk.close();
      await app.close();
      await writer.close();
    }
  });

  it('Kafka mode: stored with the log\'s seq under the room\'s address; a seq below the room\'s last is reported', async () => {
    const room = await newRoom();
    const logged = (from: string, cid: string, seq: number): Message => ({ ...msg(from, room.to, cid), seq });
    assert.deepEqual(await store().insertLogged([logged('bob', 'k1', 10), logged('carol', 'k2', 11), logged('bob', 'k1', 12)]),
      { inserted: 2, duplicates: 1, regressed: [], collided: [] });
    const low = logged('alice', 'k3', 5);
    assert.deepEqual(await store().insertLogged([logged('alice', 'k4', 20), low]), { inserted: 2, duplicates: 0, regressed: [low.id], collided: [] });
    assert.deepEqual((await storedRows(room.to)).map((r) => [r.cid, Number(r.seq), r.recipient]),
      [['k3', 5, room.to], ['k1', 10, room.to], ['k2', 11, room.to], ['k4', 20, room.to]]);
    const page = await store().history({ user: 'carol', with: room.to });
    assert.deepEqual(page.messages.map((m) => [m.cid, m.seq]), [['k3', 5], ['k1', 10], ['k2', 11], ['k4', 20]]);
  });

  it('history: members page it like a one-to-one conversation, messages with `room` and no `to`; anyone else is forbidden', async () => {
    const room = await newRoom();
    const other = await newRoom('other');
    const sent = await store().insertBatch(Array.from({ length: 7 }, (_, i) => msg(['alice', 'bob', 'carol'][i % 3]!, room.to, `h${i}`)));
    await store().insertBatch([msg('bob', other.to, 'elsewhere'), msg('alice', 'bob', 'direct')]);
    const seqs = sent.map((a) => a.seq);
    const cids = (p: HistoryPage) => p.messages.map((m) => m.cid);

    const latest = await store().history({ user: 'bob', with: room.to, limit: 3 });
    assert.deepEqual([cids(latest), latest.more], [['h4', 'h5', 'h6'], true]);
    const m = latest.messages[0]!;
    assert.deepEqual(Object.keys(m), ['id', 'seq', 'cid', 'from', 'room', 'body', 'ts']);
    assert.equal(m.room, room.id);
    const older = await store().history({ user: 'bob', with: room.to, before: seqs[4]!, limit: 3 });
    assert.deepEqual([cids(older), older.more], [['h1', 'h2', 'h3'], true]);
    const oldest = await store().history({ user: 'bob', with: room.to, before: seqs[1]!, limit: 3 });
    assert.deepEqual([cids(oldest), oldest.more], [['h0'], false]);
    const newer = await store().history({ user: 'carol', with: room.to, after: seqs[1]!, limit: 4 });
    assert.deepEqual([cids(newer), newer.more], [['h2', 'h3', 'h4', 'h5'], true]);

    await assert.rejects(store().history({ user: 'dave', with: room.to }), isCode('CHAT_ERR_FORBIDDEN'));
    await assert.rejects(store().history({ user: 'alice', with: roomAddress('no-such-room') }), isCode('CHAT_ERR_FORBIDDEN'));
    await store().changeRoom({ op: 'remove', room: room.id, by: 'alice', users: ['carol'] });
    await assert.rejects(store().history({ user: 'carol', with: room.to, after: 0 }), isCode('CHAT_ERR_FORBIDDEN'), 'a removed member');
  });

  it('conversations: rooms beside peers, newest first; unread counts the others\' messages above the reader\'s mark', async () => {
    const room = await newRoom('trip');
    const quiet = await newRoom('quiet');
    const [r1, , r3] = await store().insertBatch([msg('bob', room.to, 'r1'), msg('alice', room.to, 'r2'), msg('carol', room.to, 'r3')]);
    await store().insertBatch([msg('bob', 'alice', 'd1')]);
    await store().insertBatch([msg('carol', room.to, 'r4')]);
    type Row = [string | undefined, string | undefined, string | undefined, string, number, number | undefined];
    const list = async (user: string) => (await store().conversations({ user })).map((i: ConversationItem): Row =>
      [i.with, i.room, i.title, i.last.cid, i.unread, i.peer_read_seq]);

    assert.deepEqual(await list('alice'), [[undefined, room.id, 'trip', 'r4', 3, undefined], ['bob', undefined, undefined, 'd1', 1, 0]],
      'the room without messages is left out; alice\'s own message is not unread');
    assert.deepEqual(await list('carol'), [[undefined, room.id, 'trip', 'r4', 2, undefined]]);
    assert.deepEqual(await store().storeReadMarks([mark('alice', room.to, r1!.seq), mark('carol', room.to, r3!.seq)]), { moved: [true, true] });
    assert.deepEqual((await list('alice'))[0], [undefined, room.id, 'trip', 'r4', 2, undefined], 'r3 and r4 are above her mark');
    assert.deepEqual((await list('carol'))[0], [undefined, room.id, 'trip', 'r4', 0, undefined], 'her own r4 is not unread');
    assert.deepEqual((await store().conversations({ user: 'alice', limit: 1 })).map((i) => i.room), [room.id], 'the limit holds across both kinds');

    await store().insertBatch([msg('bob', quiet.to, 'q1')]);
    assert.deepEqual((await list('bob')).map((r) => [r[1] ?? r[0], r[3]]), [[quiet.id, 'q1'], [room.id, 'r4'], ['alice', 'd1']]);
    await store().changeRoom({ op: 'leave', room: quiet.id, by: 'bob' });
    assert.deepEqual((await list('bob')).map((r) => r[1] ?? r[0]), [room.id, 'alice'], 'a room left is no longer listed');
    assert.deepEqual(await list('dave'), []);
  });

  it('read marks: only a member moves a room\'s mark; the others are named forbidden and change nothing', async () => {
    const room = await newRoom();
    const marks = [mark('bob', room.to, 5), mark('dave', room.to, 5), mark('dave', 'bob', 3), mark('bob', roomAddress('no-such-room'), 2), mark('dave', room.to, 9)];
    assert.deepEqual(await store().storeReadMarks(marks), { moved: [true, false, true, false, false], forbidden: [1, 3, 4] });
    assert.deepEqual(await store().storeReadMarks([mark('bob', room.to, 4), mark('bob', room.to, 8)]), { moved: [false, true] }, 'forward only, as any mark');
    const rows = await withPg(db.url(), (q) => q<{ reader: string; peer: string; seq: string }>('SELECT reader, peer, seq FROM read_marks ORDER BY reader, peer'));
    assert.deepEqual(rows.map((r) => [r.reader, r.peer, Number(r.seq)]), [['bob', room.to, 8], ['dave', 'bob', 3]]);
  });

  it('over HTTP: room history 403 for a non-member, read marks name the forbidden; nothing changes', async () => {
    const room = await newRoom();
    const [w1] = await store().insertBatch([msg('bob', room.to, 'w1')]);
    const writer = new BatchWriter(store());
    const app = buildApp({ store: store(), writer, secret: SECRET, logger });
    try {
      const history = (user: string, withPeer: string) =>
        app.inject(signedRequest(SECRET, 'GET', `${ROUTES.persistHistory}?user=${user}&with=${encodeURIComponent(withPeer)}`));
      const ok = await history('carol', room.to);
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json<HistoryPage>().messages.map((m) => [m.cid, m.room, m.to]), [['w1', room.id, undefined]]);
      const refused = await history('dave', room.to);
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json().error, 'forbidden');
      assert.equal((await history('carol', '#not a room')).statusCode, 400);

      const marks = await app.inject(signedRequest(SECRET, 'POST', ROUTES.persistReadMarks, { marks: [mark('dave', room.to, w1!.seq), mark('carol', room.to, w1!.seq)] }));
      assert.deepEqual(marks.json<ReadMarksReply>(), { moved: [false, true], forbidden: [0] });
      const conversations = await app.inject(signedRequest(SECRET, 'GET', `${ROUTES.persistConversations}?user=carol`));
      assert.deepEqual(conversations.json<{ items: ConversationItem[] }>().items.map((i) => [i.room, i.title, i.unread]), [[room.id, 'trip', 0]]);
      const stored = await withPg(db.url(), (q) => q<{ reader: string }>('SELECT reader FROM read_marks'));
      assert.deepEqual(stored.map((r) => r.reader), ['carol']);
    } finally {
      await app.close();
      await writer.close();
    }
  });
});
