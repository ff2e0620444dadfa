/**
 * SIGKILL of a node under steady traffic to a user on it, while discovery still names it (its
 * lease outlasts the test): the sending node marks the dead peer down after its first failed
 * forward and holds what goes there, without a request or a log line per message, probing it now
 * and then. Restarted on its address, the node is probed back, and its user gets the next message
 * live.
 */
import assert from 'node:assert/strict';
import { startService } from '@chat/shared/testing/processes';
import { clientsOf, startMesh, uniqueUser, type Mesh } from '../helpers/mesh.ts';
import { eventually } from '@chat/shared/testing/eventually';
import { metricValue } from '../helpers/faults.ts';

const NODE = { LEASE_MS: '30000', RATE_LIMIT_BURST: '1000', FORWARD_RETRY_MS: '30000' };
const SENDS = 150;

/** Warnings (and worse) of the forwarding and delivery modules among `lines`. */
function forwardWarnings(lines: string[]): string[] {
  return lines.filter((l) => /"level":(40|50|60)/.test(l) && /"module":"(forwarder|delivery)"/.test(l));
}

describe('faults: a dead peer is held after its first failed forward and probed back', function () {
  this.timeout(120_000);
  let mesh: Mesh;
  const lines: string[][] = [[], []];
  const clients = clientsOf(() => mesh);
  const connect = clients.connect;

  before(async function () {
    this.timeout(180_000);
    mesh = await startMesh({ nodes: [NODE, NODE], onNodeLine: (i, line) => lines[i]!.push(line) });
  });
  after(async () => {
    await clients.closeAll();
    await mesh?.stop();
  });

  it('stops forwarding to the dead node without a line per message, and forwards again once it is back', async () => {
    const [a, b] = ['alice', 'bob'].map(uniqueUser) as [string, string];
    const alice = await connect(0, a);
    const bob = await connect(1, b);
    const warm = await alice.sendMessage(b, 'warm', 'd-0');
    await bob.next('message', (m) => m.id === warm.id);
    const sender = mesh.nodes[0]!;
    const victim = mesh.nodes[1]!;

    await victim.stop('SIGKILL');
    const from = lines[0]!.length;
    for (let k = 1; k <= SENDS; k++) {
      await alice.sendMessage(b, `to the dead node ${k}`, `d-${k}`);
      await new Promise((r) => setTimeout(r, 10)); // steady traffic, not one burst
    }
    const warnings = forwardWarnings(lines[0]!.slice(from));
    assert.ok(warnings.length <= 6, `${warnings.length} warning lines for ${SENDS} messages to the dead node:\n${warnings.slice(0, 8).join('\n')}`);
    // One failed forward marked it down; after it, only the probes went out (a few, with backoff).
    const failed = (await metricValue(sender.url, 'chat_forwards_failed_total'))!;
    assert.ok(failed >= 1 && failed <= 15, `${failed} forwards to the dead node failed on the network`);
    assert.ok((await metricValue(sender.url, 'chat_forwards_held_total'))! >= SENDS / 2, 'the rest were held without a request');
    assert.equal(await metricValue(sender.url, 'chat_forward_peers_down'), 1);

    // The node comes back on the same address: a probe finds it, and forwards flow again.
    const restarted = await startService('sv-websocket', { ...mesh.nodeEnv(1), ...NODE, PORT: String(victim.port) });
    mesh.nodes[1] = restarted;
    const bobAgain = await connect(1, b);
    const back = await alice.sendMessage(b, 'welcome back', 'd-back');
    assert.equal((await bobAgain.next('message', (m) => m.id === back.id, 30_000)).body, 'welcome back');
    await eventually('node-0 no longer holds node-1 down', async () => (await metricValue(sender.url, 'chat_forward_peers_down')) === 0);
  });
});
