/**
 * One room phase's result from what its workers and the sampler saw: the accounting (every acked
 * message owed to each member but its sender; missing = owed and never delivered; duplicates =
 * repeats to a member), deliveries per second, send→deliver over every recipient, forward
 * requests per message against the number of other nodes, and CPU per process.
 */
import { addEncoded, newHist, summarize, type LatencySummary } from './hist.ts';
import type { RoomFinal } from './room-protocol.ts';
import { deliveredPerSec, eventLoop, processes, round, timelineOf, type ProcResult, type RunResult } from './results.ts';
import type { Sample } from './sampler.ts';
import type { SecondStats } from './worker-protocol.ts';

export interface RoomResult {
  label: string;
  members: number;
  nodes: number;
  offeredRate: number;
  windowS: number;
  connections: RunResult['connections'];
  counts: {
    sent: number; acked: number; errors: number; unanswered: number;
    /** acked × (members connected − 1): each message is owed to every member but its sender. */
    owed: number; delivered: number; missing: number; duplicates: number;
    dropped: number; unknown: number;
  };
  errorCodes: Record<string, number>;
  deliveriesPerSec: number;
  sendToDeliver: LatencySummary;
  sendToAck: LatencySummary;
  /** Forward requests the nodes sent during the phase (their chat_forward_requests_total), per acked message. */
  forwardRequests: number | null;
  forwardRequestsPerMessage: number | null;
  /** What a forward request per message should come to: one per other node, whatever the members. */
  otherNodes: number;
  processes: Record<string, ProcResult>;
  eventLoop: RunResult['eventLoop'];
  timeline: RunResult['timeline'];
}

/** Every message's deliveries over all workers: owed, delivered, missing. */
export function roomAccounting(finals: RoomFinal[], connectedMembers: number): RoomResult['counts'] {
  const c = { sent: 0, acked: 0, errors: 0, unanswered: 0, owed: 0, delivered: 0, missing: 0, duplicates: 0, dropped: 0, unknown: 0 };
  const perMessage = Math.max(0, connectedMembers - 1);
  finals.forEach((f, w) => {
    c.sent += f.counts.sent;
    c.delivered += f.counts.delivered;
    c.duplicates += f.counts.duplicates;
    c.dropped += f.counts.dropped;
    c.unknown += f.counts.unknown;
    for (let seq = 0; seq < f.answers.length; seq++) {
      const a = f.answers[seq]!;
      if (a === 2) { c.errors++; continue; }
      if (a === 0) { if (seq < f.counts.sent) c.unanswered++; continue; }
      c.acked++;
      c.owed += perMessage;
      let got = 0;
      for (const r of finals) got += r.received[w]![seq]!;
      c.missing += Math.max(0, perMessage - got);
    }
  });
  return c;
}

export interface RoomSummaryInput {
  label: string; members: number; nodes: number; rate: number; warmupS: number; durationS: number; windowS: number;
  connections: RunResult['connections']; finals: RoomFinal[]; seconds: [number, SecondStats[]][];
  before: Sample; after: Sample; samples: Sample[];
  /** Σ chat_forward_requests_total over the nodes before and after the phase (undefined: a node did not say). */
  forwardsBefore: number | undefined; forwardsAfter: number | undefined;
}

export function summarizeRoom(i: RoomSummaryInput): RoomResult {
  const counts = roomAccounting(i.finals, i.connections.connected);
  const errorCodes: Record<string, number> = {};
  for (const f of i.finals) for (const [k, v] of Object.entries(f.errorCodes)) errorCodes[k] = (errorCodes[k] ?? 0) + v;
  const hist = (pick: (f: RoomFinal) => string) => {
    const h = newHist();
    for (const f of i.finals) addEncoded(h, pick(f));
    const s = summarize(h);
    h.destroy();
    return s;
  };
  const timeline = timelineOf(i.seconds);
  const forwardRequests = i.forwardsBefore === undefined || i.forwardsAfter === undefined ? null : i.forwardsAfter - i.forwardsBefore;
  return {
    label: i.label, members: i.members, nodes: i.nodes, offeredRate: i.rate, windowS: round(i.windowS, 1),
    connections: i.connections, counts, errorCodes,
    deliveriesPerSec: deliveredPerSec(timeline, i.warmupS, i.durationS),
    sendToDeliver: hist((f) => f.deliverHist),
    sendToAck: hist((f) => f.ackHist),
    forwardRequests,
    forwardRequestsPerMessage: forwardRequests === null || counts.acked === 0 ? null : round(forwardRequests / counts.acked, 3),
    otherNodes: i.nodes - 1,
    processes: processes(i.before, i.after, i.windowS),
    eventLoop: eventLoop(i.samples, i.before.t),
    timeline,
  };
}
