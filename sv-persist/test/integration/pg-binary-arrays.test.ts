/**
 * The binary array parameters read back by a real Postgres as the arrays they encode: the
 * statement's casts name the element types, as the insert statements' do.
 */
import assert from 'node:assert/strict';
// @ts-expect-error pg ships no types; the bare client is what insert-unnest.ts sends the Buffers through.
import pg from 'pg';
import { createTestDatabase } from '@chat/shared/local-postgres';
import { int8Array, textArray, uuidArray } from '../../src/pg-binary-arrays.ts';

interface PgClient {
  connect(): Promise<void>;
  end(): Promise<void>;
  query(text: string, values: unknown[]): Promise<{ rows: { v: unknown }[] }>;
}

describe('Postgres binary array parameters, read by Postgres', () => {
  let client: PgClient;
  before(async () => {
    client = new pg.Client(await createTestDatabase()) as PgClient;
    await client.connect();
  });
  after(() => client?.end());

  const roundTrip = async (sql: string, param: unknown) => (await client.query(sql, [param])).rows[0]!.v;

  it('text[]: quotes, backslashes, braces, commas, NULL-looking words, empty strings, emoji', async () => {
    const texts = ['plain', 'say "hi"', 'back\\slash', '{braces}', 'a,b', 'NULL', '', 'grüße 👋', 'x'.repeat(5000)];
    assert.deepEqual(await roundTrip('SELECT $1::text[] AS v', textArray(texts)), texts);
    assert.deepEqual(await roundTrip('SELECT $1::text[] AS v', textArray([])), []);
  });

  it('bigint[]: zero, negatives, and up to 2^53 - 1', async () => {
    const ints = [0, 1, -1, 2 ** 32, 2 ** 40 * 3 + 7, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    assert.deepEqual(await roundTrip('SELECT $1::bigint[]::text[] AS v', int8Array(ints)), ints.map(String));
  });

  it('uuid[]: the same values Postgres prints; a badly spelled id still gets Postgres\'s own error', async () => {
    const ids = ['0190a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '00000000-0000-0000-0000-000000000000'];
    assert.deepEqual(await roundTrip('SELECT $1::uuid[] AS v', uuidArray(ids)), ids.map((i) => i.toLowerCase()));
    await assert.rejects(roundTrip('SELECT $1::uuid[] AS v', uuidArray(['not-a-uuid'])), /invalid input syntax for type uuid/);
  });

  it('an element type other than the cast\'s is refused, not misread', async () => {
    await assert.rejects(roundTrip('SELECT $1::uuid[] AS v', textArray(['0190a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b'])), /array element type 25 \(text\) instead of expected 2950 \(uuid\)/);
  });
});
