/**
 * What the bench drives: a mesh it starts itself (startService, embedded engines by default,
 * Redis / Kafka / Postgres from REDIS_URL, KAFKA_BROKERS, DATABASE_URL), the bare ws relay
 * baseline, or a running mesh given with --target. The peer product starts in peer-socketio.ts.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startService, type ServiceProcess } from '@chat/shared/service-process';
import { startTestKafka } from '@chat/shared/local-kafka';
import { createTestDatabase } from '@chat/shared/local-postgres';
import { freePort } from '@chat/shared/free-port';
import { EMBEDDED_POSTGRES, findRedisServer, type ProcGroup } from './proc-stats.ts';
import { startScripts } from './script-process.ts';
import type { ClientProtocol } from './worker-protocol.ts';

export const BENCH_SECRET = `bench-cluster-secret-${randomBytes(8).toString('hex')}`;
/**
 * Partitions of the bench topic: the product's default, on a real broker and on librdkafka's mock
 * alike. The mock answers a fetch with one record batch per partition and finds it by walking the
 * partition's list of batches, so more partitions mean smaller batches and longer walks: with the
 * consumer's fetches overlapping its inserts, 48 partitions gave a persist lag p99 of
 * 5.9 s at 10,000 msgs/s, 6 a median of 0.65 s over five runs (docs/benchmarks.md).
 */
export const KAFKA_PARTITIONS = 6;

export interface Target {
  /** mesh; socketio: the peer product (peer-socketio.ts); baseline: the bare ws relay. */
  label: 'mesh' | 'socketio' | 'baseline';
  /** What the client workers speak: the chat protocol (mesh, relay) or Socket.IO. */
  protocol: ClientProtocol;
  /** URL per node the clients connect to (ws:// for the chat protocol, http:// for Socket.IO). */
  wsUrls: string[];
  /** http:// base per node (for /metrics); empty for the relay. */
  nodeUrls: string[];
  /** Other services with a /metrics. */
  serviceUrls: { name: string; url: string }[];
  /** Processes to sample from /proc (none for --target). */
  groups: ProcGroup[];
  databaseUrl?: string;
  kafka: boolean;
  stop(): Promise<void>;
}

export interface Engines { databaseUrl: string; kafka?: { brokers: string[]; topic: string; partitions: number } }

/**
 * A fresh database, and a fresh topic of `partitions` partitions when Kafka is used (KAFKA_BROKERS,
 * or the harness's mock broker).
 */
export async function startEngines(kafka: boolean, partitions = KAFKA_PARTITIONS): Promise<Engines> {
  const databaseUrl = await createTestDatabase();
  if (!kafka) return { databaseUrl };
  // Three mock brokers, like the smallest real cluster: partition leaders spread over them, so a
  // consumer fetches from three brokers at once (the mock hands out one record batch per
  // partition per fetch, see persist-drain.ts).
  const broker = await startTestKafka({ mockBrokers: 3 });
  const topic = `bench-${randomBytes(4).toString('hex')}`;
  await broker.createTopic(topic, partitions);
  return { databaseUrl, kafka: { brokers: broker.brokers, topic, partitions } };
}

function commonEnv(e: Engines): Record<string, string> {
  const env: Record<string, string> = { CLUSTER_SECRET: BENCH_SECRET, LOG_LEVEL: 'info' };
  if (e.kafka) Object.assign(env, { KAFKA_BROKERS: e.kafka.brokers.join(','), KAFKA_TOPIC: e.kafka.topic, KAFKA_PARTITIONS: String(e.kafka.partitions) });
  if (process.env.REDIS_URL) env.REDIS_PREFIX = `bench${randomBytes(4).toString('hex')}:`;
  return env;
}

/**
 * With BENCH_LOG_DIR set, every line a service prints goes to DIR/NAME.log (to read why sends
 * failed, say); otherwise only the last lines are kept, for a service that fails to start.
 */
function keepLog(name: string): ((line: string) => void) | undefined {
  const dir = process.env.BENCH_LOG_DIR;
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const out = createWriteStream(join(dir, `${name}.log`), { flags: 'a' });
  return (line) => void out.write(`${line}\n`);
}

export function startPersist(e: Engines, extra: Record<string, string> = {}, onLine?: (line: string) => void): Promise<ServiceProcess> {
  return startService('sv-persist', {
    ...commonEnv(e), DATABASE_URL: e.databaseUrl, KAFKA_GROUP_ID: `bench-${randomBytes(4).toString('hex')}`, ...extra,
  }, { timeoutMs: 180_000, onLine });
}

