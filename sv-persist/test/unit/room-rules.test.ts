/** The rules of room membership on a room in hand: who may change it, what a change does, the room after it. */
import assert from 'node:assert/strict';
import type { RoomChangeRequest } from '@chat/shared/internal-api';
import { changesRoom, planRoomChange, planRoomCreate, roomAfter, type StoredRoom } from '../../src/room-rules.ts';

const room: StoredRoom = { room: 'r1', title: 't', owner: 'carol', public: false, members: ['carol', 'bob', 'alice'], version: 7 };
const code = (fn: () => unknown) => { try { fn(); return 'ok'; } catch (err) { return (err as { code: string }).code; } };

describe('room rules', () => {
  it('create: the owner and each listed user once, by user id; past the maximum refused', () => {
    assert.deepEqual(planRoomCreate('carol', ['bob', 'carol', 'alice', 'bob'], 3), ['alice', 'bob', 'carol']);
    assert.equal(code(() => planRoomCreate('carol', ['bob', 'alice', 'dave'], 3)), 'CHAT_ERR_BAD_REQUEST');
  });

  it('each op refused where the rules say, on a room that does not exist always forbidden', () => {
    const cases: [RoomChangeRequest, StoredRoom | undefined, string][] = [
      [{ op: 'add', room: 'r1', by: 'bob', users: ['x'] }, room, 'CHAT_ERR_FORBIDDEN'],
      [{ op: 'remove', room: 'r1', by: 'bob', users: ['alice'] }, room, 'CHAT_ERR_FORBIDDEN'],
      [{ op: 'remove', room: 'r1', by: 'carol', users: ['carol'] }, room, 'CHAT_ERR_BAD_REQUEST'],
      [{ op: 'join', room: 'r1', by: 'dave' }, room, 'CHAT_ERR_FORBIDDEN'],
      [{ op: 'join', room: 'r1', by: 'bob' }, room, 'ok'],
      [{ op: 'join', room: 'r1', by: 'dave' }, { ...room, public: true }, 'ok'],
      [{ op: 'leave', room: 'r1', by: 'dave' }, room, 'CHAT_ERR_FORBIDDEN'],
      [{ op: 'add', room: 'r1', by: 'carol', users: ['x', 'y'] }, room, 'CHAT_ERR_BAD_REQUEST'],
      [{ op: 'add', room: 'r1', by: 'carol', users: ['x', 'alice'] }, room, 'ok'],
      [{ op: 'add', room: 'r1', by: 'carol', users: ['x'] }, { ...room, members: [] }, 'CHAT_ERR_FORBIDDEN'],
    ];
    for (const [req, r, want] of cases) assert.equal(code(() => planRoomChange(r, req, 4)), want, JSON.stringify(req));
    for (const op of ['add', 'remove', 'join', 'leave'] as const) {
      const req = (op === 'add' || op === 'remove' ? { op, room: 'r1', by: 'carol', users: ['x'] } : { op, room: 'r1', by: 'carol' }) as RoomChangeRequest;
      assert.equal(code(() => planRoomChange(undefined, req, 4)), 'CHAT_ERR_FORBIDDEN', op);
    }
  });

  it('the room after a change: members in join order, the version one up, unchanged when nothing changed', () => {
    const add = planRoomChange(room, { op: 'add', room: 'r1', by: 'carol', users: ['zed', 'dave', 'bob'] }, 10);
    assert.deepEqual(roomAfter(room, add), { ...room, members: ['carol', 'bob', 'alice', 'dave', 'zed'], version: 8 });
    const leave = planRoomChange(room, { op: 'leave', room: 'r1', by: 'carol' }, 10);
    assert.deepEqual(roomAfter(room, leave), { ...room, owner: 'bob', members: ['bob', 'alice'], version: 8 }, 'the earliest member owns it');
    const none = planRoomChange(room, { op: 'remove', room: 'r1', by: 'carol', users: ['nobody'] }, 10);
    assert.equal(changesRoom(none), false);
    assert.equal(roomAfter(room, none), room);
  });
});
