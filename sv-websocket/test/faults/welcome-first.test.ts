/**
 * `welcome` is the first frame a connection gets (it answers `hello`, docs/protocol.md), even when
 * a message for the user arrives while discovery is still registering the connection. The node
 * holds such messages and sends them right after `welcome`. A client catches up after `welcome`
 * from the highest seq it had received; a message shown to it before `welcome` would raise that
 * mark past the messages it missed while away, and the client would never ask for them.
 * sv-discover is frozen with SIGSTOP to hold the registration open.
 */
import assert from 'node:assert/strict';
import type { ServerFrame } from '@chat/shared/protocol';
import { TestClient } from '@chat/shared/protocol-client';
import { eventually } from '@chat/shared/testing/eventually';
import { clientsOf, startMesh, uniqueUser, type Mesh } from '../helpers/mesh.ts';
import { metricValue } from '../helpers/faults.ts';

const BUFFER_BYTES = 64 * 1024;

describe('faults: a message that arrives while a connection is being registered', function () {
  this.timeout(60_000);
  let mesh: Mesh;
  const clients = clientsOf(() => mesh);
  let bob: TestClient | undefined;

  before(async function () {
    this.timeout(180_000);
    // The smallest buffer the node accepts, so the second test can fill it with a few messages.
    mesh = await startMesh({ nodes: [{ MAX_BUFFERED_BYTES: String(BUFFER_BYTES) }] });
  });
  after(async () => {
    if (mesh?.discover.child.exitCode === null) mesh.discover.child.kill('SIGCONT');
    await bob?.close();
    await clients.closeAll();
    await mesh?.stop();
  });

  /**
   * Freeze sv-discover, open a connection and say hello as `user`. Once the node has counted the
   * hello, the connection is one of its local ones, and its registration waits for the frozen
   * sv-discover: no welcome yet. The caller sends SIGCONT.
   */
  async function helloWhileDiscoveryFrozen(user: string, onFrame?: (f: ServerFrame) => void): Promise<TestClient> {
    const node = mesh.nodes[0]!.url;
    mesh.discover.child.kill('SIGSTOP');
    const client = await TestClient.open(node.replace(/^http/, 'ws') + '/ws');
    if (onFrame) client.ws.on('message', (data) => onFrame(JSON.parse(data.toString()) as ServerFrame));
    const framesIn = (await metricValue(node, 'chat_frames_in_total')) ?? 0;
    client.send({ type: 'hello', user });
    await eventually(`the node read ${user}'s hello`, async () => ((await metricValue(node, 'chat_frames_in_total')) ?? 0) > framesIn);
    return client;
  }

  it('reaches the connection after its welcome, once', async () => {
    const [a, b] = ['alice', 'bob'].map(uniqueUser) as [string, string];
    const alice = await clients.connect(0, a);
    const order: ServerFrame['type'][] = [];
    bob = await helloWhileDiscoveryFrozen(b, (f) => order.push(f.type));

    // Delivered locally right after the ack, while bob's welcome is still pending.
    const ack = await alice.sendMessage(b, 'while registering', 'wr-1');
    mesh.discover.child.kill('SIGCONT');

    await bob.next('welcome');
    const got = await bob.next('message', (m) => m.id === ack.id);
    assert.equal(got.body, 'while registering');
    assert.deepEqual(order.slice(0, 2), ['welcome', 'message'], 'welcome first, then the held message');
    assert.equal(order.filter((t) => t === 'message').length, 1, 'delivered once');
  });

  it('closes a registering connection with 1013 once what waits for it passes MAX_BUFFERED_BYTES', async () => {
    const [a, b] = ['alice', 'bob'].map(uniqueUser) as [string, string];
    const alice = await clients.connect(0, a);
    const waiting = await helloWhileDiscoveryFrozen(b);

    const body = 'x'.repeat(4000);
    const count = Math.ceil(BUFFER_BYTES / body.length) + 1;
    for (let i = 0; i < count; i++) await alice.sendMessage(b, body, `big-${i}`);
    const closed = await waiting.closed;
    mesh.discover.child.kill('SIGCONT');
    assert.equal(closed.code, 1013, 'closed as a slow consumer');
    assert.deepEqual(waiting.frames, [], 'nothing was sent before welcome');
    // The messages are stored: the user gets them on the next connection, through history.
    const again = await clients.connect(0, b);
    again.send({ type: 'history', with: a, limit: 200 });
    const page = await again.next('history');
    assert.equal(page.messages.filter((m) => m.cid.startsWith('big-')).length, count);
  });
});
