import assert from 'node:assert/strict';
import { AUTH_HEADER } from '../../src/internal-api.ts';
import { createInternalAuthCheck, internalAuthHeaders } from '../../src/internal-auth.ts';

describe('internal auth', () => {
  const check = createInternalAuthCheck('the-cluster-secret-123');
  it('accepts the header made from the same secret', () => {
    assert.equal(check(internalAuthHeaders('the-cluster-secret-123')[AUTH_HEADER]), true);
  });
  it('refuses a missing, wrong, repeated or oversized header', () => {
    assert.equal(check(undefined), false);
    assert.equal(check(internalAuthHeaders('another-secret')[AUTH_HEADER]), false);
    assert.equal(check(['a', 'b']), false);
    assert.equal(check('x'.repeat(1000)), false);
    assert.equal(check('the-cluster-secret-123'), false);
  });
});
