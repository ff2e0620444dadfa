/**
 * Room changes on the change feed: a node names rooms whose members it changed
 * (`POST /internal/v1/rooms/changed`), and every subscriber, of any sv-discover instance, is told,
 * the highest version of each room heard in one turn; bad input is refused and changes nothing.
 */
import assert from 'node:assert/strict';
import { ROUTES } from '@chat/shared/internal-api';
import { eventually } from '@chat/shared/testing/eventually';
import { feedSetups, post, Subscriber } from '../helpers/feed.ts';

for (const [engine, setup] of Object.entries(feedSetups)) {
  describe(`room changes on the change feed (${engine} registry)`, function () {
    this.timeout(20_000);
    let mesh: Awaited<ReturnType<typeof setup>>;
    const open: Subscriber[] = [];

    beforeEach(async () => {
      mesh = await setup();
    });
    afterEach(async () => {
      for (const s of open.splice(0)) s.ws.terminate();
      await mesh.close();
    });

    it('tells every subscriber, watching anyone or no one, of each room changed', async () => {
      for (let i = 0; i < 3; i++) open.push(await Subscriber.open(mesh.reader.url));
      open[0]!.send({ watch: ['bob'] });
      await post(mesh.writer, ROUTES.discoverRoomsChanged, { rooms: [{ room: 'r1', version: 2 }, { room: 'r2', version: 7 }] });
      await post(mesh.writer, ROUTES.discoverRoomsChanged, { rooms: [{ room: 'r1', version: 3 }] });
      for (const s of open) {
        await eventually('both changes pushed', () => {
          const latest = new Map(s.rooms.flat().map((r) => [r.room, r.version]));
          assert.deepEqual(Object.fromEntries(latest), { r1: 3, r2: 7 });
        });
        for (const frame of s.rooms) assert.equal(new Set(frame.map((r) => r.room)).size, frame.length, 'a room once per frame');
      }
    });

    it('refuses a body that does not validate, telling nobody', async () => {
      const s = await Subscriber.open(mesh.reader.url);
      open.push(s);
      await post(mesh.writer, ROUTES.discoverRoomsChanged, { rooms: [] }, 400);
      await post(mesh.writer, ROUTES.discoverRoomsChanged, { rooms: [{ room: 'has space', version: 1 }] }, 400);
      await post(mesh.writer, ROUTES.discoverRoomsChanged, { rooms: [{ room: 'r1', version: -1 }] }, 400);
      await post(mesh.writer, ROUTES.discoverRoomsChanged, { rooms: [{ room: 'fence', version: 1 }] });
      await eventually('the valid one pushed', () => assert.deepEqual(s.rooms, [[{ room: 'fence', version: 1 }]]));
    });
  });
}
