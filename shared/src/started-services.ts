/**
 * What a test run or a bench run started for itself (embedded Postgres, a Kafka mock cluster,
 * service processes): each starter registers how to stop what it started, and
 * `stopStartedServices` stops all of it at the end, last started first.
 */

const stoppers: (() => Promise<void>)[] = [];

/** Register how to stop something that was just started. */
export function onStop(stop: () => Promise<void>): void {
  stoppers.push(stop);
}

export async function stopStartedServices(): Promise<void> {
  for (const stop of stoppers.splice(0).reverse()) {
    try {
      await stop();
    } catch (err) {
      process.stderr.write(`cleanup failed: ${String(err)}\n`);
    }
  }
}
