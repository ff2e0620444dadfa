/** Per-minute bucketing of a timed run: which minute of the window each observation belongs to. */

export const MINUTE_MS = 60_000;

/**
 * Items grouped by the minute of the window they fall in (`msOf`: ms since the window's start):
 * one bucket per started minute of `windowMs`. Items before the start are left out; items after
 * the end (deliveries draining after the last send) join the last minute, so every observation
 * of the run is counted once.
 */
export function byMinute<T>(items: readonly T[], msOf: (item: T) => number, windowMs: number): T[][] {
  const buckets: T[][] = Array.from({ length: Math.max(1, Math.ceil(windowMs / MINUTE_MS)) }, () => []);
  for (const item of items) {
    const ms = msOf(item);
    if (!(ms >= 0)) continue;
    buckets[Math.min(buckets.length - 1, Math.floor(ms / MINUTE_MS))]!.push(item);
  }
  return buckets;
}
