/**
 * The room frames of the protocol: each valid form parses, each bad field is `bad_request`, and
 * a `send`, `history` or `read` names exactly one conversation.
 */
import assert from 'node:assert/strict';
import { errorAnswer } from '../../src/errors.ts';
import { MAX_ROOM_TITLE, MAX_ROOM_USERS_PER_FRAME, parseClientFrame, readFrame, roomFrame } from '../../src/protocol.ts';

const room = '0190d3c1-0000-7000-8000-00000000a001';
const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
const code = (frame: unknown) => {
  try {
    parseClientFrame(JSON.stringify(frame));
    return 'ok';
  } catch (err) {
    return errorAnswer(err).code;
  }
};

describe('room frames', () => {
  const valid: unknown[] = [
    { type: 'room_create', title: 'Team', members: ['bob', 'carol'], public: false, cid: 'r-1' },
    { type: 'room_create', title: '', members: [] },
    { type: 'room_create', title: 't'.repeat(MAX_ROOM_TITLE), members: users(MAX_ROOM_USERS_PER_FRAME), public: true },
    { type: 'room_add', room, users: ['dave'], cid: 'r-2' },
    { type: 'room_remove', room, users: users(MAX_ROOM_USERS_PER_FRAME) },
    { type: 'room_join', room, cid: 'r-3' },
    { type: 'room_leave', room },
    { type: 'room_info', room, cid: 'c'.repeat(64) },
    { type: 'send', room, body: 'hi all', cid: 'c-1' },
    { type: 'history', room, after: 7 },
    { type: 'read', room, seq: 7 },
  ];
  for (const frame of valid) {
    it(`accepts ${JSON.stringify(frame).slice(0, 70)}`, () => assert.equal(code(frame), 'ok'));
  }

  const invalid: unknown[] = [
    { type: 'room_create', title: 't'.repeat(MAX_ROOM_TITLE + 1), members: [] },
    { type: 'room_create', title: 'a\u0000b', members: [] },
    { type: 'room_create', title: 'T', members: users(MAX_ROOM_USERS_PER_FRAME + 1) },
    { type: 'room_create', title: 'T', members: ['b o b'] },
    { type: 'room_create', title: 'T' },
    { type: 'room_create', title: 'T', members: [], public: 'yes' },
    { type: 'room_add', room, users: [] },
    { type: 'room_add', room: 'not a room!', users: ['bob'] },
    { type: 'room_remove', room, users: users(MAX_ROOM_USERS_PER_FRAME + 1) },
    { type: 'room_join', room: '#' + room },
    { type: 'room_leave' },
    { type: 'room_info', room, cid: '' },
    { type: 'room_add', room, users: ['bob'], cid: 'c'.repeat(65) },
    { type: 'send', room, to: 'bob', body: 'x', cid: 'c' },
    { type: 'send', body: 'x', cid: 'c' },
    { type: 'history', room, with: 'bob' },
    { type: 'read', room, with: 'bob', seq: 1 },
    { type: 'read', seq: 1 },
  ];
  for (const frame of invalid) {
    it(`answers ${JSON.stringify(frame).slice(0, 70)} with bad_request`, () => assert.equal(code(frame), 'bad_request'));
  }

  it('builds the room frame with the cid only when one is given', () => {
    const state = { room, title: 'Team', owner: 'alice', public: false, members: ['alice', 'bob'] };
    assert.deepEqual(roomFrame(state), { type: 'room', ...state });
    assert.equal(roomFrame(state, 'r-1').cid, 'r-1');
  });

  it('names the room in a room read mark, and the peer in a one-to-one one', () => {
    assert.deepEqual(readFrame('alice', `#${room}`, 7), { type: 'read', by: 'alice', room, seq: 7 });
    assert.deepEqual(readFrame('alice', 'bob', 7), { type: 'read', by: 'alice', with: 'bob', seq: 7 });
  });
});
