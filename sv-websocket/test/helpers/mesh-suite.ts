/**
 * The setup most mesh suites share: a mesh started before the suite's tests, a probe of its
 * discovery, the suite's client connections, and all of it stopped after (the connections first,
 * so the mesh's shutdown does not wait on them).
 */
import { DiscoveryProbe } from './faults.ts';
import { clientsOf, type Mesh } from './mesh.ts';
import type { TestClient } from '@chat/shared/protocol-client';

export interface MeshSuite {
  readonly mesh: Mesh;
  readonly probe: DiscoveryProbe;
  connect(node: number, user: string): Promise<TestClient>;
}

/**
 * Register the suite's hooks; `beforeStop` undoes what a test may leave behind (e.g. a stopped
 * process); `closeClientsAfterEach` gives every test fresh connections.
 */
export function meshSuite(
  start: () => Promise<Mesh>,
  opts: { beforeStop?: (mesh: Mesh) => void; closeClientsAfterEach?: boolean } = {},
): MeshSuite {
  let mesh: Mesh | undefined;
  let probe: DiscoveryProbe | undefined;
  const clients = clientsOf(() => mesh!);
  before(async function () {
    this.timeout(180_000);
    mesh = await start();
    probe = new DiscoveryProbe(() => mesh!.discover.url);
  });
  if (opts.closeClientsAfterEach) afterEach(() => clients.closeAll());
  after(async () => {
    if (mesh) opts.beforeStop?.(mesh);
    await clients.closeAll();
    await probe?.close();
    await mesh?.stop();
  });
  return {
    get mesh() { return mesh!; },
    get probe() { return probe!; },
    connect: clients.connect,
  };
}
