/** A whole mesh of real processes: one sv-discover, one sv-persist on a fresh database, N nodes. */
import { startService, type ServiceProcess } from '@chat/shared/testing/processes';
import { createTestDatabase } from '@chat/shared/testing/postgres';

export const TEST_SECRET = 'test-cluster-secret-0123456789';

export interface Mesh {
  databaseUrl: string;
  discover: ServiceProcess;
  persist: ServiceProcess;
  nodes: ServiceProcess[];
  stop(): Promise<void>;
}

/** Start the mesh; `nodeEnv[i]` adds variables to node i. */
export async function startMesh(nodeEnv: Record<string, string>[]): Promise<Mesh> {
  const databaseUrl = await createTestDatabase();
  const common = { CLUSTER_SECRET: TEST_SECRET };
  const [discover, persist] = await Promise.all([
    startService('sv-discover', { ...common }),
    startService('sv-persist', { ...common, DATABASE_URL: databaseUrl }),
  ]);
  const nodes = await Promise.all(nodeEnv.map((extra, i) => startService('sv-websocket', {
    ...common,
    NODE_ID: `node-${i}`,
    DISCOVER_URL: discover.url,
    PERSIST_URL: persist.url,
    ...extra,
  })));
  return {
    databaseUrl, discover, persist, nodes,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await Promise.all([discover.stop(), persist.stop()]);
    },
  };
}

/** A user name unique to this run, so tests never see each other's conversations. */
let counter = 0;
export function uniqueUser(name: string): string {
  return `${name}-${process.pid}-${++counter}`;
}
