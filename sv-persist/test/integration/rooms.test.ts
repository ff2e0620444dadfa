/**
 * Rooms in Postgres: every rule of a change checked against the stored room, the version moving
 * by one per change that changed members and not otherwise, refusals changing nothing, and
 * concurrent changes of one room all landing.
 */
import assert from 'node:assert/strict';
import type { RoomChangeRequest, RoomState } from '@chat/shared/internal-api';
import { withPg } from '@chat/shared/local-postgres';
import { storePerTest } from '../helpers/db.ts';

const MAX = 6;

describe('rooms in Postgres', () => {
  const db = storePerTest({ maxRoomMembers: MAX });
  const change = (req: RoomChangeRequest) => db.store().changeRoom(req);
  const stored = async (room: string) => (await db.store().getRooms([room]))[0];
  const create = (owner: string, members: string[], isPublic = false) =>
    db.store().createRoom({ owner, title: `${owner}'s room`, public: isPublic, members });
  /** Assert `p` is refused with `code`, and the room is as it was. */
  async function refused(p: Promise<unknown>, code: string, room: RoomState): Promise<void> {
    await assert.rejects(p, (err: { code?: string }) => err.code === code);
    assert.deepEqual(await stored(room.room), room);
  }

  it('the schema: key columns compare bytewise, a user\'s rooms have an index', async () => {
    const columns = await withPg(db.url(), (q) => q<{ c: string }>(
      `SELECT table_name || '.' || column_name || ' ' || coalesce(collation_name, '-') AS c FROM information_schema.columns
        WHERE table_name IN ('rooms', 'room_members') AND data_type = 'text' ORDER BY 1`));
    assert.deepEqual(columns.map((r) => r.c), ['room_members.room C', 'room_members.user_id C', 'rooms.id C', 'rooms.owner C', 'rooms.title -']);
    const index = await withPg(db.url(), (q) => q<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'room_members_user_idx'"));
    assert.match(index[0]!.indexdef, /ON public\.room_members USING btree \(user_id, room\)/);
  });

  it('create: the owner is a member, each user once, version 1; get reads it back', async () => {
    const room = await create('carol', ['bob', 'alice', 'bob', 'carol']);
    assert.match(room.room, /^[0-9a-f-]{36}$/);
    assert.deepEqual(room, { room: room.room, title: "carol's room", owner: 'carol', public: false, members: ['alice', 'bob', 'carol'], version: 1 });
    assert.deepEqual(await stored(room.room), room);
    const other = await create('dave', [], true);
    assert.deepEqual((await db.store().getRooms([other.room, 'nope', room.room, other.room])).map((r) => r.room), [other.room, room.room],
      'in the order asked, each once, missing rooms left out');
  });

  it('create past MAX_ROOM_MEMBERS is bad_request and stores nothing', async () => {
    await assert.rejects(create('alice', ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']), (err: { code?: string }) => err.code === 'CHAT_ERR_BAD_REQUEST');
    const n = await withPg(db.url(), (q) => q<{ rooms: string; members: string }>('SELECT (SELECT count(*) FROM rooms) AS rooms, (SELECT count(*) FROM room_members) AS members'));
    assert.deepEqual(n[0], { rooms: '0', members: '0' });
    assert.equal((await create('alice', ['u1', 'u2', 'u3', 'u4', 'u5'])).members.length, MAX, 'exactly the maximum is fine');
  });

  it('add and remove: the owner only; existing members and non-members change nothing; the version moves once per change', async () => {
    const room = await create('alice', ['bob']);
    const added = await change({ op: 'add', room: room.room, by: 'alice', users: ['dave', 'carol', 'bob', 'carol'] });
    assert.deepEqual(added, { room: { ...room, members: ['alice', 'bob', 'carol', 'dave'], version: 2 }, removed: [] });
    assert.deepEqual(await stored(room.room), added.room);

    const same = await change({ op: 'add', room: room.room, by: 'alice', users: ['bob', 'alice'] });
    assert.deepEqual(same, { room: added.room, removed: [] }, 'adding members changes nothing');
    assert.deepEqual(await change({ op: 'remove', room: room.room, by: 'alice', users: ['zed'] }), { room: added.room, removed: [] });

    await refused(change({ op: 'add', room: room.room, by: 'bob', users: ['erin'] }), 'CHAT_ERR_FORBIDDEN', added.room);
    await refused(change({ op: 'remove', room: room.room, by: 'bob', users: ['carol'] }), 'CHAT_ERR_FORBIDDEN', added.room);
    await refused(change({ op: 'remove', room: room.room, by: 'alice', users: ['carol', 'alice'] }), 'CHAT_ERR_BAD_REQUEST', added.room);

    const removed = await change({ op: 'remove', room: room.room, by: 'alice', users: ['carol', 'zed', 'dave'] });
    assert.deepEqual(removed, { room: { ...room, members: ['alice', 'bob'], version: 3 }, removed: ['carol', 'dave'] });
    assert.deepEqual(await stored(room.room), removed.room);
  });

  it('add past MAX_ROOM_MEMBERS is bad_request and changes nothing; up to it is fine', async () => {
    const room = await create('alice', ['u1', 'u2']);
    await refused(change({ op: 'add', room: room.room, by: 'alice', users: ['u3', 'u4', 'u5', 'u6'] }), 'CHAT_ERR_BAD_REQUEST', room);
    const full = await change({ op: 'add', room: room.room, by: 'alice', users: ['u3', 'u4', 'u5', 'u1'] });
    assert.equal(full.room.members.length, MAX);
    const open = await create('bob', ['v1', 'v2', 'v3', 'v4', 'v5'], true);
    await refused(change({ op: 'join', room: open.room, by: 'erin' }), 'CHAT_ERR_BAD_REQUEST', open);
  });

  it('join: public rooms only; a member joining again changes nothing', async () => {
    const open = await create('alice', [], true);
    const joined = await change({ op: 'join', room: open.room, by: 'bob' });
    assert.deepEqual(joined, { room: { ...open, members: ['alice', 'bob'], version: 2 }, removed: [] });
    assert.deepEqual(await change({ op: 'join', room: open.room, by: 'bob' }), { room: joined.room, removed: [] });
    const closed = await create('alice', ['carol']);
    await refused(change({ op: 'join', room: closed.room, by: 'bob' }), 'CHAT_ERR_FORBIDDEN', closed);
    assert.deepEqual(await change({ op: 'join', room: closed.room, by: 'carol' }), { room: closed, removed: [] });
  });

  it('leave: members only; the owner\'s leave passes ownership to the earliest member; an empty room stays', async () => {
    const room = await create('bob', ['carol']);
    const withAlice = (await change({ op: 'add', room: room.room, by: 'bob', users: ['alice'] })).room;
    await refused(change({ op: 'leave', room: room.room, by: 'zed' }), 'CHAT_ERR_FORBIDDEN', withAlice);

    // carol joined with the room, alice later, although her id sorts first.
    const ownerLeft = await change({ op: 'leave', room: room.room, by: 'bob' });
    assert.deepEqual(ownerLeft, { room: { ...room, owner: 'carol', members: ['carol', 'alice'], version: 3 }, removed: ['bob'] });
    assert.deepEqual(await stored(room.room), ownerLeft.room);
    await refused(change({ op: 'add', room: room.room, by: 'bob', users: ['bob'] }), 'CHAT_ERR_FORBIDDEN', ownerLeft.room);
    assert.equal((await change({ op: 'remove', room: room.room, by: 'carol', users: ['alice'] })).room.version, 4, 'the new owner has the rights');

    const empty = await change({ op: 'leave', room: room.room, by: 'carol' });
    assert.deepEqual(empty, { room: { ...room, owner: 'carol', members: [], version: 5 }, removed: ['carol'] });
    await refused(change({ op: 'add', room: room.room, by: 'carol', users: ['carol'] }), 'CHAT_ERR_FORBIDDEN', empty.room);
    await refused(change({ op: 'join', room: room.room, by: 'carol' }), 'CHAT_ERR_FORBIDDEN', empty.room);

    const open = await create('erin', [], true);
    await change({ op: 'leave', room: open.room, by: 'erin' });
    const revived = await change({ op: 'join', room: open.room, by: 'frank' });
    assert.deepEqual(revived.room, { ...open, owner: 'frank', members: ['frank'], version: 3 }, 'who joins an empty room owns it');
  });

  it('a room that does not exist is forbidden for every change, in the same words as a room one has no right to', async () => {
    const room = await create('alice', ['bob']);
    const open = await create('alice', [], true);
    const words = async (req: RoomChangeRequest) => {
      const err = await change(req).then(() => undefined, (e: Error & { code?: string }) => e);
      assert.equal(err?.code, 'CHAT_ERR_FORBIDDEN', JSON.stringify(req));
      return err.message;
    };
    const missing = '0190d3c2-0000-7000-8000-000000000000';
    assert.equal(await words({ op: 'add', room: missing, by: 'alice', users: ['x'] }), await words({ op: 'add', room: room.room, by: 'bob', users: ['x'] }));
    assert.equal(await words({ op: 'remove', room: missing, by: 'alice', users: ['x'] }), await words({ op: 'remove', room: room.room, by: 'bob', users: ['x'] }));
    assert.equal(await words({ op: 'join', room: missing, by: 'carol' }), await words({ op: 'join', room: room.room, by: 'carol' }));
    assert.equal(await words({ op: 'leave', room: missing, by: 'carol' }), await words({ op: 'leave', room: open.room, by: 'carol' }));
  });

  it('concurrent changes of one room all land, one version each, members consistent', async () => {
    const room = await create('alice', [], true);
    const adds = ['b', 'c'].map((u) => change({ op: 'add', room: room.room, by: 'alice', users: [u] }));
    const joins = ['d', 'e', 'f'].map((u) => change({ op: 'join', room: room.room, by: u }));
    const replies = await Promise.all([...adds, ...joins]);
    assert.deepEqual(replies.map((r) => r.room.version).sort(), [2, 3, 4, 5, 6], 'each change saw the one before it');
    const final = (await stored(room.room))!;
    assert.equal(final.version, 6);
    assert.deepEqual([...final.members].sort(), ['alice', 'b', 'c', 'd', 'e', 'f']);
    // The reply of the last change to commit is the stored room.
    assert.deepEqual(replies.find((r) => r.room.version === 6)!.room, final);

    // Racing past the maximum: of two joins into the last place, one lands, the other is refused.
    const nearlyFull = await create('zoe', ['z1', 'z2', 'z3', 'z4'], true);
    const race = await Promise.allSettled(['g', 'h'].map((u) => change({ op: 'join', room: nearlyFull.room, by: u })));
    assert.deepEqual(race.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const full = (await stored(nearlyFull.room))!;
    assert.deepEqual([full.members.length, full.version], [MAX, 2]);
  });
});
