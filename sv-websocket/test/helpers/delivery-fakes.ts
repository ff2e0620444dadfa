/** Delivery's parts in one process: a forwarder that records instead of sending, and a registry placing users on nodes. */
import type { NodeInfo, UserId } from '@chat/shared/types';
import { MemoryRegistry } from '../../../sv-discover/src/registry-memory.ts';
import type { Forwarder, ForwardItem, ForwardResult } from '../../src/forwarder.ts';

/** A forwarder in place of the network: records what it is asked, answers as `answer` says. */
export function recordingForwarder(answer: (node: NodeInfo) => ForwardResult) {
  const sent: { node: string; id: string; users: UserId[] }[] = [];
  const forwarder = {
    forward: async (node: NodeInfo, item: ForwardItem, users: UserId[]) => {
      sent.push({ node: node.nodeId, id: 'message' in item ? item.message.id : item.event.type, users });
      return answer(node);
    },
  } as unknown as Forwarder;
  return { sent, forwarder };
}

/** A memory registry (a product mode) holding one connection of each user on its node. */
export async function registryWith(placements: [user: string, node: string][]): Promise<MemoryRegistry> {
  const registry = new MemoryRegistry({ sweepIntervalMs: 0 });
  for (const [user, node] of placements) {
    await registry.renewLease({ nodeId: node, url: `http://127.0.0.1:1/${node}` }, 60_000);
    await registry.updateEntries(node, [{ user, connId: `${user}@${node}` }], []);
  }
  return registry;
}
