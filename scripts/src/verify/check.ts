/**
 * The consistency check: what the clients recorded against what the store holds, by the
 * guarantees of docs/protocol.md (an ack is durable, in history exactly once with the acked id,
 * seq and ts; seq strictly increases per conversation; a repeated cid is acked as the original).
 * Each count is of messages (or history rows) that break a rule, with a few examples each.
 */
import type { WireMessage } from '@chat/shared/protocol';
import type { Conversation } from './history.ts';
import { sendKey, type Recorder, type SendRecord } from './records.ts';

/** Counts that fail the run when above zero. */
export const FAILING = ['lost', 'duplicated', 'outOfOrder', 'mismatched', 'unknown'] as const;

export interface Counts {
  sent: number;
  acked: number;
  /** Acked, and neither its id nor its (from, cid) is in history. */
  lost: number;
  /** History rows repeating an id or a (from, cid) already read. */
  duplicated: number;
  /** Rows not above the previous seq of their conversation, and acks whose seq history holds under another id. */
  outOfOrder: number;
  /** Acked, and the stored copy of its (from, cid) has another id, seq, ts, recipient or body; or two acks of one cid disagree. */
  mismatched: number;
  /** History rows of the run's conversations that none of its clients sent. */
  unknown: number;
  /** Sent, neither acked nor refused when the clients were closed; and of those, stored. */
  unacked: number;
  unackedStored: number;
  /** Refused for good (an answer retrying cannot fix, or the client's full queue). */
  refused: number;
  /** Acked while the recipient was connected, and never delivered to it live. */
  missedLive: number;
  /** Of those, passed on by the recipient's client library after a catch-up. */
  missedLiveCaughtUp: number;
  /** Acked while the recipient was not connected (it gets them by catching up; not counted as missed). */
  recipientOffline: number;
  conversations: number;
  historyRows: number;
  historyPages: number;
}

export type CountName = keyof Counts;

export interface CheckResult {
  counts: Counts;
  /** Up to a few descriptions per count. */
  examples: Partial<Record<CountName, string[]>>;
  /** The sendKeys of the messages counted as missed live. */
  missedLive: Set<string>;
}

const EXAMPLES = 5;

function describeMessage(m: { from: string; to: string; cid: string; id?: string; seq?: number }): string {
  return `${m.from} → ${m.to} cid ${m.cid}${m.id ? ` id ${m.id}` : ''}${m.seq !== undefined ? ` seq ${m.seq}` : ''}`;
}

/** Whether a conversation holds every message acked in it (for re-reading a lagging history). */
export function holdsAllAcked(conv: Conversation, acked: readonly SendRecord[]): boolean {
  const keys = new Set(conv.messages.map((m) => sendKey(m.from, m.cid)));
  return acked.every((r) => ![r.from, r.to].includes(conv.owner) || ![r.from, r.to].includes(conv.peer) || keys.has(sendKey(r.from, r.cid)));
}

export function check(recorder: Recorder, conversations: readonly Conversation[]): CheckResult {
  const examples: CheckResult['examples'] = {};
  const missedLive = new Set<string>();
  const counts: Counts = {
    sent: recorder.sends.size, acked: 0, lost: 0, duplicated: 0, outOfOrder: 0, mismatched: 0, unknown: 0, unacked: 0, unackedStored: 0,
    refused: 0, missedLive: 0, missedLiveCaughtUp: 0, recipientOffline: 0, conversations: conversations.length, historyRows: 0, historyPages: 0,
  };
  const note = (name: CountName, text: string) => {
    counts[name]++;
    const list = (examples[name] ??= []);
    if (list.length < EXAMPLES) list.push(text);
  };

  const byKey = new Map<string, WireMessage & { to: string }>();
  const byId = new Map<string, WireMessage & { to: string }>();
  /** conversation + seq → id */
  const seqIds = new Map<string, string>();
  const conversationOf = (a: string, b: string) => (a < b ? `${a}\n${b}` : `${b}\n${a}`);
  for (const c of conversations) {
    counts.historyPages += c.pages;
    let previous: WireMessage | undefined;
    for (const wire of c.messages) {
      // The run talks one-to-one only: every message it reads has a `to`.
      const m = { ...wire, to: wire.to ?? '' };
      counts.historyRows++;
      const key = sendKey(m.from, m.cid);
      if (previous && m.seq <= previous.seq) note('outOfOrder', `history of ${c.owner} and ${c.peer}: seq ${m.seq} (${m.id}) after seq ${previous.seq}`);
      previous = m;
      if (byId.has(m.id) || byKey.has(key)) note('duplicated', `${describeMessage(m)} read again (first: id ${(byKey.get(key) ?? byId.get(m.id))!.id})`);
      else {
        byKey.set(key, m);
        byId.set(m.id, m);
      }
      seqIds.set(`${conversationOf(m.from, m.to)}\n${m.seq}`, m.id);
      if (!recorder.sends.has(key)) note('unknown', `${describeMessage(m)}: never sent by this run`);
    }
  }

  for (const r of recorder.sends.values()) {
    if (r.refused) note('refused', `${describeMessage(r)}: ${r.refused}`);
    else if (!r.ack) {
      note('unacked', `${describeMessage(r)} sent at ${(r.sentAt / 1000).toFixed(1)} s`);
      if (byKey.has(sendKey(r.from, r.cid))) counts.unackedStored++;
    }
    if (!r.ack) continue;
    counts.acked++;
    const key = sendKey(r.from, r.cid);
    const ack = r.ack;
    const acked = describeMessage({ ...r, id: ack.id, seq: ack.seq });
    const stored = byKey.get(key);
    if (!stored && !byId.has(ack.id)) note('lost', `${acked}, acked at ${(r.ackedAt! / 1000).toFixed(1)} s`);
    else if (!stored) note('mismatched', `${acked}: history holds id ${ack.id} as ${describeMessage(byId.get(ack.id)!)}`);
    else if (stored.id !== ack.id || stored.seq !== ack.seq || stored.ts !== ack.ts || stored.to !== r.to || stored.body !== r.body) {
      note('mismatched', `${acked} ts ${ack.ts}: stored as id ${stored.id} seq ${stored.seq} ts ${stored.ts}${stored.body === r.body ? '' : ', another body'}${stored.to === r.to ? '' : `, to ${stored.to}`}`);
    } else if (recorder.conflictingAcks.has(key)) note('mismatched', `${acked}: another ack of this cid named another id, seq or ts`);
    const holder = seqIds.get(`${conversationOf(r.from, r.to)}\n${ack.seq}`);
    if (holder !== undefined && holder !== ack.id) note('outOfOrder', `${acked}: history holds seq ${ack.seq} as id ${holder}`);
    if (!r.recipientOnline) counts.recipientOffline++;
    else if (!recorder.live.has(key)) {
      missedLive.add(key);
      note('missedLive', `${acked}, acked at ${(r.ackedAt! / 1000).toFixed(1)} s${recorder.passed.has(key) ? ', caught up' : ', only in history'}`);
      if (recorder.passed.has(key)) counts.missedLiveCaughtUp++;
    }
  }
  return { counts, examples, missedLive };
}