/** Processes the bench itself started that belong to the mesh: embedded Postgres, the mock broker. */
function ownEngineGroups(): ProcGroup[] {
  return [
    EMBEDDED_POSTGRES,
    { name: 'kafka-mock', pid: process.pid, descendants: true, comm: 'mock-cluster' },
  ];
}

/** The Redis of REDIS_URL (sv-discover's registry) when it is a redis-server on this machine. */
function registryRedisGroups(): ProcGroup[] {
  const url = process.env.REDIS_URL;
  if (!url) return [];
  const { hostname, port } = new URL(url);
  const pid = ['127.0.0.1', 'localhost', '[::1]'].includes(hostname) ? findRedisServer(Number(port || 6379)) : undefined;
  if (pid !== undefined) return [{ name: 'redis', pid }];
  process.stderr.write(`REDIS_URL ${hostname}:${port || 6379} is no redis-server on this machine: its CPU is not counted\n`);
  return [];
}

export async function startMesh(opts: { nodes: number; kafka: boolean; partitions?: number; nodeEnv?: Record<string, string> }): Promise<Target> {
  const engines = await startEngines(opts.kafka, opts.partitions);
  const common = commonEnv(engines);
  const started: ServiceProcess[] = [];
  const stop = async () => {
    await Promise.all(started.filter((p) => p.name === 'sv-websocket').map((p) => p.stop()));
    await Promise.all(started.filter((p) => p.name !== 'sv-websocket').map((p) => p.stop()));
  };
  try {
    const [discover, persist] = await Promise.all([
      startService('sv-discover', common, { onLine: keepLog('sv-discover') }), startPersist(engines, {}, keepLog('sv-persist')),
    ]);
    started.push(discover, persist);
    const nodes = await Promise.all(Array.from({ length: opts.nodes }, (_, i) => startService('sv-websocket', {
      ...common,
      NODE_ID: `bench-node-${i}`,
      DISCOVER_URL: discover.url,
      PERSIST_URL: persist.url,
      // The bench measures the message path, not the per-connection limiter.
      RATE_LIMIT_PER_SEC: '1000000',
      RATE_LIMIT_BURST: '1000000',
      HELLO_TIMEOUT_MS: '60000',
      ...opts.nodeEnv,
    }, { timeoutMs: 120_000, onLine: keepLog(`node-${i}`) })));
    started.push(...nodes);
    return {
      label: 'mesh',
      protocol: 'chat',
      wsUrls: nodes.map((n) => `ws://127.0.0.1:${n.port}/ws`),
      nodeUrls: nodes.map((n) => n.url),
      serviceUrls: [{ name: 'sv-discover', url: discover.url }, { name: 'sv-persist', url: persist.url }],
      groups: [
        ...nodes.map((n, i) => ({ name: `node-${i}`, pid: n.child.pid! })),
        { name: 'sv-discover', pid: discover.child.pid! },
        { name: 'sv-persist', pid: persist.child.pid! },
        ...ownEngineGroups(),
        ...registryRedisGroups(),
      ],
      databaseUrl: engines.databaseUrl,
      kafka: engines.kafka !== undefined,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const RELAY = fileURLToPath(new URL('./relay.ts', import.meta.url));

/** `count` bare ws relay processes (relay.ts), linked to each other. */
export async function startRelay(count: number): Promise<Target> {
  const relays = await startScripts(RELAY, count, (i, ports) => [String(i), ports.join(',')]);
  return {
    label: 'baseline',
    protocol: 'chat',
    wsUrls: relays.ports.map((p) => `ws://127.0.0.1:${p}/ws`),
    nodeUrls: [],
    serviceUrls: [],
    groups: relays.children.map((c, i) => ({ name: `node-${i}`, pid: c.pid! })),
    kafka: false,
    stop: relays.stop,
  };
}

/** A running mesh: node base URLs (http://host:port), nothing started, nothing sampled from /proc. */
export function externalTarget(urls: string[], databaseUrl: string | undefined): Target {
  const bases = urls.map((u) => u.replace(/\/+$/, ''));
  return {
    label: 'mesh',
    protocol: 'chat',
    wsUrls: bases.map((u) => `${u.replace(/^http/, 'ws')}/ws`),
    nodeUrls: bases,
    serviceUrls: [],
    groups: [],
    ...(databaseUrl && { databaseUrl }),
    kafka: false,
    async stop() {},
  };
}
