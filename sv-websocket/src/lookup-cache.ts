/**
 * Short-lived cache in front of discovery. Only positive answers are cached: a user found nowhere
 * is asked again next time, so a user who just connected is never hidden by a stale "nowhere".
 * When discovery does not answer, an expired entry is used rather than nothing (stale-if-error);
 * a forward to a node the user left answers "absent", which drops the entry.
 * Concurrent misses are merged into one batched lookup (natural batching), and a user already
 * being looked up is not asked for again: callers join the lookup in flight (so a `prefetch` at
 * send time and the delivery after the ack share one), unless the user was invalidated since it
 * was asked: its answer may predate the connection that caused the invalidation, so a caller after
 * it (a delivery retrying a user a forward did not reach) starts a fresh lookup instead.
 *
 * Two lifetimes: `ttlMs` (short) on its own, `pushedTtlMs` (long) while discovery's change feed
 * is connected (`setPushed`), which drops a user the moment a new connection of theirs is
 * registered (`invalidateMany`). An answer that was in flight while its user was invalidated may
 * predate the new connection: it is kept for the short lifetime only.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import type { Registry } from '@chat/shared/registry';
import type { NodeId, NodeInfo, UserId } from '@chat/shared/types';

interface CacheEntry {
  nodes: NodeInfo[];
  expires: number;
}

export interface LookupCacheOptions {
  /** How long an answer is trusted on its own. */
  ttlMs: number;
  /** Most users cached; the oldest answers go first. @default 100000 */
  maxEntries?: number;
  /** How long an answer is trusted while discovery's change feed is connected. @default ttlMs */
  pushedTtlMs?: number;
}

export class LookupCache {
  private readonly entries = new Map<UserId, CacheEntry>();
  private readonly misses: NaturalBatcher<UserId, NodeInfo[] | undefined>;
  private readonly inFlight = new Map<UserId, { answer: Promise<NodeInfo[] | undefined>; asked: number }>();
  hits = 0;
  missCount = 0;
  /** Expired answers used because discovery did not answer. */
  staleHits = 0;
  /** Users dropped because discovery pushed a new connection of theirs (or a node said "absent"). */
  invalidations = 0;
  private pushed = false;
  /** Counts invalidations; `invalidatedAt` says when each recent one happened, `floor` when it was last cleared. */
  private epoch = 0;
  private floor = 0;
  private invalidatedAt = new Map<UserId, number>();

  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly pushedTtlMs: number;

  constructor(registry: Registry, opts: LookupCacheOptions) {
    this.ttlMs = opts.ttlMs;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.pushedTtlMs = opts.pushedTtlMs ?? opts.ttlMs;
    this.misses = new NaturalBatcher<UserId, NodeInfo[] | undefined>({
      name: 'discovery lookups',
      // The lookup route's limit: a room's members not cached go in one request.
      maxBatch: 10_000,
      maxQueue: 50_000,
      run: async (users) => {
        const asked = this.epoch;
        const found = await registry.lookup([...new Set(users)]);
        // A registry that just restarted empty may not hold a user yet: unknown, not nowhere.
        const nowhere = registry.warming?.() === true ? undefined : [];
        const now = Date.now();
        return users.map((u) => {
          const nodes = found.get(u);
          if (nodes === undefined) return nowhere;
          const ttl = this.pushed && !this.invalidatedSince(u, asked) ? this.pushedTtlMs : this.ttlMs;
          if (nodes.length > 0 && ttl > 0) this.remember(u, { nodes, expires: now + ttl });
          return nodes;
        });
      },
    });
  }

  /**
   * Whether discovery's change feed is connected. Going off cuts every answer down to the short
   * lifetime: the pushes that would have dropped them may be missed now. Expired answers stay
   * for stale-if-error (a discovery outage also closes the feed).
   */
  setPushed(on: boolean): void {
    if (this.pushed && !on) this.expireWithin(this.ttlMs);
    this.pushed = on;
  }

  /** Discovery pushed new connections of `users`. */
  invalidateMany(users: readonly UserId[]): void {
    for (const u of users) this.invalidate(u);
  }

  /**
   * `nodeId` was found down: forget every user cached on it, so the next delivery to them asks
   * discovery, which names the node they reconnected to.
   */
  dropNode(nodeId: NodeId): void {
    for (const [user, entry] of this.entries) {
      if (entry.nodes.some((n) => n.nodeId === nodeId)) this.invalidate(user);
    }
  }

