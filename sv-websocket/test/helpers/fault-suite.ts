/**
 * The setup most fault suites share: a mesh started before the suite's tests, a probe of its
 * discovery, the suite's client connections, and all of it stopped after (the connections first,
 * so the mesh's shutdown does not wait on them).
 */
import { DiscoveryProbe } from './faults.ts';
import { clientsOf, type Mesh } from './mesh.ts';
import type { TestClient } from '@chat/shared/protocol-client';

export interface FaultSuite {
  readonly mesh: Mesh;
  readonly probe: DiscoveryProbe;
  connect(node: number, user: string): Promise<TestClient>;
}

/** Register the suite's hooks; `beforeStop` undoes what a test may leave behind (e.g. a stopped process). */
export function faultSuite(start: () => Promise<Mesh>, opts: { beforeStop?: (mesh: Mesh) => void } = {}): FaultSuite {
  let mesh: Mesh | undefined;
  let probe: DiscoveryProbe | undefined;
  const clients = clientsOf(() => mesh!);
  before(async function () {
    this.timeout(180_000);
    mesh = await start();
    probe = new DiscoveryProbe(() => mesh!.discover.url);
  });
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
