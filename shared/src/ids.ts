import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Random bytes are drawn 4 KiB at a time: one crypto call per 256 ids instead of one per id (a
 * measurable share of a node's CPU per message, per `--cpu-prof`).
 *
 * uuid lays the fields out (`v7` into a reused 16-byte buffer); the text is written here, into a
 * reused 36-byte buffer read back as one string. uuid's own text form joins 36 pieces and
 * lower-cases the result: about 0.8 KB of garbage per id, 8 % of what a node allocated per
 * message at 20,000 msgs/s (allocation sampling, docs/benchmarks.md).
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolAt = POOL_BYTES;

/** Same monotonic rule as uuid's own v7 state: a new millisecond starts a random 31-bit counter, the same millisecond counts up. */
let lastMs = -Infinity;
let seq = 0;

/** Reused for every id: the random bytes drawn, the id's bytes, its text. */
const random = new Uint8Array(16);
const fields = new Uint8Array(16);
const text = Buffer.alloc(36, '-'.charCodeAt(0));
/** Where each of the 16 bytes goes in the text (the dashes stay where `alloc` put them). */
const TEXT_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** The canonical lower-case text of `bytes`, as uuid's `stringify` writes it. */
function format(b: Uint8Array): string {
  for (let i = 0; i < 16; i++) {
    text[TEXT_AT[i]!] = HEX[b[i]! >> 4]!;
    text[TEXT_AT[i]! + 1] = HEX[b[i]! & 15]!;
  }
  return text.toString('latin1', 0, 36);
}

/** The next 16 pooled random bytes, copied into `random`. */
function random16(): Uint8Array {
  if (poolAt + 16 > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  for (let i = 0; i < 16; i++) random[i] = pool[poolAt + i]!;
  poolAt += 16;
  return random;
}

/** A new message or connection id: UUIDv7, so ids sort by creation time (strictly, within this process). */
export function newId(): string {
  const rnd = random16();
  let msecs = Date.now();
  if (msecs > lastMs) {
    seq = ((rnd[6]! & 0x7f) << 24) | (rnd[7]! << 16) | (rnd[8]! << 8) | rnd[9]!;
    lastMs = msecs;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++;
    msecs = lastMs;
  }
  return format(v7({ random: rnd, msecs, seq }, fields));
}
