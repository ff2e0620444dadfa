/**
 * The record of sends on Redis (REDIS_URL), shared by every sv-discover instance on it. One key
 * per (from, cid), `<prefix>send:<from>\n<cid>`, holding `id|ts|seq` (seq empty until settled)
 * with the TTL as its expiry: Redis drops records by itself. A batch of claims is one script
 * (set-if-absent, answering what is held), a batch of settlements another: one round trip each,
 * atomic per batch. Keys are passed as KEYS, so each script touches only what it names.
 */
import type { Redis } from 'ioredis';
import type { SendClaim, SendLedger, SendRecord, SendSettlement } from '@chat/shared/send-ledger';
import { dedupeKey } from '@chat/shared/types';

export interface RedisSendLedgerOptions {
  /** Prefix of every key, e.g. `chat:`. */
  prefix: string;
  /** How long a record lives after its claim, in ms. */
  ttlMs: number;
}

/** KEYS: one per claim · ARGV: ttlMs, then one value per claim → per claim '' (claimed) or the value held. */
const CLAIM = `
local out = {}
for i = 1, #KEYS do
  local held = redis.call('GET', KEYS[i])
  if held then
    out[i] = held
  else
    redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[1])
    out[i] = ''
  end
end
return out
`;

/**
 * KEYS: one per settlement · ARGV: ttlMs, then per settlement: value, id, replaces ('' for none).
 * The rule of `settles` (shared/src/send-ledger.ts): no record, or one holding id or replaces.
 * An existing record keeps its expiry; a missing one is written with the full TTL.
 */
const SETTLE = `
for i = 1, #KEYS do
  local value, id, replaces = ARGV[3 * i - 1], ARGV[3 * i], ARGV[3 * i + 1]
  local held = redis.call('GET', KEYS[i])
  if not held then
    redis.call('SET', KEYS[i], value, 'PX', ARGV[1])
  else
    local heldId = string.sub(held, 1, string.find(held, '|', 1, true) - 1)
    if heldId == id or (replaces ~= '' and heldId == replaces) then
      redis.call('SET', KEYS[i], value, 'KEEPTTL')
    end
  end
end
return #KEYS
`;

/** ioredis flattens array arguments, so a batch goes without spreading thousands of arguments. */
type Script = (numKeys: number, ...args: (string | number | (string | number)[])[]) => Promise<unknown>;

export class RedisSendLedger implements SendLedger {
  private readonly prefix: string;
  private readonly claimScript: Script;
  private readonly settleScript: Script;

  constructor(private readonly redis: Redis, private readonly opts: RedisSendLedgerOptions) {
    // The registry's rule too: one prefix, ours, in the keys the scripts are given.
    if (redis.options.keyPrefix) throw new Error('RedisSendLedger: pass the prefix in its options, not as the client keyPrefix');
    this.prefix = `${opts.prefix}send:`;
    // No numberOfKeys: the key count is the first argument of each call (one key per item).
    redis.defineCommand('chatSendClaim', { lua: CLAIM });
    redis.defineCommand('chatSendSettle', { lua: SETTLE });
    const commands = redis as unknown as { chatSendClaim: Script; chatSendSettle: Script };
    this.claimScript = commands.chatSendClaim.bind(redis);
    this.settleScript = commands.chatSendSettle.bind(redis);
  }

  async claim(claims: readonly SendClaim[]): Promise<(SendRecord | null)[]> {
    if (claims.length === 0) return [];
    const keys = claims.map((c) => this.key(c.from, c.cid));
    const values = claims.map((c) => encode(c.id, c.ts));
    const held = (await this.claimScript(keys.length, keys, this.opts.ttlMs, values)) as string[];
    return held.map((v) => (v === '' ? null : decode(v)));
  }

  async settle(settlements: readonly SendSettlement[]): Promise<void> {
    if (settlements.length === 0) return;
    const keys = settlements.map((s) => this.key(s.from, s.cid));
    const values = settlements.flatMap((s) => [encode(s.id, s.ts, s.seq), s.id, s.replaces ?? '']);
    await this.settleScript(keys.length, keys, this.opts.ttlMs, values);
  }

  /** The client belongs to the caller. */
  async close(): Promise<void> {}

  private key(from: string, cid: string): string {
    return this.prefix + dedupeKey(from, cid);
  }
}

function encode(id: string, ts: number, seq?: number): string {
  return `${id}|${ts}|${seq ?? ''}`;
}

function decode(value: string): SendRecord {
  const [id = '', ts = '', seq = ''] = value.split('|');
  return seq === '' ? { id, ts: Number(ts) } : { id, ts: Number(ts), seq: Number(seq) };
}
