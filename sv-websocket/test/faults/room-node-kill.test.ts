/**
 * SIGKILL of a node while every member of a room writes to it: nothing acked is missing from the
 * room's history, nothing is there twice, and `seq` orders it. The killed node's members reconnect
 * to another node and resend what was not acked with the same `cid`. In both log modes.
 */
import assert from 'node:assert/strict';
import { startTestKafka, uniqueTopic } from '@chat/shared/local-kafka';
import type { Ack } from '@chat/shared/protocol';
import type { TestClient } from '@chat/shared/protocol-client';
import { eventually } from '@chat/shared/testing/eventually';
import { startMesh, uniqueUser, type KafkaEngine } from '../helpers/mesh.ts';
import { meshSuite } from '../helpers/mesh-suite.ts';
import { createRoom, nextRoomFrame, sendToRoom, wholeRoom } from '../helpers/rooms.ts';
import { expectStoredExactlyOnce, type AckedMessage } from '../helpers/stored.ts';

const NODE = { LEASE_MS: '2000', RATE_LIMIT_BURST: '1000' };
const PER_SENDER = 30;
const PARTITIONS = 3;
const VICTIM = 2;

for (const mode of ['direct', 'kafka'] as const) {
  describe(`faults: SIGKILL of a node during room traffic (${mode} mode)`, function () {
    this.timeout(120_000);
    const suite = meshSuite(async () => {
      let kafka: KafkaEngine | undefined;
      if (mode === 'kafka') {
        const broker = await startTestKafka();
        const topic = uniqueTopic('room-kill');
        await broker.createTopic(topic, PARTITIONS);
        kafka = { brokers: broker.brokers, topic, partitions: PARTITIONS };
      }
      return startMesh({ nodes: [NODE, NODE, NODE], kafka });
    });

    /** Send `cid` until acked: after its connection dies, on a new one to a surviving node; after a refusal, again. */
    async function sendUntilAcked(user: string, tab: { client: TestClient; node: number }, room: string, cid: string): Promise<Ack> {
      for (let attempt = 0; ; attempt++) {
        const sending = sendToRoom(tab.client, room, `${cid} body`, cid);
        sending.catch(() => undefined); // settled below, or left behind with its dead connection
        const answer = await Promise.race([sending.then((a) => a, () => null), tab.client.closed.then(() => undefined)]);
        if (answer) return answer;
        if (answer === undefined) {
          tab.node = attempt % 2;
          tab.client = await suite.connect(tab.node, user);
        } else {
          await new Promise((r) => setTimeout(r, 100)); // refused (unavailable while the mesh notices): try again
        }
      }
    }

    it('keeps every acked message in the room\'s history once, in seq order', async () => {
      const users = Array.from({ length: 6 }, (_, i) => uniqueUser(`rk${i}`));
      const tabs = await Promise.all(users.map(async (u, i) => ({ client: await suite.connect(i % 3, u), node: i % 3 })));
      const { room } = await createRoom(tabs[0]!.client, users.slice(1));
      for (const t of tabs.slice(1)) await nextRoomFrame(t.client, room);

      const acked: AckedMessage[] = [];
      const load = Promise.all(users.map(async (u, i) => {
        for (let k = 0; k < PER_SENDER; k++) {
          const ack = await sendUntilAcked(u, tabs[i]!, room, `rk-${k}`);
          acked.push({ from: u, cid: ack.cid, id: ack.id, seq: ack.seq });
        }
      }));
      await eventually('a third of the load acked', () => acked.length >= (PER_SENDER * users.length) / 3);
      await suite.mesh.nodes[VICTIM]!.stop('SIGKILL');
      await load;
      assert.equal(suite.mesh.nodes[VICTIM]!.child.signalCode, 'SIGKILL', 'the node really died');
      assert.ok(tabs.filter((_, i) => i % 3 === VICTIM).every((t) => t.node !== VICTIM), 'its members moved to other nodes');
      assert.equal(acked.length, PER_SENDER * users.length);

      await expectStoredExactlyOnce(suite.mesh.databaseUrl, acked);
      const reader = await suite.connect(0, users[0]!);
      let history: Awaited<ReturnType<typeof wholeRoom>> = [];
      await eventually('the room\'s history holds every acked message', async () => {
        history = await wholeRoom(reader, room);
        return history.length >= acked.length;
      }, 30_000, () => ({ stored: history.length, acked: acked.length }));
      assert.deepEqual(history.map((m) => m.id).sort(), acked.map((a) => a.id).sort(), 'each acked message once, nothing else');
      const bySeq = history.map((m) => m.seq);
      assert.deepEqual(bySeq, [...bySeq].sort((x, y) => x - y), 'in seq order');
      assert.equal(new Set(bySeq).size, bySeq.length, 'seq strictly increases');
      const seqOf = new Map(acked.map((a) => [a.id, a.seq]));
      for (const m of history) assert.equal(m.seq, seqOf.get(m.id), `${m.id} has its acked seq`);
    });
  });
}
