/**
 * One verify run: the mesh (a deployment's nodes, or a local mesh started here), paired clients
 * under an open-loop load, the local mesh's faults alongside, a drain, every conversation read
 * back from the start, and the check.
 */
import { check, holdsAllAcked } from './check.ts';
import { credentialsFor } from './credentials.ts';
import { runFaults, type FaultResult } from './faults.ts';
import { readConversations } from './history.ts';
import { LocalMesh } from './local-mesh.ts';
import { drain, offerLoad } from './load.ts';
import type { VerifyOptions } from './options.ts';
import { connectAll, createPairs, type Participant } from './participants.ts';
import { Recorder } from './records.ts';
import { ackRecovery, PROMPT_MS } from './recovery.ts';
import { ackLatency, failuresOf, type FaultReport, type VerifyResult } from './result.ts';

const CONNECT_TIMEOUT_MS = 30_000;
const PROGRESS_MS = 5000;
/** Kafka-mode history lags the ack: a conversation missing an acked message is read again this long. */
const HISTORY_SETTLE_MS = 15_000;

function progress(recorder: Recorder, say: (line: string) => void): NodeJS.Timeout {
  return setInterval(() => {
    say(`${(recorder.now() / 1000).toFixed(0)} s: sent ${recorder.sends.size}, acked ${recorder.ackedCount}, waiting for an ack ${recorder.unacked().length}`);
  }, PROGRESS_MS);
}

/** Each fault with how it held up acks and how many messages acked around it were missed live. */
function reportFaults(faults: FaultResult[], recorder: Recorder, loadEnd: number, missedLive: Set<string>): FaultReport[] {
  return faults.map((f, i) => {
    if (f.at === undefined) return f;
    const next = faults.slice(i + 1).find((g) => g.at !== undefined)?.at ?? Infinity;
    let missed = 0;
    for (const [key, r] of recorder.sends) if (missedLive.has(key) && r.ackedAt! >= f.at - PROMPT_MS && r.ackedAt! < next - PROMPT_MS) missed++;
    return { ...f, acks: ackRecovery(recorder.sends.values(), f.at, Math.min(next, loadEnd)), missedLive: missed };
  });
}

export async function runVerify(o: VerifyOptions, say: (line: string) => void): Promise<VerifyResult> {
  if (o.local) say(`starting a local mesh: ${o.localNodes} nodes, ${o.kafka ? 'Kafka' : 'direct'} mode…`);
  const mesh = o.local ? await LocalMesh.start({ nodes: o.localNodes, kafka: o.kafka, logDir: o.logDir }) : undefined;
  const participants: Participant[] = [];
  try {
    const urls = mesh ? mesh.nodeUrls : o.nodes;
    const recorder = new Recorder();
    const secret = process.env.AUTH_SECRET;
    const credentials = (user: string) => credentialsFor(user, secret, o.seconds + o.drainSeconds + 3600);
    const perUser = o.rate / o.users;
    participants.push(...await createPairs({ urls, users: o.users, recorder, credentials, maxQueue: Math.max(1000, Math.ceil(perUser * 120)) }));
    await connectAll(participants, urls, CONNECT_TIMEOUT_MS);
    say(`${o.users} clients connected; sending ${o.rate} msgs/s (${perUser.toFixed(1)} per user) for ${o.seconds} s`);

    const loadStart = recorder.now();
    const faultsDone = mesh
      ? runFaults(mesh, {
        kinds: o.faults, nodes: o.localNodes, loadStart, loadEnd: loadStart + o.seconds * 1000, now: () => recorder.now(),
        acksFlowing: () => recorder.unacked().every((r) => recorder.now() - r.sentAt <= PROMPT_MS),
        onFault: (f) => say(`${(f.at! / 1000).toFixed(1)} s: ${f.what}`),
      })
      : Promise.resolve([]);
    const ticker = progress(recorder, say);
    try {
      await offerLoad(participants, o.rate, o.seconds, faultsDone);
      const loadEnd = recorder.now();
      const faults = await faultsDone;
      say(`sending done; draining (at most ${o.drainSeconds} s)…`);
      await drain(recorder, participants, o.drainSeconds * 1000);
      recorder.freeze();
      for (const p of participants) p.client.close();

      say('reading every conversation back from the start…');
      const acked = recorder.acks();
      const conversations = await readConversations({
        urls,
        pairs: participants.filter((_, i) => i % 2 === 0).map((p) => [p.user, p.partner.user]),
        credentials,
        complete: (conv) => holdsAllAcked(conv, acked),
        settleMs: HISTORY_SETTLE_MS,
      });
      const { counts, examples, missedLive } = check(recorder, conversations);
      return {
        target: mesh ? `${o.localNodes} local nodes, ${mesh.mode} mode` : `${urls.length} nodes (${urls.join(', ')})`,
        users: o.users, rate: o.rate, seconds: Math.round((loadEnd - loadStart) / 100) / 10, plannedSeconds: o.seconds,
        counts, examples, faults: reportFaults(faults, recorder, loadEnd, missedLive),
        ackLatencyMs: ackLatency(acked),
        errorAnswers: Object.fromEntries(recorder.errorAnswers),
        failures: failuresOf(counts, faults, o.failOnMissedLive),
      };
    } finally {
      clearInterval(ticker);
    }
  } finally {
    for (const p of participants) p.client.close();
    await mesh?.stop();
  }
}
