import assert from 'node:assert/strict';
import { AUTH_HEADER } from '../../src/internal-api.ts';
import {
  createInternalAuthVerifier, internalAuthHeaders, INTERNAL_AUTH_WINDOW_MS, signInternalRequest, verifyInternalRequest,
} from '../../src/internal-auth.ts';

describe('internal auth (HMAC of method, path, time, nonce and body)', () => {
  const SECRET = 'the-cluster-secret-123';
  const verifier = createInternalAuthVerifier(SECRET);
  const req = { method: 'POST', path: '/internal/v1/lookup?x=1', body: '{"users":["bob"]}' };
  const ok = (header: string | string[] | undefined, r: { method: string; path: string; body?: string } = req, now?: number) =>
    verifyInternalRequest(verifier, header, r, now);

  it('accepts the header made for the same request with the same secret', () => {
    assert.equal(ok(internalAuthHeaders(SECRET, req)[AUTH_HEADER]), true);
    assert.equal(ok(signInternalRequest(SECRET, { method: 'get', path: '/internal/v1/history?user=a&with=b' }),
      { method: 'GET', path: '/internal/v1/history?user=a&with=b' }), true, 'method case and empty body');
    assert.match(signInternalRequest(SECRET, req), /^v2\.\d+\.[A-Za-z0-9_-]{8,24}\.[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a header made with another secret', () => {
    assert.equal(ok(signInternalRequest('another-secret-0123456', req)), false);
  });

  it('refuses the header of one request on another (method, path, query, body)', () => {
    const header = signInternalRequest(SECRET, req);
    assert.equal(ok(header, { ...req, method: 'GET' }), false);
    assert.equal(ok(header, { ...req, path: '/internal/v1/entries?x=1' }), false);
    assert.equal(ok(header, { ...req, path: '/internal/v1/lookup?x=2' }), false);
    assert.equal(ok(header, { ...req, body: '{"users":["eve"]}' }), false);
    assert.equal(ok(header, { ...req, body: '' }), false);
  });

  it('refuses a replay outside the window, either side, and accepts skew inside it', () => {
    const now = Date.now();
    const at = (t: number) => signInternalRequest(SECRET, { ...req, now: t });
    assert.equal(ok(at(now - INTERNAL_AUTH_WINDOW_MS - 1), req, now), false, 'too old');
    assert.equal(ok(at(now + INTERNAL_AUTH_WINDOW_MS + 1), req, now), false, 'from the future');
    assert.equal(ok(at(now - INTERNAL_AUTH_WINDOW_MS + 1000), req, now), true);
    assert.equal(ok(at(now + INTERNAL_AUTH_WINDOW_MS - 1000), req, now), true);
    const c = verifier.checkHeader(at(now - 60_000), now);
    assert.deepEqual(c, { ok: false, reason: 'outside the time window' });
  });

  it('refuses a request played again inside the window, and tells two identical requests apart', () => {
    const header = signInternalRequest(SECRET, req);
    assert.equal(ok(header), true, 'first time');
    assert.equal(ok(header), false, 'the same request again');
    const now = Date.now();
    assert.equal(ok(signInternalRequest(SECRET, { ...req, now }), req, now), true);
    assert.equal(ok(signInternalRequest(SECRET, { ...req, now }), req, now), true, 'same request, same millisecond, new nonce');
    const fresh = createInternalAuthVerifier(SECRET);
    const sent = signInternalRequest(SECRET, req);
    assert.equal(verifyInternalRequest(fresh, sent, req), true);
    assert.equal(verifyInternalRequest(fresh, sent, req, Date.now() + INTERNAL_AUTH_WINDOW_MS + 1), false, 'and after the window, by the clock');
  });

  it('refuses a missing, repeated, oversized or malformed header', () => {
    const good = signInternalRequest(SECRET, req);
    const [, t, nonce, sig] = good.split('.');
    for (const bad of [
      undefined, ['a', 'b'], [good, good], 'x'.repeat(1000), SECRET, '', 'v2', `v1.${t}.${sig}`, `v1.${t}.${nonce}.${sig}`,
      `v2.${t}.${sig}`, `v2.${t}.${nonce}.${sig}=`, `v2.${t}.${nonce}.${sig!.slice(1)}`, `v2.-${t}.${nonce}.${sig}`,
      `v2.${t}.${nonce}.${sig}.x`, `v2.1e12.${nonce}.${sig}`, `v2.${t}.short.${sig}`, `v2.${t}.${'n'.repeat(25)}.${sig}`,
      // the retired static digest of the secret
      'VAd5YHBv6MYsEVW3ZV2vgKCS3sCkmQtq6IogaJhh8c8',
    ]) {
      assert.equal(ok(bad as string | string[] | undefined), false, JSON.stringify(bad));
    }
  });
});
