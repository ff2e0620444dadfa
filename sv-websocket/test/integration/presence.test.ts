/**
 * Presence across nodes (`watch` → `presence`): a user is online while any of their connections is
 * registered on any node, offline with a last-seen time once the last one closes. The watcher's
 * node hears through sv-discover's change feed only of the users its connections watch; with Redis
 * the transitions cross sv-discover instances (the watcher's node follows instance 0, the others
 * register through instance 1). One case runs in Kafka mode, which presence does not depend on.
 */
import assert from 'node:assert/strict';
import { startTestKafka, uniqueTopic } from '@chat/shared/local-kafka';
import { eventually } from '@chat/shared/testing/eventually';
import { startMesh, startRegistryMesh, uniqueUser } from '../helpers/mesh.ts';
import { meshSuite } from '../helpers/mesh-suite.ts';
import { presenceReceived, watch } from '../helpers/presence.ts';

for (const engine of ['memory', 'redis'] as const) {
  describe(`presence across nodes (${engine} registry, direct mode)`, function () {
    this.timeout(60_000);
    const suite = meshSuite(() => startRegistryMesh(engine, [{}, {}, {}]), { closeClientsAfterEach: true });
    const clients = { connect: suite.connect };

    it('answers each watched user at once, online or never seen, then says when they come and go', async () => {
      const [a, b, c] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol')];
      const bob = await clients.connect(1, b);
      const alice = await clients.connect(0, a);
      const answers = await watch(alice, [b, c]);
      assert.deepEqual(answers.get(b), { type: 'presence', user: b, online: true, last_seen: null });
      assert.deepEqual(answers.get(c), { type: 'presence', user: c, online: false, last_seen: null }, 'never seen');

      await clients.connect(2, c);
      assert.deepEqual(await alice.next('presence', (p) => p.user === c), { type: 'presence', user: c, online: true, last_seen: null });
      const closedAt = Date.now();
      await bob.close();
      const offline = await alice.next('presence', (p) => p.user === b);
      assert.equal(offline.online, false);
      assert.ok(offline.last_seen !== null && offline.last_seen >= closedAt - 1000, `last seen ${offline.last_seen}, closed at ${closedAt}`);

      const late = await clients.connect(2, a);
      const again = await watch(late, [b]);
      assert.deepEqual(again.get(b), offline, 'a later watcher gets the same last-seen time');
    });

    it('keeps a user online while a tab on another node is open, offline when the last one closes', async () => {
      const [a, b, c] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol')];
      const bobHere = await clients.connect(1, b);
      const bobThere = await clients.connect(2, b);
      const alice = await clients.connect(0, a);
      assert.equal((await watch(alice, [b, c])).get(b)!.online, true);
      await bobHere.close();
      await eventually('discovery dropped the closed tab', async () => assert.deepEqual(await suite.probe.nodesOf(b), ['node-2']));
      // A later change of another watched user, registered through the same node: had bob gone
      // offline, that would have come first.
      await clients.connect(1, c);
      await alice.next('presence', (p) => p.user === c && p.online);
      assert.equal(alice.frames.filter((f) => f.type === 'presence' && f.user === b).length, 0, 'no news of bob');
      await bobThere.close();
      const offline = await alice.next('presence', (p) => p.user === b);
      assert.equal(offline.online, false);
      assert.equal(typeof offline.last_seen, 'number');
    });

    it('refuses a watch of more than 500 users with bad_request, keeping the list it had', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const alice = await clients.connect(0, a);
      await watch(alice, [b]);
      alice.send({ type: 'watch', users: Array.from({ length: 501 }, (_, i) => `${b}-${i}`) });
      const refused = await alice.next('error');
      assert.equal(refused.code, 'bad_request');
      await clients.connect(1, b);
      assert.equal((await alice.next('presence', (p) => p.user === b)).online, true, 'bob is still watched');
    });

    it('sends no presence to a node whose connections watch nobody, and releases a closed watcher\'s users', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      // Node 1 holds the watched users of every test here, and connections that watch nobody.
      const bob = await clients.connect(1, b);
      await clients.connect(1, uniqueUser('idle'));
      const alice = await clients.connect(0, a);
      await watch(alice, [b]);
      await bob.close();
      await alice.next('presence', (p) => p.user === b && !p.online);
      assert.ok((await presenceReceived(suite.mesh.nodes[0]!.url)) >= 2, 'the watcher\'s node got the answer and the change');
      assert.equal(await presenceReceived(suite.mesh.nodes[1]!.url), 0, 'not one state in this whole file');
      await alice.close();
      await eventually('node 0 watches nobody once its watcher closed', async () => {
        const text = await (await fetch(`${suite.mesh.nodes[0]!.url}/metrics`)).text();
        assert.match(text, /^chat_presence_watched_users 0$/m);
      });
    });
  });
}

describe('presence across nodes (memory registry, Kafka mode)', function () {
  this.timeout(60_000);
  const suite = meshSuite(async () => {
    const kafka = await startTestKafka();
    const topic = uniqueTopic('presence');
    await kafka.createTopic(topic, 3);
    return startMesh({ nodes: [{}, {}], kafka: { brokers: kafka.brokers, topic, partitions: 3 } });
  }, { closeClientsAfterEach: true });
  const clients = { connect: suite.connect };

  it('says online when the watched user connects on the other node, offline with a last-seen time when they leave', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await clients.connect(0, a);
    assert.equal((await watch(alice, [b])).get(b)!.online, false);
    const bob = await clients.connect(1, b);
    assert.equal((await alice.next('presence', (p) => p.user === b)).online, true);
    const ack = await bob.sendMessage(a, 'through kafka', 'k-1');
    assert.equal((await alice.next('message', (m) => m.id === ack.id)).body, 'through kafka');
    await bob.close();
    const offline = await alice.next('presence', (p) => p.user === b);
    assert.equal(offline.online, false);
    assert.equal(typeof offline.last_seen, 'number');
  });
});
