/**
 * The registry on Redis (REDIS_URL). All state is in Redis, so any number of sv-discover instances
 * can share one; the only in-process state is the sweep timer and cleanups still in flight.
 *
 * Key layout and the atomicity argument: registry-redis-scripts.ts. Entry members carry their
 * node id (`nodeId|connId`; node ids never contain `|`), so a node can only ever remove its own.
 * Lookup is two round trips whatever the number of users: one pipeline of SMEMBERS, one MGET of
 * the leases of the nodes found; entries of dead nodes are filtered out, and those nodes purged
 * in the background.
 *
 * Presence: every script returns the transitions it made (registry-redis-scripts.ts), which go to
 * the listener of the instance that ran it; `presence` reads all users in one pipeline.
 */
import type { Redis } from 'ioredis';
import type { ConnEntry, PresenceRegistry, PresenceState } from '@chat/shared/registry';
import type { ConnId, NodeId, NodeInfo, UserId } from '@chat/shared/types';
import { assertTtl } from './lease.ts';
import { LAST_SEEN_TTL_MS, PURGE_NODE, RENEW_LEASE, SWEEP, UPDATE_ENTRIES } from './registry-redis-scripts.ts';

export interface RedisRegistryOptions {
  /** Prefix of every key, e.g. `chat:`. */
  prefix: string;
  /** How often expired nodes are swept; 0 disables the timer. @default 10000 */
  sweepIntervalMs?: number;
  /** Told about failures of background work (sweep, lazy cleanup), which no caller awaits. */
  onError?: (err: unknown) => void;
}

type Script = (...args: (string | number)[]) => Promise<(string | number)[]>;
interface Scripts { chatRegRenew: Script; chatRegUpdate: Script; chatRegPurge: Script; chatRegSweep: Script }

const SWEEP_BATCH = 100;

export class RedisRegistry implements PresenceRegistry {
  private readonly prefix: string;
  private readonly scripts: Scripts;
  private readonly pending = new Set<Promise<unknown>>();
  /** Dead nodes whose lazy purge is in flight, so a burst of lookups starts one each. */
  private readonly purging = new Set<NodeId>();
  private readonly onError: (err: unknown) => void;
  private readonly timer: NodeJS.Timeout | undefined;
  private listener: (changes: PresenceState[]) => void = () => {};

  constructor(private readonly redis: Redis, opts: RedisRegistryOptions) {
    // Keys built inside the scripts would miss ioredis's own prefix: one prefix, ours.
    if (redis.options.keyPrefix) throw new Error('RedisRegistry: pass the prefix in its options, not as the client keyPrefix');
    this.prefix = `${opts.prefix}reg:`;
    this.onError = opts.onError ?? (() => {});
    // defineCommand runs EVALSHA and falls back to EVAL after NOSCRIPT (e.g. a restarted Redis).
    redis.defineCommand('chatRegRenew', { numberOfKeys: 3, lua: RENEW_LEASE });
    redis.defineCommand('chatRegUpdate', { numberOfKeys: 3, lua: UPDATE_ENTRIES });
    redis.defineCommand('chatRegPurge', { numberOfKeys: 3, lua: PURGE_NODE });
    redis.defineCommand('chatRegSweep', { numberOfKeys: 1, lua: SWEEP });
    this.scripts = redis as unknown as Scripts;
    const every = opts.sweepIntervalMs ?? 10_000;
    if (every > 0) {
      this.timer = setInterval(() => this.track(this.sweep()), every);
      this.timer.unref();
    }
  }

  async renewLease(node: NodeInfo, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    const known = await this.run(this.scripts.chatRegRenew, this.nodeKeys(node.nodeId), node.url, ttlMs, node.nodeId);
    return known === 1;
  }

  async updateEntries(nodeId: NodeId, add: readonly ConnEntry[], remove: readonly ConnId[]): Promise<void> {
    if (add.length === 0 && remove.length === 0) return;
    const args: string[] = [nodeId, String(add.length)];
    for (const { user, connId } of add) args.push(user, connId);
    args.push(...remove);
    await this.run(this.scripts.chatRegUpdate, this.nodeKeys(nodeId), ...args);
  }

