/**
 * Identity and startup safety without any service: JWT verification refuses every token that is
 * not HS256 with the node's secret, a subject and an expiry; dev auth refuses to start in
 * production; the per-user send budget is shared by a user's connections.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { createAuthenticator } from '../../src/auth.ts';
import { loadConfig } from '../../src/config.ts';
import { TokenBucket, UserRateLimits } from '../../src/rate-limiter.ts';

const SECRET = 'jwt-secret-for-tests-0123456789-abcdef';
const key = new TextEncoder().encode(SECRET);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const later = () => Math.floor(Date.now() / 1000) + 300;

describe('security: JWT mode', () => {
  const auth = createAuthenticator('jwt', SECRET);
  const refuses = async (token: string | undefined) => {
    await assert.rejects(auth.authenticate({ token, user: 'jay' }), (err: Error & { code?: string }) => err.code === 'CHAT_ERR_UNAUTHORIZED');
  };

  it('accepts an HS256 token with sub and exp, signed with AUTH_SECRET', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('jay').setExpirationTime('5m').sign(key);
    assert.equal(await auth.authenticate({ token }), 'jay');
  });

  const cases: [string, () => Promise<string | undefined>][] = [
    ['alg none (unsigned)', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'jay', exp: later() })}.`],
    ['alg none with a signature part', async () => `${b64({ alg: 'none' })}.${b64({ sub: 'jay', exp: later() })}.AAAA`],
    ['HS512 with the right secret', () => new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('jay').setExpirationTime('5m').sign(key)],
    ['RS256 signed with an RSA key', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      return new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('jay').setExpirationTime('5m').sign(privateKey);
    }],
    ['RS256-labelled but HMAC-signed with AUTH_SECRET (algorithm confusion)', async () => {
      const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: 'jay', exp: later() })}`;
      return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
    }],
    ['without exp', () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('jay').sign(key)],
    ['without sub', () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key)],
    ['expired', () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('jay').setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(key)],
    ['signed with another secret', () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('jay').setExpirationTime('5m')
      .sign(new TextEncoder().encode('another-secret-another-secret-another'))],
    ['with a sub that is not a user id', () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('<script>').setExpirationTime('5m').sign(key)],
    ['with a numeric sub', async () => {
      const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 42, exp: later() })}`;
      return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
    }],
    ['missing', async () => undefined],
    ['empty', async () => ''],
    ['garbage', async () => 'a.b.c'],
  ];
  for (const [name, make] of cases) {
    it(`refuses a token ${name}`, async () => refuses(await make()));
  }

  it('takes the user from the token, never from a `user` field next to it', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('jay').setExpirationTime('5m').sign(key);
    assert.equal(await auth.authenticate({ token, user: 'mallory' }), 'jay');
    await refuses(undefined);
  });
});

describe('security: startup configuration', () => {
  const base = { CLUSTER_SECRET: 'a-production-cluster-secret-0123' };

  it('refuses AUTH_MODE=dev with NODE_ENV=production', () => {
    assert.throws(() => loadConfig({ ...base, NODE_ENV: 'production' }, []), /AUTH_MODE: dev lets anyone claim any user/);
    assert.throws(() => loadConfig({ ...base, NODE_ENV: 'production', AUTH_MODE: 'dev' }, []), /ALLOW_DEV_AUTH_IN_PRODUCTION/);
  });

  it('starts dev auth in production only with ALLOW_DEV_AUTH_IN_PRODUCTION=true', () => {
    assert.equal(loadConfig({ ...base, NODE_ENV: 'production', ALLOW_DEV_AUTH_IN_PRODUCTION: 'true' }, []).authMode, 'dev');
    assert.throws(() => loadConfig({ ...base, NODE_ENV: 'production', ALLOW_DEV_AUTH_IN_PRODUCTION: 'false' }, []));
  });

  it('requires CLUSTER_SECRET in production, and AUTH_SECRET (>= 32 chars) in jwt mode', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'jwt', AUTH_SECRET: SECRET }, []), /CLUSTER_SECRET: required/);
    assert.throws(() => loadConfig({ ...base, NODE_ENV: 'production', AUTH_MODE: 'jwt' }, []), /AUTH_SECRET: required/);
    assert.throws(() => loadConfig({ ...base, AUTH_MODE: 'jwt', AUTH_SECRET: 'short' }, []), /AUTH_SECRET/);
    const ok = loadConfig({ ...base, NODE_ENV: 'production', AUTH_MODE: 'jwt', AUTH_SECRET: SECRET }, []);
    assert.equal(ok.authMode, 'jwt');
  });

  it('per-user limits default to twice the per-connection ones and can be set', () => {
    const d = loadConfig({}, []);
    assert.deepEqual([d.userRateLimitPerSec, d.userRateLimitBurst], [2 * d.rateLimitPerSec, 2 * d.rateLimitBurst]);
    const c = loadConfig({ USER_RATE_LIMIT_PER_SEC: '5', USER_RATE_LIMIT_BURST: '7' }, []);
    assert.deepEqual([c.userRateLimitPerSec, c.userRateLimitBurst], [5, 7]);
    assert.throws(() => loadConfig({ USER_RATE_LIMIT_PER_SEC: '0' }, []), /USER_RATE_LIMIT_PER_SEC/);
  });

  it('takes the room settings, with their defaults, and refuses a room cache or creation budget below 1', () => {
    const d = loadConfig({}, []);
    assert.deepEqual([d.roomCacheMax, d.roomCreatePerMinute], [10_000, 10]);
    const c = loadConfig({}, ['--room-cache-max', '50', '--room-create-per-minute', '3']);
    assert.deepEqual([c.roomCacheMax, c.roomCreatePerMinute], [50, 3]);
    assert.throws(() => loadConfig({ ROOM_CACHE_MAX: '0' }, []), /ROOM_CACHE_MAX/);
    assert.throws(() => loadConfig({ ROOM_CREATE_PER_MINUTE: 'ten' }, []), /ROOM_CREATE_PER_MINUTE/);
  });

  it('the node process exits 1 with the reason when started with dev auth in production', async function () {
    this.timeout(20_000);
    const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0'], {
      env: { ...process.env, ...base, NODE_ENV: 'production', AUTH_MODE: 'dev', ALLOW_DEV_AUTH_IN_PRODUCTION: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const [code] = await once(child, 'exit') as [number | null];
    assert.equal(code, 1);
    assert.match(stderr, /AUTH_MODE: dev lets anyone claim any user/);
  });
});

describe('security: per-user send budget', () => {
  it('is one bucket for all of a user\'s connections, dropped with the last one', () => {
    let t = 0;
    const limits = new UserRateLimits(1, 3, () => t);
    const a = limits.acquire('alice');
    const b = limits.acquire('alice');
    assert.equal(a, b);
    assert.notEqual(limits.acquire('bob'), a);
    assert.deepEqual([a.take(), b.take(), a.take(), b.take()], [true, true, true, false]);
    t = 1000;
    assert.equal(b.take(), true, 'refills at perSec');
    limits.release('alice');
    assert.equal(limits.size, 2);
    limits.release('alice');
    limits.release('bob');
    assert.equal(limits.size, 0);
  });

  it('a token bucket never goes beyond its burst', () => {
    let t = 0;
    const bucket = new TokenBucket(10, 2, () => t);
    t = 60_000;
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take()], [true, true, false]);
  });
});
