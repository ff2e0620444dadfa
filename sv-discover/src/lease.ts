/** Lease rules both registries share. */

/** Longest lease a node may ask for (matches the internal API's bound). */
export const MAX_TTL_MS = 600_000;

/**
 * Leases are whole positive milliseconds (Redis PX takes nothing else). The HTTP API asks for at
 * least 1000 ms; the registries themselves accept any positive lease so unit tests can use tiny ones.
 */
export function assertTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS) {
    throw new RangeError(`lease ttl must be an integer from 1 to ${MAX_TTL_MS} ms, got ${ttlMs}`);
  }
}
