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
