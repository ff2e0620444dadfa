import assert from 'node:assert/strict';
import {
  clientErrorMessage, ERR_BAD_FRAME, ERR_BAD_REQUEST, ERR_CONFIG, ERR_LOG_UNAVAILABLE, ERR_OVERLOADED, ERR_QUEUE_FULL,
  ERR_RATE_LIMITED, ERR_STORE_UNAVAILABLE, ERR_TOO_LARGE, ERR_UNAUTHORIZED, errorAnswer, HTTP_STATUS, WIRE,
} from '../../src/errors.ts';
import { InternalHttpError } from '../../src/internal-client.ts';
import { RequestStreamError } from '../../src/request-stream.ts';

/** An error as fastify makes its own: a code of its own and the status to answer with. */
function fastifyError(code: string, statusCode: number): Error {
  return Object.assign(new Error(code), { code, statusCode });
}

describe('errorAnswer', () => {
  const table: [Error, string, number, string][] = [
    [new ERR_BAD_FRAME('x'), 'bad_request', 400, 'request'],
    [new ERR_BAD_REQUEST('x'), 'bad_request', 400, 'request'],
    [new ERR_TOO_LARGE('x'), 'too_large', 413, 'request'],
    [new ERR_UNAUTHORIZED('x'), 'unauthorized', 401, 'request'],
    [new ERR_RATE_LIMITED('x'), 'rate_limited', 429, 'request'],
    [new ERR_QUEUE_FULL('x'), 'unavailable', 503, 'unavailable'],
    [new ERR_LOG_UNAVAILABLE('x'), 'unavailable', 503, 'unavailable'],
    [new ERR_STORE_UNAVAILABLE('x'), 'unavailable', 503, 'unavailable'],
    [new ERR_OVERLOADED('x'), 'unavailable', 503, 'unavailable'],
  ];
  for (const [err, code, status, fault] of table) {
    it(`answers ${(err as Error & { code: string }).code} with ${code} ${status}`, () => {
      assert.deepEqual({ ...errorAnswer(err) }, { code, status, fault });
    });
  }

  it('gives every error of the table the status its wire code has over HTTP', () => {
    for (const err of table.map(([e]) => e)) {
      const { code, statusCode } = err as Error & { code: string; statusCode: number };
      assert.equal(statusCode, HTTP_STATUS[WIRE[code]!], code);
    }
  });

  it('keeps the 4xx status of an error that is not ours: the request was at fault', () => {
    assert.deepEqual({ ...errorAnswer(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413)) }, { code: 'too_large', status: 413, fault: 'request' });
    assert.deepEqual({ ...errorAnswer(fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)) }, { code: 'bad_request', status: 415, fault: 'request' });
    assert.deepEqual({ ...errorAnswer(fastifyError('FST_ERR_VALIDATION', 400)) }, { code: 'bad_request', status: 400, fault: 'request' });
  });

  it('answers anything else unavailable 503, named only when its statusCode says 503', () => {
    assert.deepEqual({ ...errorAnswer(fastifyError('SOMETHING_DOWN', 503)) }, { code: 'unavailable', status: 503, fault: 'unavailable' });
    for (const err of [new TypeError('bug'), new ERR_CONFIG('x'), fastifyError('X', 500), 'a string', undefined, null, { code: 42 }]) {
      assert.deepEqual({ ...errorAnswer(err) }, { code: 'unavailable', status: 503, fault: 'internal' }, String(err));
    }
  });

  it('does not take a peer’s answer for its own: a refused internal request is a failure of ours', () => {
    assert.equal(errorAnswer(new InternalHttpError(400, '{}', 'http://persist/internal')).fault, 'internal');
    assert.equal(errorAnswer(new RequestStreamError('refused', 'bad_request', 401)).fault, 'internal');
  });
});

describe('clientErrorMessage', () => {
  it('tells a client what to fix, and of an outage only that it may retry', () => {
    assert.equal(clientErrorMessage(new ERR_BAD_FRAME('not valid JSON'), 'bad_request'), 'Invalid frame: not valid JSON');
    const down = new ERR_STORE_UNAVAILABLE('connect ECONNREFUSED 10.0.0.7:5432');
    assert.equal(clientErrorMessage(down, errorAnswer(down).code), 'service unavailable, retry later');
  });
});
