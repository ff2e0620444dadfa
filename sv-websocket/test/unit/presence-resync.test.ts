/** The node's entries in discovery: a removal that did not get through is sent again at the next heartbeat. */
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { ConnEntry } from '@chat/shared/registry';
import type { ConnId, NodeId } from '@chat/shared/types';
import { MemoryRegistry } from '../../../sv-discover/src/registry-memory.ts';
import { LocalConnections } from '../../src/local-connections.ts';
import { Presence } from '../../src/presence.ts';

/** The MemoryRegistry, with entry updates failing while `down`. */
class FlakyRegistry extends MemoryRegistry {
  down = false;

  override async updateEntries(nodeId: NodeId, add: readonly ConnEntry[], remove: readonly ConnId[]): Promise<void> {
    if (this.down) throw new Error('discovery unreachable');
    return super.updateEntries(nodeId, add, remove);
  }
}

describe('Presence: entries of the node', () => {
  it('sends a failed removal again at the next heartbeat, so the user goes offline', async () => {
    const registry = new FlakyRegistry({ sweepIntervalMs: 0 });
    const local = new LocalConnections();
    const presence = new Presence(registry, { nodeId: 'n1', url: 'http://127.0.0.1:3001' }, 60_000, local, pino({ level: 'silent' }));
    try {
      await presence.heartbeat();
      const conn = { user: 'alice', connId: 'c1', socket: { sendRaw: () => undefined } };
      local.add(conn);
      await presence.added(conn);
      assert.deepEqual(await registry.presence(['alice']), [{ user: 'alice', online: true, lastSeen: null }]);
      registry.down = true;
      local.remove(conn);
      presence.removed('c1');
      await new Promise((r) => setImmediate(r));
      assert.equal((await registry.presence(['alice']))[0]!.online, true, 'the removal did not get through');
      registry.down = false;
      await presence.heartbeat();
      assert.equal((await registry.presence(['alice']))[0]!.online, false);
      assert.equal((await registry.lookup(['alice'])).has('alice'), false);
    } finally {
      await registry.close();
    }
  });
});
