import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Random bytes are drawn 4 KiB at a time: one crypto call per 256 ids instead of one per id (a
 * measurable share of a node's CPU per message, per `--cpu-prof`).
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolAt = POOL_BYTES;

/** Same monotonic rule as uuid's own v7 state: a new millisecond starts a random 31-bit counter, the same millisecond counts up. */
let lastMs = -Infinity;
let seq = 0;

function random16(): Uint8Array {
  if (poolAt + 16 > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const bytes = pool.subarray(poolAt, poolAt + 16);
  poolAt += 16;
  return bytes;
}

/** A new message or connection id: UUIDv7, so ids sort by creation time (strictly, within this process). */
export function newId(): string {
  const random = random16();
  let msecs = Date.now();
  if (msecs > lastMs) {
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
    lastMs = msecs;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
    msecs = lastMs;
  }
  return v7({ random, msecs, seq });
}
