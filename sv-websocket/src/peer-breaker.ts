/**
 * A circuit breaker for one peer node. Without it, a node that died keeps getting a forward (a
 * connect attempt, a failure, a log line) for every message until discovery's lease on it
 * expires, seconds later. Instead, the first failed forward marks the peer down (`open`): what
 * would go there is held at once, without touching the network. After `firstDelayMs` one forward
 * is let through as a probe (`probing`); its success closes the breaker, its failure opens it
 * again for twice as long, up to `maxDelayMs`. Pure state: the caller passes the clock.
 */

export interface PeerBreakerOptions {
  /** Wait before the first probe. @default 250 */
  firstDelayMs?: number;
  /** Longest wait between two probes. @default 5000 */
  maxDelayMs?: number;
}

/** What to do with a forward: send it, send it as the probe, or hold it (the peer is down). */
export type Admission = 'send' | 'probe' | 'hold';

export class PeerBreaker {
  private state: 'closed' | 'open' | 'probing' = 'closed';
  private delayMs = 0;
  private probeAt = 0;
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(opts: PeerBreakerOptions = {}) {
    this.firstDelayMs = opts.firstDelayMs ?? 250;
    this.maxDelayMs = Math.max(this.firstDelayMs, opts.maxDelayMs ?? 5000);
  }

  /** Whether the peer is marked down (held, or a probe is out). */
  get down(): boolean {
    return this.state !== 'closed';
  }

  /** Decide for one forward at `now`; a `probe` admission makes the breaker wait for its outcome. */
  admit(now: number): Admission {
    if (this.state === 'closed') return 'send';
    if (this.state === 'probing' || now < this.probeAt) return 'hold';
    this.state = 'probing';
    return 'probe';
  }

  /** The peer answered. Returns true when that brought it back (it was marked down). */
  succeeded(): boolean {
    const wasDown = this.down;
    this.state = 'closed';
    this.delayMs = 0;
    return wasDown;
  }

  /**
   * A forward failed at `now`; `probe` says whether it carried the probe. Returns true when this
   * failure marked the peer down. Failures of forwards sent before the peer was marked down (they
   * were in flight together) change nothing.
   */
  failed(now: number, probe: boolean): boolean {
    if (this.state === 'closed') {
      this.open(now, this.firstDelayMs);
      return true;
    }
    if (this.state === 'probing' && probe) this.open(now, Math.min(this.delayMs * 2, this.maxDelayMs));
    return false;
  }

  private open(now: number, delayMs: number): void {
    this.state = 'open';
    this.delayMs = delayMs;
    this.probeAt = now + delayMs;
  }
}
