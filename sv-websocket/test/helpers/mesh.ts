/**
 * A whole mesh of real processes: sv-discover instance(s), sv-persist on a fresh database, N nodes.
 * Embedded engines by default; with `redisUrl` discovery runs on Redis, with `kafka` the nodes
 * produce to Kafka and the persisters consume it as one group.
 */
import { randomBytes } from 'node:crypto';
import { startService, type ServiceProcess } from '@chat/shared/testing/processes';
import { createTestDatabase } from '@chat/shared/local-postgres';
import { startTestRedis } from '@chat/shared/testing/redis';
import { TestClient } from '@chat/shared/protocol-client';

export const TEST_SECRET = 'test-cluster-secret-0123456789';

export interface KafkaEngine {
  brokers: string[];
  topic: string;
  partitions: number;
}

export interface MeshOptions {
  /** Extra variables per node; one node per element. */
  nodes: Record<string, string>[];
  redisUrl?: string;
  kafka?: KafkaEngine;
  discovers?: number;
  persisters?: number;
  /** Extra variables for every persister. */
  persistEnv?: Record<string, string>;
  /** Use this database instead of a fresh one from `createTestDatabase` (e.g. a private Postgres). */
  databaseUrl?: string;
  /** Every output line of node i, as it comes (a test counting log lines). */
  onNodeLine?: (i: number, line: string) => void;
}

export interface Mesh {
  databaseUrl: string;
  discovers: ServiceProcess[];
  /** The first sv-discover (most tests need one). */
  discover: ServiceProcess;
  persisters: ServiceProcess[];
  persist: ServiceProcess;
  nodes: ServiceProcess[];
  /** Variables a node started later needs to join this mesh. */
  nodeEnv(i: number): Record<string, string>;
  /** Variables to start sv-discover again (pass PORT to reuse its port). */
  discoverEnv(): Record<string, string>;
  /** Variables to start a persister again (same database and consumer group). */
  persistEnv(): Record<string, string>;
  stop(): Promise<void>;
}

function engineEnv(o: MeshOptions): Record<string, string> {
  const env: Record<string, string> = { CLUSTER_SECRET: TEST_SECRET };
  if (o.redisUrl) Object.assign(env, { REDIS_URL: o.redisUrl, REDIS_PREFIX: `t${randomBytes(4).toString('hex')}:` });
  if (o.kafka) Object.assign(env, { KAFKA_BROKERS: o.kafka.brokers.join(','), KAFKA_TOPIC: o.kafka.topic, KAFKA_PARTITIONS: String(o.kafka.partitions) });
  return env;
}

/** Start the mesh; `nodes[i]` adds variables to node i. Accepts the old array form too. */
export async function startMesh(opts: MeshOptions | Record<string, string>[]): Promise<Mesh> {
  const o: MeshOptions = Array.isArray(opts) ? { nodes: opts } : opts;
  const databaseUrl = o.databaseUrl ?? await createTestDatabase();
  const common = engineEnv(o);
  const groupId = `persist-${randomBytes(4).toString('hex')}`;
  const discoverEnv = (): Record<string, string> => ({ ...common });
  const persistEnv = (): Record<string, string> => ({ ...common, DATABASE_URL: databaseUrl, KAFKA_GROUP_ID: groupId, ...o.persistEnv });
  const discovers = await Promise.all(Array.from({ length: o.discovers ?? 1 }, () => startService('sv-discover', discoverEnv())));
  const persisters = await Promise.all(Array.from({ length: o.persisters ?? 1 }, () =>
    startService('sv-persist', persistEnv(), { timeoutMs: 120_000 })));
  const nodeEnv = (i: number): Record<string, string> => ({
    ...common,
    NODE_ID: `node-${i}`,
    // Each node lists every sv-discover, starting at a different one.
    DISCOVER_URL: discovers.map((_, k) => discovers[(i + k) % discovers.length]!.url).join(','),
    // History fails over across persisters; direct-mode ingest goes to the first (the single writer).
    PERSIST_URL: persisters.map((p) => p.url).join(','),
  });
  const nodes = await Promise.all(o.nodes.map((extra, i) => startService('sv-websocket', { ...nodeEnv(i), ...extra },
    o.onNodeLine && { onLine: (line) => o.onNodeLine!(i, line) })));
  return {
    databaseUrl, discovers, discover: discovers[0]!, persisters, persist: persisters[0]!, nodes, nodeEnv, discoverEnv, persistEnv,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await Promise.all([...discovers, ...persisters].map((p) => p.stop()));
    },
  };
}

/**
 * A mesh on either registry: in memory (one sv-discover), or on Redis with two sv-discover
 * instances, where node i starts at instance i mod 2, so what one node registers reaches a node
 * following the other instance through Redis.
 */
export async function startRegistryMesh(engine: 'memory' | 'redis', nodes: Record<string, string>[]): Promise<Mesh> {
  return engine === 'memory' ? startMesh({ nodes }) : startMesh({ nodes, redisUrl: await startTestRedis(), discovers: 2 });
}

/** A user name unique to this run, so tests never see each other's conversations. */
let counter = 0;
export function uniqueUser(name: string): string {
  return `${name}-${process.pid}-${++counter}`;
}

/** The connections a test file opens to a mesh's nodes: `connect` in tests, `closeAll` in afterEach. */
export function clientsOf(mesh: () => Mesh) {
  const open: TestClient[] = [];
  return {
    async connect(node: number, user: string): Promise<TestClient> {
      const c = await TestClient.connect(mesh().nodes[node]!.url, user);
      open.push(c);
      return c;
    },
    async closeAll(): Promise<void> {
      await Promise.all(open.splice(0).map((c) => c.close()));
    },
  };
}

/**
 * For suites that start a mesh per test: `launch` starts one and `connect` opens a connection to
 * any of them; `stopAll` (in afterEach) closes the connections, then stops the meshes.
 */
export function meshesPerTest() {
  const meshes: Mesh[] = [];
  const open: TestClient[] = [];
  return {
    meshes,
    async launch(opts: MeshOptions): Promise<Mesh> {
      const mesh = await startMesh(opts);
      meshes.push(mesh);
      return mesh;
    },
    async connect(mesh: Mesh, node: number, user: string): Promise<TestClient> {
      const c = await TestClient.connect(mesh.nodes[node]!.url, user);
      open.push(c);
      return c;
    },
    async stopAll(): Promise<void> {
      await Promise.all(open.splice(0).map((c) => c.close()));
      await Promise.all(meshes.splice(0).map((m) => m.stop()));
    },
  };
}
