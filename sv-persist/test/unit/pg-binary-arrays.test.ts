import assert from 'node:assert/strict';
import { int8Array, textArray, uuidArray } from '../../src/pg-binary-arrays.ts';

/** The 20-byte header: one dimension, no NULLs, the element type, its length, lower bound 1. */
const header = (oid: number, n: number) => [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, oid >> 8, oid & 0xff, 0, 0, 0, n, 0, 0, 0, 1];

describe('Postgres binary array parameters', () => {
  it('text[]: each element length-prefixed as UTF-8', () => {
    assert.deepEqual([...textArray(['a', 'é', ''])], [...header(25, 3), 0, 0, 0, 1, 0x61, 0, 0, 0, 2, 0xc3, 0xa9, 0, 0, 0, 0]);
  });

  it('int8[]: big-endian two\'s complement, negatives and values above 2^32 included', () => {
    assert.deepEqual([...int8Array([2 ** 32 + 5, -2])], [
      ...header(20, 2), 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    ]);
    assert.throws(() => int8Array([1.5]), /not a safe integer/);
    assert.throws(() => int8Array([2 ** 53]), /not a safe integer/);
  });

  it('uuid[]: 16 bytes each from the canonical spelling, any case; other spellings stay a plain array', () => {
    const buf = uuidArray(['0123ABCD-4567-89ab-cdef-0123456789AB']);
    assert.ok(Buffer.isBuffer(buf));
    assert.deepEqual([...buf], [...header(2950, 1), 0, 0, 0, 16, 0x01, 0x23, 0xab, 0xcd, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab]);
    const odd = ['0123abcd456789abcdef0123456789ab', '0123abcd-4567-89ab-cdef-0123456789ab'];
    assert.equal(uuidArray(odd), odd);
    assert.equal(Buffer.isBuffer(uuidArray(['not-a-uuid'])), false);
  });
});
