/**
 * Short-lived cache in front of discovery. Only positive answers are cached: a user found nowhere
 * is asked again next time, so a user who just connected is never hidden by a stale "nowhere".
 * When discovery does not answer, an expired entry is used rather than nothing (stale-if-error);
 * a forward to a node the user left answers "absent", which drops the entry.
 * Concurrent misses are merged into one batched lookup (natural batching), and a user already
 * being looked up is not asked for again: callers join the lookup in flight (so a `prefetch` at
 * send time and the delivery after the ack share one).
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import type { Registry } from '@chat/shared/registry';
import type { NodeInfo, UserId } from '@chat/shared/types';

interface CacheEntry {
  nodes: NodeInfo[];
  expires: number;
}

export class LookupCache {
  private readonly entries = new Map<UserId, CacheEntry>();
  private readonly misses: NaturalBatcher<UserId, NodeInfo[]>;
  private readonly inFlight = new Map<UserId, Promise<NodeInfo[]>>();
  hits = 0;
  missCount = 0;
  /** Expired answers used because discovery did not answer. */
  staleHits = 0;

  constructor(registry: Registry, private readonly ttlMs: number, private readonly maxEntries = 100_000) {
    this.misses = new NaturalBatcher<UserId, NodeInfo[]>({
      name: 'discovery lookups',
      maxBatch: 1000,
      maxQueue: 50_000,
      run: async (users) => {
        const found = await registry.lookup([...new Set(users)]);
        const expires = Date.now() + this.ttlMs;
        return users.map((u) => {
          const nodes = found.get(u) ?? [];
          if (nodes.length > 0 && this.ttlMs > 0) this.remember(u, { nodes, expires });
          return nodes;
        });
      },
    });
  }

  /** The nodes holding each user (possibly including this one). */
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
        pending.push(this.lookup(user).then((nodes) => void out.set(user, nodes), (err: unknown) => {
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
    this.nodesOf(users).catch(() => undefined);
  }

  /** One lookup of `user` at a time: a second caller joins the first. */
  private lookup(user: UserId): Promise<NodeInfo[]> {
    let p = this.inFlight.get(user);
    if (p) return p;
    this.missCount++;
    p = this.misses.push(user);
    this.inFlight.set(user, p);
    const done = () => void this.inFlight.delete(user);
    p.then(done, done);
    return p;
  }

  /** A node said the user is not there: ask discovery next time. */
  invalidate(user: UserId): void {
    this.entries.delete(user);
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
