/**
 * The internal room routes: create, change and get over signed HTTP, in both log modes; refusals
 * answer 403 `forbidden` or 400 `bad_request` and change nothing.
 */
import assert from 'node:assert/strict';
import { ROUTES, type RoomChangeReply, type RoomGetReply, type RoomState } from '@chat/shared/internal-api';
import { createLogger } from '@chat/shared/logger';
import { withPg } from '@chat/shared/local-postgres';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { buildApp } from '../../src/app.ts';
import { BatchWriter } from '../../src/batch-writer.ts';
import { storePerTest } from '../helpers/db.ts';

const SECRET = 'test-cluster-secret-0123456789';
const logger = createLogger({ service: 'sv-persist-test', level: 'silent' });

describe('sv-persist room routes', () => {
  const db = storePerTest({ maxRoomMembers: 4 });

  for (const mode of ['direct', 'kafka'] as const) {
    it(`create, change and get in ${mode} mode; refusals are 403 or 400 and change nothing`, async () => {
      const writer = new BatchWriter(db.store());
      const app = buildApp({ store: db.store(), writer, secret: SECRET, logger, ingest: mode === 'direct' });
      try {
        const post = (route: string, body: unknown) => app.inject(signedRequest(SECRET, 'POST', route, body));
        const get = async (room: string) => (await post(ROUTES.persistRoomGet, { rooms: [room] })).json<RoomGetReply>().rooms[0];

        const created = await post(ROUTES.persistRoomCreate, { owner: 'alice', title: 'trip', public: false, members: ['bob'] });
        assert.equal(created.statusCode, 200);
        const room = created.json<RoomState>();
        assert.deepEqual({ ...room, room: 'x' }, { room: 'x', title: 'trip', owner: 'alice', public: false, members: ['alice', 'bob'], version: 1 });

        const added = await post(ROUTES.persistRoomChange, { op: 'add', room: room.room, by: 'alice', users: ['carol'] });
        assert.equal(added.statusCode, 200);
        assert.deepEqual(added.json<RoomChangeReply>(), { room: { ...room, members: ['alice', 'bob', 'carol'], version: 2 }, removed: [] });
        const after = await get(room.room);
        assert.deepEqual(after, { ...room, members: ['alice', 'bob', 'carol'], version: 2 });

        const forbidden: unknown[] = [
          { op: 'add', room: room.room, by: 'bob', users: ['dave'] },
          { op: 'remove', room: room.room, by: 'bob', users: ['carol'] },
          { op: 'join', room: room.room, by: 'dave' },
          { op: 'leave', room: room.room, by: 'dave' },
          { op: 'add', room: 'no-such-room', by: 'alice', users: ['dave'] },
        ];
        for (const body of forbidden) {
          const res = await post(ROUTES.persistRoomChange, body);
          assert.equal(res.statusCode, 403, JSON.stringify(body));
          assert.equal(res.json().error, 'forbidden');
        }
        const bad: [string, unknown][] = [
          [ROUTES.persistRoomChange, { op: 'add', room: room.room, by: 'alice', users: ['d1', 'd2'] }], // past MAX_ROOM_MEMBERS (4)
          [ROUTES.persistRoomChange, { op: 'remove', room: room.room, by: 'alice', users: ['alice'] }],
          [ROUTES.persistRoomChange, { op: 'add', room: room.room, by: 'alice', users: [] }],
          [ROUTES.persistRoomChange, { op: 'rename', room: room.room, by: 'alice' }],
          [ROUTES.persistRoomChange, { op: 'join', room: '#not an id', by: 'alice' }],
          [ROUTES.persistRoomChange, { op: 'add', room: room.room, by: 'alice', users: ['not a user!'] }],
          [ROUTES.persistRoomCreate, { owner: 'alice', title: 'big', public: true, members: ['m1', 'm2', 'm3', 'm4'] }],
          [ROUTES.persistRoomCreate, { owner: 'alice', title: 'x'.repeat(201), public: true, members: [] }],
          [ROUTES.persistRoomCreate, { owner: 'alice', title: 'n\u0000l', public: true, members: [] }],
          [ROUTES.persistRoomCreate, { owner: 'alice', title: 't', members: [] }],
          [ROUTES.persistRoomGet, { rooms: [] }],
        ];
        for (const [route, body] of bad) {
          const res = await post(route, body);
          assert.equal(res.statusCode, 400, JSON.stringify(body));
          assert.equal(res.json().error, 'bad_request');
        }
        const unsigned = await app.inject({ method: 'POST', url: ROUTES.persistRoomChange, payload: { op: 'add', room: room.room, by: 'alice', users: ['erin'] } });
        assert.equal(unsigned.statusCode, 401);
        assert.deepEqual(await get(room.room), after, 'nothing refused changed the room');
        assert.deepEqual((await post(ROUTES.persistRoomGet, { rooms: ['no-such-room'] })).json(), { rooms: [] });
        const rooms = await withPg(db.url(), (q) => q<{ n: string }>('SELECT count(*) AS n FROM rooms'));
        assert.equal(Number(rooms[0]!.n), 1, 'no refused create stored a room');
      } finally {
        await app.close();
        await writer.close();
      }
    });
  }
});
