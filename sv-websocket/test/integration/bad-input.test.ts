/**
 * Every kind of bad input gets the right error (or close code) from a real node, and the
 * connection stays usable; internal endpoints refuse requests without the cluster secret.
 */
import assert from 'node:assert/strict';
import { request } from 'undici';
import { SignJWT } from 'jose';
import { AUTH_HEADER, ROUTES } from '@chat/shared/internal-api';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { TestClient } from '@chat/shared/protocol-client';
import { startMesh, TEST_SECRET, uniqueUser, type Mesh } from '../helpers/mesh.ts';

const JWT_SECRET = 'jwt-secret-for-tests-0123456789-abcdef';

describe('mesh: bad input and access control', function () {
  let mesh: Mesh;
  const clients: TestClient[] = [];
  const wsUrl = (i: number) => mesh.nodes[i]!.url.replace('http', 'ws') + '/ws';
  const open = async (i: number) => { const c = await TestClient.open(wsUrl(i)); clients.push(c); return c; };
  const connect = async (i: number, user: string) => { const c = await TestClient.connect(mesh.nodes[i]!.url, user); clients.push(c); return c; };
  /** The connection still answers after a bad frame. */
  const stillUsable = async (c: TestClient) => { c.send({ type: 'ping' }); await c.next('pong'); };

  before(async function () {
    this.timeout(120_000);
    mesh = await startMesh([
      { RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_BURST: '3', HELLO_TIMEOUT_MS: '500', MAX_FRAME_BYTES: '8192', MAX_BODY: '100' },
      { AUTH_MODE: 'jwt', AUTH_SECRET: JWT_SECRET },
    ]);
  });
  afterEach(async () => { await Promise.all(clients.splice(0).map((c) => c.close())); });
  after(async () => { await mesh?.stop(); });

  it('answers each malformed frame with bad_request and stays usable', async () => {
    const c = await connect(0, uniqueUser('eve'));
    const cases: unknown[] = [
      'not json', '[1,2]', '"hi"', 'null', '{}', '{"type":42}', '{"type":"nope"}',
      { type: 'send', to: 'bob' }, { type: 'send', to: 'bad id!', body: 'x', cid: 'c' },
      { type: 'send', to: 'bob', body: '', cid: 'c' }, { type: 'send', to: 'bob', body: 5, cid: 'c' },
      { type: 'send', to: 'bob', body: 'x', cid: 'c'.repeat(65) },
      { type: 'history', with: 'bob', limit: 0 }, { type: 'history', with: 'bob', limit: 201 },
      { type: 'history', with: 'bob', before: -1 }, { type: 'history', with: 'bob', before: 'x' },
      { type: 'history' }, { type: 'hello', user: 'again' },
      '{"type":"send","__proto__":{"admin":true},"to":"bob","body":"x"}',
    ];
    for (const frame of cases) {
      c.send(frame);
      const err = await c.next('error');
      assert.equal(err.code, 'bad_request', `for ${JSON.stringify(frame)}: ${err.message}`);
      await stillUsable(c);
    }
  });

  it('refuses binary frames and keeps the connection', async () => {
    const c = await connect(0, uniqueUser('eve'));
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await c.next('error')).code, 'bad_request');
    await stillUsable(c);
  });

  it('answers a too long body with too_large and the cid', async () => {
    const c = await connect(0, uniqueUser('eve'));
    c.send({ type: 'send', to: 'bob', body: 'x'.repeat(101), cid: 'long-1' });
    const err = await c.next('error');
    assert.equal(err.code, 'too_large');
    assert.equal(err.cid, 'long-1');
    await stillUsable(c);
  });

  it('refers to the cid of a refused send', async () => {
    const c = await connect(0, uniqueUser('eve'));
    c.send({ type: 'send', to: 'no spaces allowed', body: 'x', cid: 'bad-to' });
    const err = await c.next('error');
    assert.equal(err.code, 'bad_request');
    assert.equal(err.cid, 'bad-to');
  });

  it('closes with 1009 on a frame over the size limit', async () => {
    const c = await connect(0, uniqueUser('eve'));
    c.send({ type: 'send', to: 'bob', body: 'x'.repeat(9000), cid: 'huge' });
    assert.equal((await c.closed).code, 1009);
  });

  it('rate limits sends with rate_limited', async () => {
    const [e, b] = [uniqueUser('eve'), uniqueUser('bob')];
    const c = await connect(0, e);
    for (let i = 0; i < 6; i++) c.send({ type: 'send', to: b, body: 'spam', cid: `rl-${i}` });
    const limited = await c.next('error', (f) => f.code === 'rate_limited');
    assert.ok(limited.cid?.startsWith('rl-'));
    await stillUsable(c);
  });

  it('closes 4401 when hello does not come in time', async () => {
    const c = await open(0);
    assert.equal((await c.closed).code, 4401);
  });

  it('closes 4401 when the first frame is not hello', async () => {
    const c = await open(0);
    c.send({ type: 'ping' });
    assert.equal((await c.next('error')).code, 'unauthorized');
    assert.equal((await c.closed).code, 4401);
  });

  it('closes 4401 on an invalid user id in hello', async () => {
    const c = await open(0);
    c.send({ type: 'hello', user: '<script>' });
    assert.equal((await c.next('error')).code, 'unauthorized');
    assert.equal((await c.closed).code, 4401);
  });

  describe('jwt mode', () => {
    const sign = (sub: string, exp: string | number, secret = JWT_SECRET) =>
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime(exp).sign(new TextEncoder().encode(secret));

    it('welcomes the token\'s subject', async () => {
      const user = uniqueUser('jay');
      const c = await open(1);
      c.send({ type: 'hello', token: await sign(user, '5m') });
      const welcome = await c.next('welcome');
      assert.equal(welcome.user, user);
      assert.equal(welcome.node, 'node-1');
    });

    for (const [name, token] of [
      ['expired', () => sign('jay', Math.floor(Date.now() / 1000) - 60)],
      ['wrongly signed', () => sign('jay', '5m', 'another-secret-another-secret-another')],
      ['unsigned (alg none)', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'jay', exp: 9e9 })).toString('base64url')}.`],
      ['missing', async () => undefined],
    ] as const) {
      it(`refuses a ${name} token with unauthorized and 4401`, async () => {
        const c = await open(1);
        c.send({ type: 'hello', token: await token(), user: 'jay' });
        assert.equal((await c.next('error')).code, 'unauthorized');
        assert.equal((await c.closed).code, 4401);
      });
    }

    it('authenticates the HTTP API with a Bearer token', async () => {
      const user = uniqueUser('jay');
      const ok = await request(`${mesh.nodes[1]!.url}/v1/conversations`, { headers: { authorization: `Bearer ${await sign(user, '5m')}` } });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(await ok.body.json(), { items: [] });
      const devStyle = await request(`${mesh.nodes[1]!.url}/v1/conversations?user=${user}`);
      assert.equal(devStyle.statusCode, 401);
      await devStyle.body.dump();
    });
  });

  describe('internal endpoints', () => {
    const targets = () => [
      { url: mesh.nodes[0]!.url + ROUTES.nodeDeliver, body: { users: [], items: [] } },
      { url: mesh.discover.url + ROUTES.discoverLookup, body: { users: ['bob'] } },
      { url: mesh.discover.url + ROUTES.discoverEntries, body: { nodeId: 'evil', add: [{ user: 'bob', connId: 'x' }], remove: [] } },
      { url: mesh.persist.url + ROUTES.persistIngest, body: { messages: [{ id: 'x', from: 'mallory', to: 'bob', cid: 'c', body: 'forged', ts: 1 }] } },
    ];
    type Target = { url: string; body: unknown };
    const sign = (secret: string, t: Target, now?: number) => signedRequest(secret, 'POST', t.url, t.body, now).headers;
    for (const [label, headersFor] of [
      ['without the secret', () => ({})],
      ['with a wrong secret', (t) => sign('not-the-cluster-secret-at-all', t)],
      ['with a garbage header', () => ({ [AUTH_HEADER]: 'x'.repeat(500) })],
      ['signed 60 s ago (a replay outside the window)', (t) => sign(TEST_SECRET, t, Date.now() - 60_000)],
      ['signed 60 s ahead', (t) => sign(TEST_SECRET, t, Date.now() + 60_000)],
      ['signed for another body', (t) => sign(TEST_SECRET, { url: t.url, body: { other: true } })],
      ['signed for another path', (t) => sign(TEST_SECRET, { url: t.url.replace('/internal/v1/', '/internal/v1/x'), body: t.body })],
    ] as [string, (t: Target) => Record<string, string>][]) {
      it(`refuse requests ${label}`, async () => {
        for (const t of targets()) {
          const res = await request(t.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headersFor(t) }, body: JSON.stringify(t.body) });
          assert.equal(res.statusCode, 401, t.url);
          await res.body.dump();
        }
      });
    }

    it('accept the same requests correctly signed (the refusals above are the signature\'s doing)', async () => {
      const lookup = { url: mesh.discover.url + ROUTES.discoverLookup, body: { users: ['bob'] } };
      const ok = await request(lookup.url, signedRequest(TEST_SECRET, 'POST', lookup.url, lookup.body));
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(await ok.body.json(), { nodes: {} });
      const deliver = mesh.nodes[0]!.url + ROUTES.nodeDeliver;
      const bad = await request(deliver, signedRequest(TEST_SECRET, 'POST', deliver, { users: [], items: [] }));
      assert.equal(bad.statusCode, 400, 'authenticated, then validated');
      await bad.body.dump();
    });
  });
});
