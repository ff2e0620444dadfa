/**
 * The bench's one clock: CLOCK_MONOTONIC in milliseconds. Every process on the machine reads the
 * same monotonic clock, so a time stamped by a sender worker compares directly with the time a
 * recipient worker (another process) reads, at sub-millisecond resolution and immune to NTP steps.
 */
export function nowMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1000 + ns / 1e6;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
