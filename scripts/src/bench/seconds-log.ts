/**
 * A worker's per-second record of a run, by second since the first scheduled send: sends,
 * answers and deliveries counted, and each delivery's latency in a histogram of its second. The
 * worker hands finished seconds to the parent, encoded, and forgets them.
 */
import { encodeHist, newHist, type Hist } from './hist.ts';
import type { SecondStats } from './worker-protocol.ts';

export class SecondsLog {
  private readonly seconds = new Map<number, SecondStats & { hist: Hist }>();

  /** The record of the second `t` (monotonic ms) falls in, counted from `startAt`. */
  at(startAt: number, t: number): SecondStats & { hist: Hist } {
    const sec = Math.floor((t - startAt) / 1000);
    let s = this.seconds.get(sec);
    if (!s) this.seconds.set(sec, s = { sec, sent: 0, acked: 0, errors: 0, delivered: 0, deliverHist: '', hist: newHist() });
    return s;
  }

  /** Seconds before `beforeSec` (all when undefined), encoded and forgotten. */
  take(beforeSec?: number): SecondStats[] {
    const out: SecondStats[] = [];
    for (const [sec, { hist, ...s }] of this.seconds) {
      if (beforeSec !== undefined && sec >= beforeSec) continue;
      out.push({ ...s, deliverHist: encodeHist(hist) });
      hist.destroy();
      this.seconds.delete(sec);
    }
    return out;
  }
}
