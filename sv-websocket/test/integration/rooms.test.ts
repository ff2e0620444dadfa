/**
 * Rooms on a mesh of three real nodes: the room frames of every change reaching every member on
 * any node, refusals (`forbidden`), membership changes taking effect on a node that did not make
 * them, every tab getting every message once, room history, read marks, and one forward per node
 * per message however many members are there. Twice: memory registry in direct mode, and Redis
 * (two sv-discover instances, node i on instance i mod 2) in Kafka mode, where the record key is
 * the room.
 */
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startTestKafka, uniqueTopic } from '@chat/shared/local-kafka';
import type { Ack, ConversationItem, HistoryPage } from '@chat/shared/protocol';
import type { TestClient } from '@chat/shared/protocol-client';
import { eventually } from '@chat/shared/testing/eventually';
import { startTestRedis } from '@chat/shared/testing/redis';
import { metricValue } from '../helpers/faults.ts';
import { consumeRecords, countRecords } from '../helpers/kafka.ts';
import { startMesh, uniqueUser, type KafkaEngine } from '../helpers/mesh.ts';
import { meshSuite } from '../helpers/mesh-suite.ts';
import {
  createRoom, nextError, nextRoomFrame, roomHistoryPage, sendToRoom, takeRoomMessages, wholeRoom,
} from '../helpers/rooms.ts';