  /** Discovery may have missed pushes: ask again for everyone (expired answers stay for stale-if-error). */
  expireAll(): void {
    this.expireWithin(0);
  }

  private expireWithin(ms: number): void {
    const latest = Date.now() + ms;
    for (const entry of this.entries.values()) entry.expires = Math.min(entry.expires, latest);
    // Lookups in flight may carry what the missed pushes would have corrected.
    this.epoch++;
    this.floor = this.epoch;
    this.invalidatedAt.clear();
  }

  /**
   * Whether fresh answers say `a` and `b` are on no node but `nodeId` (or on none); counted as
   * hits when so, as `nodesOf` would count them. Allocates nothing: it runs once per message.
   */
  cachedOnlyOn(nodeId: NodeId, a: UserId, b: UserId): boolean {
    const now = Date.now();
    if (!onlyOn(this.entries.get(a), nodeId, now) || (b !== a && !onlyOn(this.entries.get(b), nodeId, now))) return false;
    this.hits += a === b ? 1 : 2;
    return true;
  }

  /**
   * The nodes holding each user (possibly including this one). A user left out of the answer is
   * unknown: discovery did not answer for them, or restarted empty moments ago and may not hold
   * them yet; the caller tries them again later.
   */
  async nodesOf(users: readonly UserId[]): Promise<Map<UserId, NodeInfo[]>> {
    const out = new Map<UserId, NodeInfo[]>();
    const pending: Promise<void>[] = [];
    const now = Date.now();
    for (const user of users) {
      const hit = this.entries.get(user);
      if (hit && hit.expires > now) {
        this.hits++;
        out.set(user, hit.nodes);
      } else {
        pending.push(this.lookup(user).then((nodes) => { if (nodes) out.set(user, nodes); }, (err: unknown) => {
          // Discovery unreachable: an expired answer beats none (stale-if-error), so delivery
          // between nodes goes on through a discovery outage for users seen before it.
          const stale = this.entries.get(user);
          if (!stale) throw err;
          this.staleHits++;
          out.set(user, stale.nodes);
        }));
      }
    }
    if (pending.length === 0) return out;
    const failed = (await Promise.allSettled(pending)).filter((r) => r.status === 'rejected');
    // Partial answers are useful; only a lookup that found nothing at all fails.
    if (failed.length > 0 && out.size === 0) throw (failed[0] as PromiseRejectedResult).reason;
    return out;
  }

  /** Start looking up users not cached, without waiting (a send does it before its append). */
  prefetch(users: readonly UserId[]): void {
    const now = Date.now();
    for (const user of users) {
      const hit = this.entries.get(user);
      if (hit && hit.expires > now) { this.hits++; continue; }
      this.lookup(user).catch(() => undefined);
    }
  }

  /** One lookup of `user` at a time: a second caller joins the first, unless it is outdated. */
  private lookup(user: UserId): Promise<NodeInfo[] | undefined> {
    const known = this.inFlight.get(user);
    if (known && !this.invalidatedSince(user, known.asked)) return known.answer;
    this.missCount++;
    const lookup = { answer: this.misses.push(user), asked: this.epoch };
    this.inFlight.set(user, lookup);
    const done = () => { if (this.inFlight.get(user) === lookup) this.inFlight.delete(user); };
    lookup.answer.then(done, done);
    return lookup.answer;
  }

  /** A node said the user is not there, or discovery pushed a new connection: ask discovery next time. */
  invalidate(user: UserId): void {
    this.entries.delete(user);
    this.invalidations++;
    this.epoch++;
    // Bounded: past the cap, forget the details and treat every lookup in flight as outdated.
    if (this.invalidatedAt.size >= 10_000) {
      this.invalidatedAt.clear();
      this.floor = this.epoch;
    }
    this.invalidatedAt.set(user, this.epoch);
  }

  /** Whether `user` was invalidated after a lookup asked at epoch `asked`. */
  private invalidatedSince(user: UserId, asked: number): boolean {
    return asked < this.floor || (this.invalidatedAt.get(user) ?? 0) > asked;
  }

  private remember(user: UserId, entry: CacheEntry): void {
    // Bounded: when full, drop the oldest insertion (Map keeps insertion order).
    if (this.entries.size >= this.maxEntries && !this.entries.has(user)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.delete(user);
    this.entries.set(user, entry);
  }
}

function onlyOn(entry: CacheEntry | undefined, nodeId: NodeId, now: number): boolean {
  if (!entry || entry.expires <= now) return false;
  for (const node of entry.nodes) if (node.nodeId !== nodeId) return false;
  return true;
}