  async lookup(users: readonly UserId[]): Promise<Map<UserId, NodeInfo[]>> {
    const unique = [...new Set(users)];
    const out = new Map<UserId, NodeInfo[]>();
    if (unique.length === 0) return out;
    const pipeline = this.redis.pipeline();
    for (const user of unique) pipeline.smembers(this.userPrefix + user);
    const replies = (await pipeline.exec()) ?? [];
    const nodesByUser = new Map<UserId, Set<NodeId>>();
    const allNodes = new Set<NodeId>();
    unique.forEach((user, i) => {
      const [err, members] = replies[i] ?? [new Error('missing pipeline reply'), null];
      if (err) throw err;
      const nodes = new Set<NodeId>();
      for (const member of members as string[]) nodes.add(member.slice(0, member.indexOf('|')));
      if (nodes.size === 0) return;
      nodesByUser.set(user, nodes);
      for (const n of nodes) allNodes.add(n);
    });
    if (allNodes.size === 0) return out;
    const nodeIds = [...allNodes];
    const urls = await this.redis.mget(nodeIds.map((n) => this.leaseKey(n)));
    const live = new Map<NodeId, string>();
    nodeIds.forEach((n, i) => {
      const url = urls[i];
      if (url) live.set(n, url);
      else this.purgeLater(n);
    });
    for (const [user, nodes] of nodesByUser) {
      const found: NodeInfo[] = [];
      for (const nodeId of nodes) {
        const url = live.get(nodeId);
        if (url) found.push({ nodeId, url });
      }
      if (found.length > 0) out.set(user, found);
    }
    return out;
  }

  async removeNode(nodeId: NodeId): Promise<void> {
    await this.purge(nodeId, true);
  }

  async presence(users: readonly UserId[]): Promise<PresenceState[]> {
    if (users.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const user of users) pipeline.exists(this.userPrefix + user).get(this.seenPrefix + user);
    const replies = (await pipeline.exec()) ?? [];
    return users.map((user, i) => {
      const [[existsErr, exists], [seenErr, seen]] = [replies[2 * i] ?? [null, 0], replies[2 * i + 1] ?? [null, null]];
      if (existsErr || seenErr) throw existsErr ?? seenErr;
      const online = exists === 1;
      return { user, online, lastSeen: online || typeof seen !== 'string' ? null : Number(seen) };
    });
  }

  onTransitions(listener: (changes: PresenceState[]) => void): void {
    this.listener = listener;
  }

  /** Stops the sweep and waits for background cleanups; the client belongs to the caller. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.pending]);
  }

  /** Rejects when Redis does not answer (readiness). */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** Purge every node whose lease has expired; resolves with how many were purged or refreshed. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = Number(await this.run(this.scripts.chatRegSweep, [this.prefix + 'nodes'], this.prefix + 'lease:', this.prefix + 'conns:', SWEEP_BATCH));
      total += n;
      if (n < SWEEP_BATCH) return total;
    }
  }

  /** Wait for cleanups started by lookups (tests use it to observe the lazy path). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** Lazy cleanup of a dead node met by a lookup; the lookup does not wait for it. */
  private purgeLater(nodeId: NodeId): void {
    if (this.purging.has(nodeId)) return;
    this.purging.add(nodeId);
    this.track(this.purge(nodeId, false).finally(() => this.purging.delete(nodeId)));
  }

  private purge(nodeId: NodeId, force: boolean): Promise<unknown> {
    return this.run(this.scripts.chatRegPurge, this.nodeKeys(nodeId), nodeId, force ? '1' : '0');
  }

  /** Run a script with the presence arguments every script takes; tell its transitions, return its own result. */
  private async run(script: Script, keys: readonly string[], ...args: (string | number)[]): Promise<string | number> {
    const [first, ...pairs] = await script.call(this.redis, ...keys, this.userPrefix, this.seenPrefix, LAST_SEEN_TTL_MS, ...args);
    if (pairs.length > 0) this.listener(decodeTransitions(pairs));
    return first!;
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.onError(err)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private get userPrefix(): string {
    return this.prefix + 'user:';
  }

  private get seenPrefix(): string {
    return this.prefix + 'seen:';
  }

  private leaseKey(nodeId: NodeId): string {
    return `${this.prefix}lease:${nodeId}`;
  }

  private nodeKeys(nodeId: NodeId): [string, string, string] {
    return [this.leaseKey(nodeId), `${this.prefix}conns:${nodeId}`, this.prefix + 'nodes'];
  }
}

/** A script's transitions: pairs of user and "on" or the last-seen time. */
function decodeTransitions(pairs: readonly (string | number)[]): PresenceState[] {
  const out: PresenceState[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const user = String(pairs[i]);
    const state = String(pairs[i + 1]);
    out.push(state === 'on' ? { user, online: true, lastSeen: null } : { user, online: false, lastSeen: Number(state) });
  }
  return out;
}
