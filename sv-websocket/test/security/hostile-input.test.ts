/**
 * Hostile input against real nodes (docs/reliability.md, "Hostile input"): every case gets a clear
 * error frame or close code, the node stays up, memory stays bounded and nothing reaches another
 * user. Node 0 is strict (origins, per-connection and per-user send budgets); node 1 is built to be
 * flooded (high send rates, a small unsent-buffer bound); node 2 pings every second.
 */
import assert from 'node:assert/strict';
import { request } from 'undici';
import WebSocket from 'ws';
import type { ServerFrame } from '@chat/shared/protocol';
import { TestClient } from '@chat/shared/protocol-client';
import { eventually } from '@chat/shared/testing/eventually';
import { startMesh, uniqueUser, type Mesh } from '../helpers/mesh.ts';

const GOOD_ORIGIN = 'http://chat.example';
const BIG = 60_000;

describe('security: hostile input', function () {
  this.timeout(60_000);
  let mesh: Mesh;
  const clients: TestClient[] = [];
  const wsUrl = (i: number) => mesh.nodes[i]!.url.replace('http', 'ws') + '/ws';
  const open = async (i: number, opts?: WebSocket.ClientOptions) => { const c = await TestClient.open(wsUrl(i), opts); clients.push(c); return c; };
  const connect = async (i: number, user: string) => { const c = await TestClient.connect(mesh.nodes[i]!.url, user); clients.push(c); return c; };
  const stillUsable = async (c: TestClient) => { c.send({ type: 'ping' }); await c.next('pong'); };
  const metric = async (i: number, name: string) => {
    const res = await request(mesh.nodes[i]!.url + '/metrics');
    const text = await res.body.text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    assert.ok(line, `${name} in /metrics`);
    return Number(line.split(' ')[1]);
  };
  const nodesUp = async () => {
    for (const n of mesh.nodes) {
      assert.equal(n.child.exitCode, null, `${n.url} is still running`);
      assert.equal((await request(n.url + '/healthz')).statusCode, 200);
    }
  };
  /** `bystander` got nothing but the sentinel message sent last: no hostile frame reached them. */
  const onlySentinel = async (bystander: TestClient, bystanderUser: string) => {
    const sender = await connect(1, uniqueUser('sentinel'));
    await sender.sendMessage(bystanderUser, 'sentinel', 'sentinel-1');
    const first = await bystander.nextWhere(() => true, 'any frame');
    assert.equal(first.type, 'message');
    assert.equal((first as { body: string }).body, 'sentinel');
    assert.deepEqual(bystander.frames, []);
  };

  before(async function () {
    this.timeout(120_000);
    mesh = await startMesh([
      { ALLOWED_ORIGINS: `${GOOD_ORIGIN},http://other.example`, RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_BURST: '3', USER_RATE_LIMIT_PER_SEC: '1', USER_RATE_LIMIT_BURST: '4' },
      { RATE_LIMIT_PER_SEC: '100000', RATE_LIMIT_BURST: '100000', MAX_BUFFERED_BYTES: '65536', MAX_BODY: String(BIG) },
      // A paused reader cannot answer pings either: the half-open check gets its own node.
      { PING_INTERVAL_MS: '1000' },
    ]);
  });
  afterEach(async () => { await Promise.all(clients.splice(0).map((c) => c.close())); });
  after(async () => { await mesh?.stop(); });

  describe('origin allow-list', () => {
    it('refuses the upgrade from an origin not listed (403)', async () => {
      const ws = new WebSocket(wsUrl(0), { origin: 'http://evil.example' });
      const status = await new Promise<number>((resolve, reject) => {
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => reject(new Error('opened')));
        ws.once('error', () => undefined);
      });
      assert.equal(status, 403);
      ws.terminate();
    });

    it('accepts a listed origin, and non-browser clients that send none', async () => {
      const c = await open(0, { origin: GOOD_ORIGIN });
      c.send({ type: 'hello', user: uniqueUser('ori') });
      await c.next('welcome');
      await connect(0, uniqueUser('cli'));
    });
  });

  describe('send budgets', () => {
    it('limits a user across connections (rate_limited), not other users', async () => {
      const [u, b, other] = [uniqueUser('tabs'), uniqueUser('bob'), uniqueUser('calm')];
      const tab1 = await connect(0, u);
      const tab2 = await connect(0, u);
      // Three each is within every connection's burst (3) but over the user's (4).
      for (let i = 0; i < 3; i++) { tab1.send({ type: 'send', to: b, body: 'x', cid: `t1-${i}` }); tab2.send({ type: 'send', to: b, body: 'x', cid: `t2-${i}` }); }
      const errs: ServerFrame[] = [];
      for (const tab of [tab1, tab2]) {
        for (let i = 0; i < 3; i++) errs.push(await tab.nextWhere((f) => f.type === 'ack' || f.type === 'error', 'ack or error'));
      }
      const limited = errs.filter((f) => f.type === 'error');
      assert.ok(limited.length >= 1, JSON.stringify(errs));
      for (const e of limited) {
        assert.equal(e.type === 'error' && e.code, 'rate_limited');
        assert.match(e.type === 'error' ? e.message : '', /user/);
      }
      const calm = await connect(0, other);
      await calm.sendMessage(b, 'unaffected', 'calm-1');
    });
  });

  describe('identity and content', () => {
    it('stores and delivers a forged `from` as the authenticated user, and bodies as plain text', async () => {
      const [alice, bob] = [uniqueUser('alice'), uniqueUser('bob')];
      const a = await connect(1, alice);
      const b = await connect(1, bob);
      const body = '<script>alert(1)</script> & "quoted" \'; DROP TABLE messages; --';
      a.send({ type: 'send', from: 'mallory', to: bob, body, cid: 'forged-1', id: 'chosen-id', seq: 1, ts: 1 });
      const ack = await a.next('ack');
      const msg = await b.next('message');
      assert.equal(msg.from, alice);
      assert.equal(msg.body, body);
      assert.equal(msg.id, ack.id);
      assert.notEqual(msg.id, 'chosen-id');
      // __proto__ and constructor keys are plain data: no prototype change, nothing added to the message.
      a.send(`{"type":"send","to":"${bob}","body":"proto","cid":"proto-1","__proto__":{"from":"mallory","admin":true},"constructor":{"prototype":{"polluted":true}}}`);
      await a.next('ack', (f) => f.cid === 'proto-1');
      const proto = await b.next('message');
      assert.deepEqual(Object.keys(proto).sort(), ['body', 'cid', 'from', 'id', 'seq', 'to', 'ts', 'type']);
      assert.equal(proto.from, alice);
      b.send({ type: 'history', with: alice });
      const history = await b.next('history');
      assert.deepEqual(history.messages.map((m) => [m.from, m.body]), [[alice, body], [alice, 'proto']]);
    });
  });

  describe('malformed frames', () => {
    it('answers each with bad_request, keeps the connection, and reaches no one else', async () => {
      const [eve, by] = [uniqueUser('eve'), uniqueUser('bystander')];
      const bystander = await connect(1, by);
      const c = await connect(1, eve);
      const depth = 20_000;
      const cases: [string, string][] = [
        ['deeply nested arrays', `{"type":"send","to":"${by}","cid":"n1","body":${'['.repeat(depth)}${']'.repeat(depth)}}`],
        ['deeply nested objects', `{"type":"send","to":"${by}","cid":"n2","body":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`],
        ['a huge array as to', JSON.stringify({ type: 'send', to: Array.from({ length: 20_000 }, () => 0), body: 'x', cid: 'h1' })],
        ['a huge array as the frame', `[${Array.from({ length: 30_000 }, () => 0).join(',')}]`],
        ['a huge array as limit', JSON.stringify({ type: 'history', with: by, limit: Array.from({ length: 20_000 }, () => 1) })],
        ['a number as to', JSON.stringify({ type: 'send', to: 123, body: 'x', cid: 'num1' })],
        ['a number as body', JSON.stringify({ type: 'send', to: by, body: 456, cid: 'num2' })],
        ['a number as cid', JSON.stringify({ type: 'send', to: by, body: 'x', cid: 789 })],
        ['a number as type', JSON.stringify({ type: 1 })],
        ['a number as with', JSON.stringify({ type: 'history', with: 5 })],
        ['an object as body', JSON.stringify({ type: 'send', to: by, body: { toString: 'x' }, cid: 'o1' })],
        ['type only under __proto__', `{"__proto__":{"type":"send","to":"${by}","body":"x","cid":"p1"}}`],
        ['a constructor-shaped frame', `{"constructor":{"prototype":{"type":"send"}}}`],
        ['hello twice', JSON.stringify({ type: 'hello', user: by })],
        ['a NUL in the body', JSON.stringify({ type: 'send', to: by, body: 'a\u0000b', cid: 'nul1' })],
        ['a lone surrogate in to', `{"type":"send","to":"\\ud800","body":"x","cid":"s1"}`],
      ];
      for (const [name, raw] of cases) {
        c.send(raw);
        const err = await c.next('error');
        assert.equal(err.code, 'bad_request', `${name}: ${err.message}`);
        await stillUsable(c);
      }
      await onlySentinel(bystander, by);
      await nodesUp();
    });

    it('closes 1007 on invalid UTF-8 in a text frame', async () => {
      const c = await connect(1, uniqueUser('utf'));
      c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      assert.equal((await c.closed).code, 1007);
      await nodesUp();
    });

    it('closes 1008 on a message split into too many fragments (memory amplification)', async () => {
      const c = await connect(1, uniqueUser('frag'));
      for (let i = 0; i < 100; i++) c.ws.send('{', { fin: false, binary: false });
      assert.equal((await c.closed).code, 1008);
      const ok = await connect(1, uniqueUser('frag-ok'));
      // A legitimately fragmented frame (few parts) still works.
      ok.ws.send('{"type":', { fin: false });
      ok.ws.send('"ping"}', { fin: true });
      await ok.next('pong');
    });

    it('refuses frames before hello (4401) without acting on them', async () => {
      const by = uniqueUser('bystander');
      const bystander = await connect(1, by);
      const c = await open(1);
      c.send({ type: 'send', to: by, body: 'before hello', cid: 'pre-1' });
      c.send({ type: 'hello', user: uniqueUser('late') });
      assert.equal((await c.next('error')).code, 'unauthorized');
      assert.equal((await c.closed).code, 4401);
      await onlySentinel(bystander, by);
    });
  });

  describe('resources', () => {
    it('closes a client that stops reading with 1013 instead of buffering for it', async function () {
      this.timeout(120_000);
      const [slow, flood] = [uniqueUser('slow'), uniqueUser('flood')];
      const victim = await connect(1, slow);
      const flooder = await connect(1, flood);
      const rssBefore = await metric(1, 'process_resident_memory_bytes');
      (victim.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const body = 'x'.repeat(BIG);
      // 400 × 60 KB = 24 MB, far more than the kernel's socket buffers hold; windows of 40 keep
      // each ingest request under sv-persist's body limit.
      for (let w = 0; w < 10; w++) {
        for (let i = 0; i < 40; i++) flooder.send({ type: 'send', to: slow, body, cid: `f-${w}-${i}` });
        for (let i = 0; i < 40; i++) await flooder.next('ack', (a) => a.cid === `f-${w}-${i}`, 30_000);
      }
      (victim.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const closed = await victim.closed;
      assert.equal(closed.code, 1013);
      assert.equal(closed.reason, 'slow consumer');
      await stillUsable(flooder);
      const rssAfter = await metric(1, 'process_resident_memory_bytes');
      assert.ok(rssAfter - rssBefore < 200 * 1024 * 1024, `rss grew by ${((rssAfter - rssBefore) / 1e6).toFixed(0)} MB`);
      await nodesUp();
    });

    it('keeps a client that reads, when one turn sends it more than MAX_BUFFERED_BYTES', async () => {
      // 200 sends in one burst become one log batch, and its completion hands ~220 KB to the
      // reader in one turn of the node's event loop, while its socket is corked (socket-writer.ts).
      // Only what the kernel did not take in earlier turns counts against the 64 KB limit.
      const [reader, writer] = [uniqueUser('reader'), uniqueUser('writer')];
      const receiving = await connect(1, reader);
      const sending = await connect(1, writer);
      const body = 'y'.repeat(1000);
      for (let i = 0; i < 200; i++) sending.send({ type: 'send', to: reader, body, cid: `b-${i}` });
      for (let i = 0; i < 200; i++) await receiving.next('message', (m) => m.cid === `b-${i}`, 30_000);
      await stillUsable(receiving);
    });

    it('terminates a connection that never answers pings (half-open)', async () => {
      const mute = await open(2, { autoPong: false });
      mute.send({ type: 'hello', user: uniqueUser('mute') });
      await mute.next('welcome');
      const lively = await connect(2, uniqueUser('lively'));
      const closed = await mute.closed;
      assert.equal(closed.code, 1006, 'terminated, no close handshake');
      await stillUsable(lively);
      assert.equal(lively.ws.readyState, WebSocket.OPEN, 'a client that answers pings stays');
    });

    it('survives 10,000 connections opened and dropped in a burst; the gauge returns to its baseline', async function () {
      this.timeout(240_000);
      const baseline = await metric(1, 'chat_connections');
      const total = 10_000;
      const batch = 500;
      for (let done = 0; done < total; done += batch) {
        const sockets = await Promise.all(Array.from({ length: batch }, (_, i) => new Promise<WebSocket | undefined>((resolve) => {
          const ws = new WebSocket(wsUrl(1));
          ws.once('open', () => {
            // Half of them say hello (and join discovery) before being dropped.
            if (i % 2 === 0) ws.send(JSON.stringify({ type: 'hello', user: `burst-${process.pid}-${done + i}` }));
            resolve(ws);
          });
          ws.once('error', () => resolve(undefined));
        })));
        const opened = sockets.filter((s): s is WebSocket => s !== undefined);
        assert.ok(opened.length > batch * 0.95, `${opened.length}/${batch} opened`);
        await Promise.all(opened.map((ws) => new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          ws.terminate();
        })));
      }
      await eventually('every dropped connection closed on the node',
        async () => assert.equal(await metric(1, 'chat_connections'), baseline), 30_000);
      await nodesUp();
      const after = await connect(1, uniqueUser('after'));
      await stillUsable(after);
    });
  });
});
