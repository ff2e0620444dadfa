/** Waiting for a service to answer `GET /readyz` with 200 again after a fault. */
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 100;
/** A frozen or half-started process may hold a request open: each probe gets this long. */
const PROBE_TIMEOUT_MS = 1000;

async function isReady(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** True once `baseUrl` answers /readyz with 200; false when it did not within `timeoutMs`. */
export async function untilReady(baseUrl: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isReady(baseUrl)) return true;
    await sleep(POLL_MS);
  }
  return false;
}
