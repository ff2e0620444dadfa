/**
 * The floor of send → ack: one client, one send in flight at a time, on a one-node mesh (direct
 * mode, or Kafka with --kafka). No load, so this is the path's own latency: ws in, the append
 * (ingest + insert, or produce), ws out.
 *   npx tsx scripts/src/bench/ack-rtt.ts [--sends 1000] [--kafka]
 */
import { flagsToEnv } from '@chat/shared/config';
import { stopStartedServices } from '@chat/shared/started-services';
import { TestClient } from '@chat/shared/protocol-client';
import { startMesh } from './targets.ts';

const flags = flagsToEnv(process.argv.slice(2));
const sends = Number(flags.SENDS ?? 1000);
const kafka = flags.KAFKA === 'true';
const mesh = await startMesh({ nodes: 1, kafka });
try {
  const base = mesh.nodeUrls[0]!;
  const alice = await TestClient.connect(base, 'alice');
  const bob = await TestClient.connect(base, 'bob');
  for (let i = 0; i < 200; i++) await alice.sendMessage('bob', 'warm-up', `w${i}`);
  const ms: number[] = [];
  for (let i = 0; i < sends; i++) {
    const started = performance.now();
    await alice.sendMessage('bob', 'hello', `m${i}`);
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(2);
  process.stdout.write(`send → ack, one in flight, ${sends} sends (${kafka ? 'kafka' : 'direct'} mode): p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms\n`);
  await alice.close();
  await bob.close();
} finally {
  await mesh.stop();
  await stopStartedServices();
}
