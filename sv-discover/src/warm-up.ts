/**
 * Whether a registry that started empty may still be missing live connections. A memory registry
 * (no REDIS_URL) loses every entry when sv-discover restarts; each node finds out at its next
 * heartbeat (`known: false`) and registers its connections again. Until every node has had one
 * heartbeat, "found nowhere" may only mean "not registered yet": lookups say so (`warming`), and
 * nodes retry those users instead of leaving their messages to history. Nodes renew every lease
 * TTL / 3, so that is how long the doubt lasts, counted from the start (plus a second of slack).
 * A Redis registry keeps its entries across restarts and never warms up.
 */
export class WarmUp {
  private readonly startedAt = Date.now();
  private readonly startsEmpty: boolean;
  private longestTtlMs: number;

  /**
   * `leaseMs`: the nodes' lease as configured (a longer one seen in a heartbeat extends the
   * window); undefined for a registry that keeps its entries, which never warms up.
   */
  constructor(leaseMs: number | undefined) {
    this.startsEmpty = leaseMs !== undefined;
    this.longestTtlMs = leaseMs ?? 0;
  }

  /** A node renewed its lease with this TTL: its next heartbeat comes within TTL / 3. */
  noteLease(ttlMs: number): void {
    if (ttlMs > this.longestTtlMs) this.longestTtlMs = ttlMs;
  }

  get warming(): boolean {
    return this.startsEmpty && Date.now() < this.startedAt + this.longestTtlMs / 3 + 1000;
  }
}
