/**
 * Overload, two ways a node stops accepting sends it could only queue:
 * - its deliveries cannot keep up (here its peer is frozen with SIGSTOP, so every forward to it
 *   waits): at MAX_PENDING_DELIVERIES in progress;
 * - its log cannot keep up (here sv-persist is frozen): once the oldest message it is writing has
 *   waited LOG_MAX_WAIT_MS.
 * The refused send is answered `unavailable` with its cid at once and not stored; once the
 * backlog drains, the same cid is accepted and stored once.
 */
import assert from 'node:assert/strict';
import { clientsOf, startMesh, uniqueUser, type Mesh, type MeshOptions } from '../helpers/mesh.ts';
import type { ServiceProcess } from '@chat/shared/service-process';
import { withPg } from '@chat/shared/local-postgres';
import { eventually } from '@chat/shared/testing/eventually';
import { expectStoredExactlyOnce } from '../helpers/stored.ts';
import { metricValue } from '../helpers/faults.ts';

/**
 * A mesh for one suite whose tests freeze `frozen(mesh)` with SIGSTOP: it is thawed before the
 * mesh stops, whatever a test left behind.
 */
function meshWithFrozen(opts: MeshOptions, frozen: (mesh: Mesh) => ServiceProcess | undefined) {
  let mesh: Mesh | undefined;
  const current = () => mesh!;
  const clients = clientsOf(current);
  before(async function () {
    this.timeout(180_000);
    mesh = await startMesh(opts);
  });
  after(async () => {
    const p = mesh && frozen(mesh);
    if (p?.child.exitCode === null) p.child.kill('SIGCONT');
    await clients.closeAll();
    await mesh?.stop();
  });
  return { mesh: current, clients };
}

describe('faults: a node past MAX_PENDING_DELIVERIES refuses sends until its deliveries drain', function () {
  this.timeout(90_000);
  const suite = meshWithFrozen({ nodes: [{ MAX_PENDING_DELIVERIES: '2' }, {}] }, (m) => m.nodes[1]);
  const clients = suite.clients;

  it('answers unavailable with the cid, stores nothing for it, and accepts the retry once drained', async () => {
    const mesh = suite.mesh();
    const [a, b] = ['alice', 'bob'].map(uniqueUser) as [string, string];
    const alice = await clients.connect(0, a);
    const bob = await clients.connect(1, b);
    const sender = mesh.nodes[0]!;
    const frozen = mesh.nodes[1]!;
    // A first message proves the forward path to bob's node, so the next ones forward at once.
    const warm = await alice.sendMessage(b, 'hello', 'o-0');
    assert.equal((await bob.next('message', (m) => m.id === warm.id)).body, 'hello');
    // bob has it once node-1 handed it over; node-0's delivery ends when node-1's answer is back.
    await eventually('the first delivery finished', async () => (await metricValue(sender.url, 'chat_deliveries_pending')) === 0);

    frozen.child.kill('SIGSTOP');
    try {
      const first = await alice.sendMessage(b, 'one', 'o-1');
      const second = await alice.sendMessage(b, 'two', 'o-2');
      await eventually('two deliveries pending on the sender', async () => (await metricValue(sender.url, 'chat_deliveries_pending')) === 2);

      alice.send({ type: 'send', to: b, body: 'three', cid: 'o-3' });
      const refused = await alice.next('error', (e) => e.cid === 'o-3');
      assert.equal(refused.code, 'unavailable');
      // Direct mode (the default) acks after the commit, so what was accepted is stored by now.
      const stored = await withPg(mesh.databaseUrl, (q) => q<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE sender = $1 AND cid = $2', [a, 'o-3']));
      assert.equal(stored[0]!.n, 0, 'a refused send is not stored');

      frozen.child.kill('SIGCONT');
      await eventually('the deliveries drained', async () => (await metricValue(sender.url, 'chat_deliveries_pending')) === 0);
      const third = await alice.sendMessage(b, 'three', 'o-3');
      assert.equal((await bob.next('message', (m) => m.id === third.id)).body, 'three');
      await expectStoredExactlyOnce(mesh.databaseUrl, [warm, first, second, third].map((m, i) => ({ from: a, cid: `o-${i}`, id: m.id, seq: m.seq })));
    } finally {
      if (frozen.child.exitCode === null) frozen.child.kill('SIGCONT');
    }
  });
});

describe('faults: a node whose log is LOG_MAX_WAIT_MS behind refuses sends at once until it catches up', function () {
  this.timeout(90_000);
  const suite = meshWithFrozen({ nodes: [{ LOG_MAX_WAIT_MS: '300' }] }, (m) => m.persist);
  const clients = suite.clients;

  it('answers unavailable with the cid well before the write times out, and accepts the retry once the log answers', async () => {
    const mesh = suite.mesh();
    const [a, b] = ['alice', 'bob'].map(uniqueUser) as [string, string];
    const alice = await clients.connect(0, a);
    const node = mesh.nodes[0]!;
    const first = await alice.sendMessage(b, 'one', 'w-1');
    const frozen = mesh.persist;
    frozen.child.kill('SIGSTOP');
    try {
      // Waits for sv-persist's answer (the write's deadline is 5 s), so the log falls behind.
      alice.send({ type: 'send', to: b, body: 'two', cid: 'w-2' });
      await eventually('the log 300 ms behind', async () => ((await metricValue(node.url, 'chat_log_backlog_seconds')) ?? 0) > 0.3);
      alice.send({ type: 'send', to: b, body: 'three', cid: 'w-3' });
      const refused = await alice.next('error', (e) => e.cid === 'w-3');
      assert.equal(refused.code, 'unavailable');
      assert.ok(!alice.frames.some((f) => 'cid' in f && f.cid === 'w-2'), 'refused at once: the earlier write still waits for its answer');
      assert.equal(await metricValue(node.url, 'chat_sends_refused_total{reason="log_wait"}'), 1);

      frozen.child.kill('SIGCONT');
      const second = await alice.next('ack', (x) => x.cid === 'w-2');
      await eventually('the backlog drained', async () => (await metricValue(node.url, 'chat_log_backlog_seconds')) === 0);
      const third = await alice.sendMessage(b, 'three', 'w-3');
      await expectStoredExactlyOnce(mesh.databaseUrl, [first, second, third].map((m, i) => ({ from: a, cid: `w-${i + 1}`, id: m.id, seq: m.seq })));
    } finally {
      if (frozen.child.exitCode === null) frozen.child.kill('SIGCONT');
    }
  });
});
