/**
 * Latency histograms for the bench (HdrHistogram, via hdr-histogram-js): values in microseconds,
 * 3 significant digits, up to 2 minutes. Workers ship them to the parent compressed (base64).
 */
import * as hdr from 'hdr-histogram-js';

export type Hist = hdr.Histogram;

/** Largest recordable value, µs; slower samples are clamped to it (and show as max = 120 s). */
const HIGHEST_US = 120_000_000;

export function newHist(): Hist {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
}

/** Record a latency given in milliseconds (fractions kept to the µs). */
export function recordMs(h: Hist, ms: number): void {
  h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
}

export function encodeHist(h: Hist): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Add an encoded histogram into `into`. */
export function addEncoded(into: Hist, encoded: string): void {
  const h = hdr.decodeFromCompressedBase64(encoded);
  into.add(h);
  h.destroy();
}

/** Percentiles in milliseconds (3 decimals); null fields when the histogram is empty. */
export interface LatencySummary { count: number; p50: number | null; p95: number | null; p99: number | null; max: number | null }

export function summarize(h: Hist): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
  };
}
