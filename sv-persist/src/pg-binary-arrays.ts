/**
 * Array parameters in Postgres's binary format (what array_send writes and array_recv reads), for
 * the insert statements' unnest(). node-postgres sends a Buffer parameter as binary; any other
 * array it writes as a text literal, quoting and escaping every element, which Postgres then
 * parses back character by character (array_in). During a backlog drain the escaping was about
 * 7 % of sv-persist's CPU and the parsing a few percent of Postgres's (docs/benchmarks.md).
 *
 * Layout: int32 ndim, int32 has-nulls, uint32 element type OID, then per dimension int32 length
 * and int32 lower bound (1), then per element int32 byte length and the bytes. Our arrays are
 * one-dimensional and hold no NULLs. The element OID must be the one the statement's cast names
 * ($1::uuid[] → uuid), or Postgres refuses the parameter.
 */
const OID = { int8: 20, text: 25, uuid: 2950 } as const;

/** ndim, has-nulls, element OID, length, lower bound. */
const HEADER_BYTES = 20;
const UUID_BYTES = 16;
const [DASH, DIGIT_0, DIGIT_9, HEX_A, LOWERCASE] = [0x2d, 0x30, 0x39, 0x61, 0x20];
const CANONICAL_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function withHeader(oid: number, count: number, bodyBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + bodyBytes);
  buf.writeInt32BE(1, 0);
  buf.writeInt32BE(0, 4);
  buf.writeUInt32BE(oid, 8);
  buf.writeInt32BE(count, 12);
  buf.writeInt32BE(1, 16);
  return buf;
}

/** text[]: each element's UTF-8 bytes (a lone surrogate becomes U+FFFD, as in pg's text path). */
export function textArray(values: readonly string[]): Buffer {
  let bytes = 0;
  const lengths = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) bytes += 4 + (lengths[i] = Buffer.byteLength(values[i]!, 'utf8'));
  const buf = withHeader(OID.text, values.length, bytes);
  let at = HEADER_BYTES;
  for (let i = 0; i < values.length; i++) {
    buf.writeInt32BE(lengths[i]!, at);
    at += 4 + buf.write(values[i]!, at + 4, 'utf8');
  }
  return buf;
}

/** bigint[] from safe integers: 8 bytes each, big-endian two's complement. */
export function int8Array(values: readonly number[]): Buffer {
  const buf = withHeader(OID.int8, values.length, values.length * 12);
  let at = HEADER_BYTES;
  for (const v of values) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`not a safe integer for a bigint parameter: ${v}`);
    const high = Math.floor(v / 2 ** 32);
    buf.writeInt32BE(8, at);
    buf.writeInt32BE(high, at + 4);
    buf.writeUInt32BE(v - high * 2 ** 32, at + 8);
    at += 12;
  }
  return buf;
}

/**
 * uuid[]: 16 bytes each. Ids in any other spelling than the canonical 8-4-4-4-12 hex go as the
 * plain array instead, so Postgres judges them exactly as before (uuid_in takes a few more
 * spellings, and its error names the bad one).
 */
export function uuidArray(values: readonly string[]): Buffer | readonly string[] {
  if (!values.every((v) => CANONICAL_UUID.test(v))) return values;
  const buf = withHeader(OID.uuid, values.length, values.length * (4 + UUID_BYTES));
  let at = HEADER_BYTES;
  for (const v of values) {
    buf.writeInt32BE(UUID_BYTES, at);
    at += 4;
    // Two hex digits a byte, skipping the dashes (the regex above vouched for the rest).
    let high = -1;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c === DASH) continue;
      const nibble = c <= DIGIT_9 ? c - DIGIT_0 : (c | LOWERCASE) - HEX_A + 10;
      if (high < 0) high = nibble;
      else { buf[at++] = (high << 4) | nibble; high = -1; }
    }
  }
  return buf;
}
