/** Token bucket: `perSec` tokens a second, at most `burst` saved up. Time is injectable for tests. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly perSec: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    this.tokens = burst;
    this.last = now();
  }

  /** Take one token; false when none is left. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.perSec) / 1000);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * One token bucket per user, shared by all of that user's connections on this node, so opening
 * more tabs does not multiply what a user may send. A bucket lives while the user has a
 * connection here (`acquire` on welcome, `release` on close): memory is bounded by connected users.
 */
export class UserRateLimits {
  private readonly buckets = new Map<string, { bucket: TokenBucket; refs: number }>();

  constructor(private readonly perSec: number, private readonly burst: number, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.buckets.size;
  }

  /** The user's shared bucket; pair every call with one `release(user)`. */
  acquire(user: string): TokenBucket {
    let entry = this.buckets.get(user);
    if (!entry) this.buckets.set(user, (entry = { bucket: new TokenBucket(this.perSec, this.burst, this.now), refs: 0 }));
    entry.refs++;
    return entry.bucket;
  }

  release(user: string): void {
    const entry = this.buckets.get(user);
    if (entry && --entry.refs <= 0) this.buckets.delete(user);
  }
}
