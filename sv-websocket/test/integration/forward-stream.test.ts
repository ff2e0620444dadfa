/**
 * Forwards between nodes on both transports: the forward stream (default: one signed WebSocket per
 * peer node, several batches in flight) and HTTP (FORWARD_TRANSPORT=http). Order per conversation,
 * each message once, and the stream's door: signed upgrades only, every frame validated.
 */
import assert from 'node:assert/strict';
import type { RawData, WebSocket } from 'ws';
import { ROUTES } from '@chat/shared/internal-api';
import { internalAuthHeaders } from '@chat/shared/internal-auth';
import { eventually } from '@chat/shared/testing/eventually';
import { openRawSocket } from '@chat/shared/testing/internal-requests';
import { clientsOf, startMesh, TEST_SECRET, uniqueUser, type Mesh } from '../helpers/mesh.ts';
import { metricValue } from '../helpers/faults.ts';
import type { TestClient } from '@chat/shared/protocol-client';
import { newId } from '@chat/shared/ids';
import { InternalClient } from '@chat/shared/internal-client';
import { createLogger } from '@chat/shared/logger';
import { Forwarder } from '../../src/forwarder.ts';

const received = (node: string, transport: 'stream' | 'http') =>
  metricValue(node, `chat_forwards_received_total{transport="${transport}"}`).then((v) => v ?? 0);

/** A raw forward stream to the node at `baseUrl` with these upgrade headers. */
const openStream = (baseUrl: string, headers: Record<string, string>) =>
  openRawSocket(baseUrl.replace(/^http/, 'ws') + ROUTES.nodeDeliverStream, headers);
const signed = (secret = TEST_SECRET) => internalAuthHeaders(secret, { method: 'GET', path: ROUTES.nodeDeliverStream });
const nextFrame = (ws: WebSocket) => new Promise<unknown>((resolve) => ws.once('message', (d: RawData) => resolve(JSON.parse(d.toString()))));

/** Send `count` messages as fast as the socket takes them, then the bodies each recipient got, in arrival order. */
async function burst(from: TestClient, to: { user: string; client: TestClient }, count: number, tag: string): Promise<string[]> {
  for (let i = 0; i < count; i++) from.send({ type: 'send', to: to.user, body: `${tag} ${i}`, cid: `${tag}-${i}` });
  const got: string[] = [];
  for (let i = 0; i < count; i++) got.push((await to.client.next('message', (m) => m.body.startsWith(`${tag} `))).body);
  return got;
}

describe('forwarding between nodes: stream and HTTP', function () {
  this.timeout(60_000);
  let mesh: Mesh;
  const clients = clientsOf(() => mesh);

  before(async function () {
    this.timeout(120_000);
    const fast = { RATE_LIMIT_BURST: '1000', RATE_LIMIT_PER_SEC: '1000' };
    mesh = await startMesh([fast, fast, { ...fast, FORWARD_TRANSPORT: 'http' }]);
  });
  afterEach(() => clients.closeAll());
  after(async () => {
    await mesh?.stop();
  });

  it('delivers in order and once over the stream (default) and over HTTP (FORWARD_TRANSPORT=http)', async () => {
    const [a, b, c] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol')];
    const alice = await clients.connect(0, a); // node 0 forwards over streams
    const bob = await clients.connect(1, b);
    const carol = await clients.connect(2, c); // node 2 forwards over HTTP
    const node1 = mesh.nodes[1]!.url;
    const before = { stream: await received(node1, 'stream'), http: await received(node1, 'http') };

    const expected = (tag: string) => Array.from({ length: 200 }, (_, i) => `${tag} ${i}`);
    const [viaStream, viaHttp] = await Promise.all([
      burst(alice, { user: b, client: bob }, 200, 'stream'),
      burst(carol, { user: b, client: bob }, 200, 'http'),
    ]);
    assert.deepEqual(viaStream, expected('stream'));
    assert.deepEqual(viaHttp, expected('http'));
    const after = { stream: await received(node1, 'stream'), http: await received(node1, 'http') };
    assert.ok(after.stream > before.stream, 'node 0 forwarded over the stream');
    assert.ok(after.http > before.http, 'node 2 forwarded over HTTP');
    // Nothing more arrives: each message was delivered once.
    await alice.sendMessage(b, 'last', 'last');
    await bob.next('message', (m) => m.body === 'last');
    assert.equal(bob.frames.filter((f) => f.type === 'message').length, 0, 'no copies left over');
  });

  it('refuses unsigned, wrongly signed and replayed upgrades with 401', async () => {
    const node = mesh.nodes[1]!.url;
    await assert.rejects(openStream(node, {}), /status 401/);
    await assert.rejects(openStream(node, signed('another-secret-0123456789')), /status 401/);
    const headers = signed();
    (await openStream(node, headers)).close();
    await assert.rejects(openStream(node, headers), /status 401/, 'a captured upgrade cannot be replayed');
  });

  it('hands a signed frame to local connections and answers who is absent; a bad frame gets bad_request', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const bob = await clients.connect(1, b);
    const ws = await openStream(mesh.nodes[1]!.url, signed());
    try {
      const message = { id: '0190a2b4-0000-7000-8000-000000000001', seq: 7, cid: 'raw-1', from: a, to: b, body: 'by stream', ts: Date.now() };
      ws.send(JSON.stringify({ n: 0, users: [b, a], items: [{ message }] }));
      assert.deepEqual(await nextFrame(ws), { n: 0, absent: [a] });
      assert.deepEqual(await bob.next('message', (m) => m.cid === 'raw-1'), { type: 'message', ...message });

      ws.send(JSON.stringify({ n: 1, users: [b], items: [] }));
      const bad = await nextFrame(ws) as { n: number; error: string };
      assert.equal(bad.n, 1);
      assert.equal(bad.error, 'bad_request');
      // The stream goes on after a bad frame; one that is not JSON ends it.
      ws.send(JSON.stringify({ n: 2, users: [], items: [{ message: { ...message, cid: 'raw-2' } }] }));
      assert.deepEqual(await nextFrame(ws), { n: 2, absent: [] });
      await bob.next('message', (m) => m.cid === 'raw-2');
      const closed = new Promise<number>((resolve) => ws.once('close', resolve));
      ws.send('not json');
      assert.equal(await closed, 1007);
    } finally {
      ws.terminate();
    }
  });
  it('drops a peer not forwarded to for peerIdleMs, closing its stream; the next forward opens a new one', async () => {
    const logger = createLogger({ service: 'test', level: 'silent' });
    const forwarder = new Forwarder(new InternalClient({ secret: TEST_SECRET }), () => undefined, logger, { secret: TEST_SECRET }, { peerIdleMs: 300 });
    try {
      const target = { nodeId: 'node-1', url: mesh.nodes[1]!.url };
      const absentUser = uniqueUser('nobody');
      const item = () => ({ message: { id: newId(), from: uniqueUser('x'), to: absentUser, cid: newId(), body: 'b', ts: Date.now(), seq: 1 } });
      // A round trip over the stream: node 1 answers that the user is not there.
      assert.deepEqual(await forwarder.forward(target, item(), [absentUser]), { reached: true, absent: [absentUser] });
      assert.equal(forwarder.peers, 1);
      await eventually('the idle peer was dropped', () => forwarder.peers === 0);
      assert.deepEqual(await forwarder.forward(target, item(), [absentUser]), { reached: true, absent: [absentUser] }, 'a new stream carries the next forward');
      assert.equal(forwarder.peers, 1);
    } finally {
      forwarder.close();
    }
  });
});
