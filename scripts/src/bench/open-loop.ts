/**
 * The open-loop schedule of a worker's sends, and the body each send carries so that whoever
 * receives it knows when it was due and whose it is. The schedule: send k is due at first + k · interval, whatever
 * came of the sends before it (no coordinated omission). Each turn sends every send that is due,
 * then sleeps until the next one, at most `maxSleepMs`.
 */
import { nowMs } from './clock.ts';

/** A worker's part of a run: when its first send is due, how far apart, from when latencies count, how many, and the body's padding. */
export function scheduleOf(r: { startAt: number; offsetMs: number; warmupMs: number; rate: number; bodyBytes: number; totals: number[] }, worker: number) {
  return {
    // A body carries its due time to the µs (benchBody): a send due right at the end of the
    // warm-up must not fall before it by that rounding.
    first: r.startAt + r.offsetMs, interval: 1000 / r.rate, measureFrom: r.startAt + r.warmupMs - 0.001,
    total: r.totals[worker]!, pad: 'x'.repeat(Math.max(0, r.bodyBytes - 30)),
  };
}

export function openLoop(first: number, interval: number, total: number, maxSleepMs: number, send: (k: number, due: number) => void): void {
  let k = 0;
  const tick = () => {
    const now = nowMs();
    while (k < total && first + k * interval <= now) {
      send(k, first + k * interval);
      k++;
    }
    if (k < total) setTimeout(tick, Math.max(0, Math.min(maxSleepMs, first + k * interval - nowMs())));
  };
  setTimeout(tick, Math.max(0, first - nowMs()));
}

/** A send's body: "<due ms>|<worker>|<seq>|padding" (plain characters only: workers write it into JSON unescaped). */
export function benchBody(due: number, worker: number, seq: number, pad: string): string {
  return `${due.toFixed(3)}|${worker}|${seq}|${pad}`;
}

/** What a received body says: when it was due, and which worker's send `seq` it is. */
export function parseBenchBody(body: string): { due: number; src: number; seq: number } {
  const a = body.indexOf('|');
  const b = body.indexOf('|', a + 1);
  const c = body.indexOf('|', b + 1);
  return { due: Number(body.slice(0, a)), src: Number(body.slice(a + 1, b)), seq: Number(body.slice(b + 1, c)) };
}