const NODE = { RATE_LIMIT_BURST: '1000', ROOM_CREATE_PER_MINUTE: '3' };
const PARTITIONS = 3;
const sorted = (users: readonly string[]) => [...users].sort();
const metric = async (url: string, name: string) => (await metricValue(url, name)) ?? 0;
/** A counter summed over its label sets. */
async function metricSum(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** `c` got no frame of `type` about `room` up to now. */
function noneAbout(c: TestClient, type: 'room' | 'message' | 'read', room: string): void {
  assert.deepEqual(c.frames.filter((f) => f.type === type && 'room' in f && f.room === room), [], `no ${type} frame of ${room}`);
}

/** One message `from` sends to `to` one-to-one, received: what `from`'s node sent `to` before it has arrived too. */
async function fence(from: TestClient, to: TestClient, toUser: string, cid: string): Promise<void> {
  const ack = await from.sendMessage(toUser, 'fence', cid);
  await to.next('message', (m) => m.id === ack.id);
}

for (const { engine, mode } of [{ engine: 'memory', mode: 'direct' }, { engine: 'redis', mode: 'kafka' }] as const) {
  describe(`rooms (${engine} registry, ${mode} mode)`, function () {
    this.timeout(90_000);
    let kafka: KafkaEngine | undefined;
    const suite = meshSuite(async () => {
      if (mode === 'kafka') {
        const broker = await startTestKafka();
        const topic = uniqueTopic('rooms');
        await broker.createTopic(topic, PARTITIONS);
        kafka = { brokers: broker.brokers, topic, partitions: PARTITIONS };
      }
      const redis = engine === 'redis' ? { redisUrl: await startTestRedis(), discovers: 2 } : {};
      return startMesh({ nodes: [NODE, NODE, NODE], kafka, ...redis });
    }, { closeClientsAfterEach: true });
    const connect = (node: number, user: string) => suite.connect(node, user);
    const url = (node: number) => suite.mesh.nodes[node]!.url;

    it('creates a room: every member\'s connections on every node get the room frame, the creator\'s with its cid', async () => {
      const [a, b, c] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol')];
      const [alice, aliceOther, bob, carol] = [await connect(0, a), await connect(1, a), await connect(1, b), await connect(2, c)];
      const made = await createRoom(alice, [b, c], { title: 'plans', cid: 'make-1' });
      assert.deepEqual({ ...made, members: sorted(made.members) },
        { type: 'room', room: made.room, title: 'plans', owner: a, public: false, members: sorted([a, b, c]), cid: 'make-1' });
      assert.deepEqual(await aliceOther.next('room'), made, 'the creator\'s other tab gets it with the cid');
      const { cid: _cid, ...plain } = made;
      for (const member of [bob, carol]) assert.deepEqual(await nextRoomFrame(member, made.room), plain, 'members get it without');
      carol.send({ type: 'room_info', room: made.room });
      assert.deepEqual(await nextRoomFrame(carol, made.room), plain, 'room_info answers the same frame');
    });

    it('applies adds, removes, joins and leaves; each reaches every member on any node and those it took out', async () => {
      const [a, b, c, d] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol'), uniqueUser('dave')];
      const [alice, bob, carol, dave] = [await connect(0, a), await connect(1, b), await connect(2, c), await connect(2, d)];
      const { room } = await createRoom(alice, [b], { public: true });
      await nextRoomFrame(bob, room);
      const expectEveryone = async (who: TestClient[], members: string[]) => {
        for (const x of who) assert.deepEqual(sorted((await nextRoomFrame(x, room)).members), sorted(members));
      };

      dave.send({ type: 'room_join', room });
      await expectEveryone([alice, bob, dave], [a, b, d]);
      alice.send({ type: 'room_add', room, users: [c] });
      await expectEveryone([alice, bob, carol, dave], [a, b, c, d]);
      alice.send({ type: 'room_remove', room, users: [b] });
      await expectEveryone([alice, bob, carol, dave], [a, c, d]);
      carol.send({ type: 'room_leave', room });
      await expectEveryone([alice, carol, dave], [a, d]);
      // Joining again changes nothing: only the asking connection is answered.
      dave.send({ type: 'room_join', room });
      assert.deepEqual(sorted((await nextRoomFrame(dave, room)).members), sorted([a, d]));
      await fence(dave, alice, a, 'join-fence');
      noneAbout(alice, 'room', room);
      noneAbout(bob, 'room', room);
    });

    it('refuses non-members, non-owners and joins of a private room with forbidden; the connection stays usable', async () => {
      const [a, b, m] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('mallory')];
      const [alice, bob, mallory] = [await connect(0, a), await connect(1, b), await connect(2, m)];
      const { room } = await createRoom(alice, [b]);
      await nextRoomFrame(bob, room);

      mallory.send({ type: 'send', room, body: 'let me in', cid: 'intrude' });
      assert.deepEqual(await nextError(mallory), { type: 'error', code: 'forbidden', message: 'Forbidden: not a member of the room', cid: 'intrude' });
      for (const frame of [{ type: 'history', room }, { type: 'room_info', room }, { type: 'read', room, seq: 1 }, { type: 'room_join', room }, { type: 'room_add', room, users: [m] }]) {
        mallory.send(frame);
        assert.equal((await nextError(mallory)).code, 'forbidden', `${frame.type} by a non-member`);
      }
      for (const frame of [{ type: 'room_add', room, users: [m] }, { type: 'room_remove', room, users: [a] }]) {
        bob.send(frame);
        assert.equal((await nextError(bob)).code, 'forbidden', `${frame.type} by a member who is not the owner`);
      }
      alice.send({ type: 'room_remove', room, users: [a] });
      assert.equal((await nextError(alice)).code, 'bad_request', 'the owner cannot be removed');
      alice.send({ type: 'room_add', room, users: ['no spaces allowed'] });
      assert.equal((await nextError(alice)).code, 'bad_request');

      const denied = await request(`${url(1)}/v1/rooms/${room}/messages?user=${m}`);
      assert.deepEqual([denied.statusCode, ((await denied.body.json()) as { error: string }).error], [403, 'forbidden']);
      const ack = await sendToRoom(bob, room, 'members only', 'ok-1');
      await alice.next('message', (f) => f.id === ack.id);
      await fence(bob, mallory, m, 'refusal-fence');
      noneAbout(mallory, 'message', room);
      noneAbout(mallory, 'room', room);
      const allowed = await request(`${url(2)}/v1/rooms/${room}/messages?user=${a}`);
      assert.equal(allowed.statusCode, 200);
      if (mode === 'direct') assert.deepEqual(((await allowed.body.json()) as HistoryPage).messages.map((x) => x.id), [ack.id]);
      else await allowed.body.dump();
    });

    it('rate-limits room creation per user', async () => {
      const a = uniqueUser('alice');
      const [alice, aliceOther] = [await connect(0, a), await connect(0, a)];
      for (let i = 0; i < 2; i++) await createRoom(alice, [], { cid: `rl-${i}` });
      await createRoom(aliceOther, [], { cid: 'rl-2' });
      aliceOther.send({ type: 'room_create', title: 'one too many', members: [], cid: 'rl-3' });
      assert.deepEqual(await nextError(aliceOther), { type: 'error', code: 'rate_limited', message: 'Rate limited: too many rooms created; try again in a minute', cid: 'rl-3' });
    });

    it('stops delivering to a removed member at once on a node that did not remove them, and delivers the next message to an added one', async () => {
      const [a, b, c, d] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol'), uniqueUser('dave')];
      const [alice, bob, carol, dave] = [await connect(0, a), await connect(1, b), await connect(1, c), await connect(2, d)];
      const { room } = await createRoom(alice, [b, d]);
      for (const x of [bob, dave]) await nextRoomFrame(x, room);
      // Dave's node now holds the member list (bob in it): it sends there.
      const first = await sendToRoom(dave, room, 'one', 'rm-1');
      await bob.next('message', (f) => f.id === first.id);

      const dropsBefore = await metric(url(2), 'chat_room_list_drops_total');
      alice.send({ type: 'room_remove', room, users: [b] });
      assert.deepEqual(sorted((await nextRoomFrame(bob, room)).members), sorted([a, d]), 'bob is told he is out');
      await eventually('dave\'s node dropped the old member list', async () => (await metric(url(2), 'chat_room_list_drops_total')) > dropsBefore);
      const second = await sendToRoom(dave, room, 'two', 'rm-2');
      await alice.next('message', (f) => f.id === second.id);
      await fence(dave, bob, b, 'rm-fence');
      assert.deepEqual(takeRoomMessages(bob, room).map((f) => f.id), [], 'bob got nothing after his removal');

      alice.send({ type: 'room_add', room, users: [c] });
      await nextRoomFrame(carol, room);
      await eventually('dave\'s node dropped the list again', async () => (await metric(url(2), 'chat_room_list_drops_total')) > dropsBefore + 1);
      const third = await sendToRoom(dave, room, 'three', 'rm-3');
      assert.equal((await carol.next('message', (f) => f.room === room)).id, third.id, 'carol gets the next message');
    });

    it('with members on three nodes, each with two tabs on two nodes: every tab gets every message once, in seq order', async () => {
      const users = [uniqueUser('u0'), uniqueUser('u1'), uniqueUser('u2')];
      const tabs: TestClient[] = [];
      for (const [i, u] of users.entries()) tabs.push(await connect(i, u), await connect((i + 1) % 3, u));
      const { room } = await createRoom(tabs[0]!, users.slice(1));
      for (const t of tabs.slice(1)) await nextRoomFrame(t, room);

      // One after another, each delivered everywhere before the next: every tab gets them in seq
      // order, each once; the sending tab gets its ack instead.
      const expected = tabs.map(() => [] as number[]);
      const got = tabs.map(() => [] as number[]);
      for (let k = 0; k < 12; k++) {
        const sender = tabs[k % tabs.length]!;
        const ack = await sendToRoom(sender, room, `turn ${k}`, `turn-${k}`);
        for (const [i, t] of tabs.entries()) {
          if (t === sender) continue;
          expected[i]!.push(ack.seq);
          got[i]!.push((await t.next('message', (f) => f.room === room)).seq);
        }
      }
      assert.deepEqual(got, expected);
      // A last one: the next room message every other tab gets is this one (no repeat came before it).
      const last = await sendToRoom(tabs[0]!, room, 'last', 'turn-last');
      for (const t of tabs.slice(1)) assert.equal((await t.next('message', (f) => f.room === room)).id, last.id);
      for (const t of tabs) assert.deepEqual(takeRoomMessages(t, room), [], 'nobody got their own');

      // All at once: each tab gets every message but its own once; along each node's path in seq order.
      const acks = await Promise.all(tabs.map(async (t, i) => {
        const mine = [];
        for (let k = 0; k < 5; k++) mine.push(await sendToRoom(t, room, `burst ${i}.${k}`, `burst-${i}-${k}`));
        return mine;
      }));
      for (const [i, t] of tabs.entries()) {
        const others = acks.filter((_, j) => j !== i).flat();
        await eventually(`tab ${i} got the burst`, () => t.frames.filter((f) => f.type === 'message').length >= others.length);
        const got = takeRoomMessages(t, room);
        assert.deepEqual(sorted(got.map((m) => m.id)), sorted(others.map((x) => x.id)), `tab ${i}: every message but its own, once`);
        for (const [j, theirs] of acks.entries()) {
          if (j === i) continue;
          const seqs = got.filter((m) => theirs.some((x) => x.id === m.id)).map((m) => m.seq);
          assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `tab ${i}: tab ${j}'s messages in seq order`);
        }
      }
    });

    it('pages a room\'s history by seq, both ways, on the wire and over HTTP', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const [alice, bob] = [await connect(0, a), await connect(2, b)];
      const { room } = await createRoom(alice, [b]);
      const acks: Ack[] = [];
      for (let k = 0; k < 7; k++) acks.push(await sendToRoom(k % 2 === 0 ? alice : bob, room, `h${k}`, `h-${k}`));
      const seqs = acks.map((x) => x.seq);
      await eventually('the room stored', async () => assert.equal((await wholeRoom(bob, room)).length, 7));

      const newest = await roomHistoryPage(bob, room, { limit: 3 });
      assert.deepEqual([newest.messages.map((m) => m.seq), newest.more], [seqs.slice(4), true]);
      assert.deepEqual(newest.messages[0], { id: acks[4]!.id, seq: seqs[4], cid: 'h-4', from: a, room, body: 'h4', ts: acks[4]!.ts });
      const older = await roomHistoryPage(bob, room, { before: seqs[4], limit: 3 });
      assert.deepEqual([older.messages.map((m) => m.seq), older.more], [seqs.slice(1, 4), true]);
      const oldest = await roomHistoryPage(bob, room, { before: seqs[1], limit: 3 });
      assert.deepEqual([oldest.messages.map((m) => m.seq), oldest.more], [seqs.slice(0, 1), false]);
      const after = await roomHistoryPage(alice, room, { after: seqs[2], limit: 3 });
      assert.deepEqual([after.messages.map((m) => m.seq), after.more], [seqs.slice(3, 6), true]);

      const http = await request(`${url(1)}/v1/rooms/${room}/messages?user=${b}&after=${seqs[5]}`);
      const page = (await http.body.json()) as HistoryPage;
      assert.deepEqual([http.statusCode, page.messages.map((m) => m.seq), page.more], [200, seqs.slice(6), false]);
    });

    it('tells a room read mark to the reader\'s other tabs only, and lists the room in conversations with its unread count', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const [alice, aliceOther, bob] = [await connect(0, a), await connect(2, a), await connect(1, b)];
      const { room } = await createRoom(alice, [b], { title: 'reading' });
      const acks: Ack[] = [];
      for (let k = 0; k < 3; k++) acks.push(await sendToRoom(bob, room, `r${k}`, `rd-${k}`));
      let item: ConversationItem | undefined;
      await eventually('the room listed with 3 unread', async () => {
        alice.send({ type: 'conversations' });
        item = (await alice.next('conversations')).items.find((i) => i.room === room);
        assert.deepEqual(item && [item.title, item.unread, item.last.id, item.with], ['reading', 3, acks[2]!.id, undefined]);
      }, 30_000, () => item);

      alice.send({ type: 'read', room, seq: acks[1]!.seq });
      assert.deepEqual(await aliceOther.next('read'), { type: 'read', by: a, room, seq: acks[1]!.seq });
      await fence(alice, bob, b, 'read-fence');
      noneAbout(bob, 'read', room);
      noneAbout(alice, 'read', room);
      alice.send({ type: 'conversations' });
      assert.equal((await alice.next('conversations')).items.find((i) => i.room === room)?.unread, 1);
    });

    it('forwards a room\'s message once per node holding members, not once per member', async () => {
      const us = Array.from({ length: 6 }, (_, i) => uniqueUser(`f${i}`));
      // The sender alone on node 0; three members on node 1, two on node 2.
      const clients = [await connect(0, us[0]!), ...await Promise.all(us.slice(1).map((u, i) => connect(i < 3 ? 1 : 2, u)))];
      const { room } = await createRoom(clients[0]!, us.slice(1));
      for (const c of clients.slice(1)) await nextRoomFrame(c, room);
      const counters = ['chat_forward_requests_total', 'chat_deliveries_forwarded_total'];
      const before = await Promise.all(counters.map((n) => metric(url(0), n)));
      const received = await Promise.all([1, 2].map((n) => metricSum(url(n), 'chat_forwards_received_total')));

      const ack = await sendToRoom(clients[0]!, room, 'to all', 'fwd-1');
      for (const c of clients.slice(1)) await c.next('message', (f) => f.id === ack.id);
      const after = await Promise.all(counters.map((n) => metric(url(0), n)));
      assert.deepEqual(after.map((v, i) => v - before[i]!), [2, 2], 'two forward requests, one per other node');
      const receivedAfter = await Promise.all([1, 2].map((n) => metricSum(url(n), 'chat_forwards_received_total')));
      assert.deepEqual(receivedAfter.map((v, i) => v - received[i]!), [1, 1], 'each node received one');
    });

    if (mode === 'kafka') {
      it('keys a room\'s records by the room, so they stay in one partition in seq order', async () => {
        const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
        const [alice, bob] = [await connect(0, a), await connect(1, b)];
        const { room } = await createRoom(alice, [b]);
        const acks: Ack[] = [];
        for (let k = 0; k < 6; k++) acks.push(await sendToRoom(k % 2 === 0 ? alice : bob, room, `k${k}`, `key-${k}`));
        const total = await countRecords(kafka!.brokers, kafka!.topic);
        const records = (await consumeRecords(kafka!.brokers, kafka!.topic, total)).filter((r) => r.message.to === `#${room}`);
        assert.deepEqual(records.map((r) => r.message.id), acks.map((x) => x.id));
        assert.deepEqual(new Set(records.map((r) => r.key)), new Set([`#${room}`]));
        assert.equal(new Set(records.map((r) => r.partition)).size, 1);
      });
    }
  });
}
