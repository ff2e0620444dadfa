/**
 * Presence on the change feed, at sv-discover: a subscriber gets the state of each user it adds
 * to its watch set, then their transitions and nobody else's; with Redis, a transition made
 * through one instance reaches a subscriber of another.
 */
import assert from 'node:assert/strict';
import { ROUTES } from '@chat/shared/internal-api';
import { eventually } from '@chat/shared/testing/eventually';
import { feedSetups, node, post, Subscriber } from '../helpers/feed.ts';

for (const [engine, setup] of Object.entries(feedSetups)) {
  describe(`presence on the change feed (${engine} registry)`, function () {
    this.timeout(20_000);
    let mesh: Awaited<ReturnType<typeof setup>>;
    const open: Subscriber[] = [];
    const subscribe = async () => {
      const s = await Subscriber.open(mesh.reader.url);
      open.push(s);
      return s;
    };

    beforeEach(async () => {
      mesh = await setup();
      await post(mesh.writer, ROUTES.discoverLease, { ...node, ttlMs: 60_000 });
    });
    afterEach(async () => {
      for (const s of open.splice(0)) s.ws.terminate();
      await mesh.close();
    });

    it('answers the state of each user watched, then pushes their transitions only to subscribers watching them', async () => {
      await post(mesh.writer, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'bob', connId: 'b1' }], remove: [] });
      const watcher = await subscribe();
      const idle = await subscribe();
      const other = await subscribe();
      watcher.send({ watch: ['bob', 'carol'] });
      other.send({ watch: ['dave'] });
      await eventually('the states of bob and carol', () => assert.equal(watcher.states.length, 2));
      assert.deepEqual(watcher.of('bob'), { user: 'bob', online: true, last_seen: null });
      assert.deepEqual(watcher.of('carol'), { user: 'carol', online: false, last_seen: null });

      await post(mesh.writer, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'carol', connId: 'c1' }], remove: ['b1'] });
      await eventually('carol online, bob offline', () => {
        assert.equal(watcher.of('carol')?.online, true);
        assert.equal(watcher.of('bob')?.online, false);
      });
      assert.equal(typeof watcher.of('bob')?.last_seen, 'number');
      await post(mesh.writer, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'dave', connId: 'd1' }], remove: [] });
      await eventually('dave online for the subscriber watching him', () => assert.equal(other.of('dave')?.online, true));
      assert.deepEqual(idle.states, [], 'a subscriber watching nobody hears nothing');
      assert.deepEqual(other.states.map((s) => s.user), ['dave', 'dave'], 'nor of users it does not watch');
      assert.equal(watcher.of('dave'), undefined);
    });

    it('stops pushing a user after unwatch, and closes a subscriber that sends a bad frame', async () => {
      const watcher = await subscribe();
      watcher.send({ watch: ['erin'] });
      await eventually('erin answered', () => assert.equal(watcher.states.length, 1));
      watcher.send({ unwatch: ['erin'] });
      watcher.send({ watch: ['frank'] });
      await eventually('frank answered', () => assert.equal(watcher.states.length, 2));
      await post(mesh.writer, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'erin', connId: 'e1' }, { user: 'frank', connId: 'f1' }], remove: [] });
      await eventually('frank online', () => assert.equal(watcher.of('frank')?.online, true));
      assert.deepEqual(watcher.states.filter((s) => s.user === 'erin').length, 1, 'no push for erin after unwatch');

      watcher.send({ watch: ['not a user id'] });
      assert.equal(await watcher.closed, 1008);
      const second = await subscribe();
      second.send('not json');
      assert.equal(await second.closed, 1007);
    });

    it('pushes the users of a removed node offline with their last-seen time', async () => {
      await post(mesh.writer, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'gina', connId: 'g1' }], remove: [] });
      const watcher = await subscribe();
      watcher.send({ watch: ['gina'] });
      await eventually('gina answered online', () => assert.equal(watcher.of('gina')?.online, true));
      const before = Date.now();
      await post(mesh.writer, ROUTES.discoverRemoveNode, { nodeId: node.nodeId });
      await eventually('gina offline', () => assert.equal(watcher.of('gina')?.online, false));
      assert.ok(watcher.of('gina')!.last_seen! >= before - 1000);
    });
  });
}
