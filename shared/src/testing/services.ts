/**
 * Test services: each helper module (postgres.ts, redis.ts, processes.ts) registers how to stop what
 * it started; the root hook stops all of it after the run, last started first.
 */
import { createServer } from 'node:net';

const stoppers: (() => Promise<void>)[] = [];

/** Register cleanup for something a test helper started. */
export function onStop(stop: () => Promise<void>): void {
  stoppers.push(stop);
}

export async function stopStartedServices(): Promise<void> {
  for (const stop of stoppers.splice(0).reverse()) {
    try {
      await stop();
    } catch (err) {
      process.stderr.write(`test cleanup failed: ${String(err)}\n`);
    }
  }
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
