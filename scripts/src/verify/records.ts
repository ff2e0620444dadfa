/**
 * Everything the run's clients did and saw, for the check at the end: each send (when it was made,
 * its ack, a refusal), every ack that came on the wire, and which messages reached their recipient
 * live (a `message` frame) or only through the client library's catch-up. Times are milliseconds
 * since the run started.
 */
import type { Ack, WireMessage } from '@chat/shared/protocol';

export interface SendRecord {
  from: string;
  to: string;
  cid: string;
  body: string;
  sentAt: number;
  /** The ack the client library passed on (the first one for this cid). */
  ack?: Ack;
  ackedAt?: number;
  /** Whether the recipient's client had an open connection when the ack came. */
  recipientOnline?: boolean;
  /** A refusal that retrying cannot fix, or the client's own (a full queue). */
  refused?: string;
}

/** `from` and `cid`: what names one message across retries. */
export function sendKey(from: string, cid: string): string {
  return `${from}\n${cid}`;
}

export class Recorder {
  readonly started = Date.now();
  /** By sendKey, in send order. */
  readonly sends = new Map<string, SendRecord>();
  ackedCount = 0;
  /** sendKeys of acks on the wire that disagree with an earlier ack of the same cid. */
  readonly conflictingAcks = new Set<string>();
  /** sendKeys of messages their recipient got in a `message` frame. */
  readonly live = new Set<string>();
  /** sendKeys of messages their recipient's client passed on, live or caught up. */
  readonly passed = new Set<string>();
  /** `error` answers to sends, by code (the client retries `unavailable` and `rate_limited`). */
  readonly errorAnswers = new Map<string, number>();
  /** Every ack seen on the wire, by sendKey: the first one. */
  private readonly wireAcks = new Map<string, Ack>();
  /** Once frozen (the clients are being closed), nothing more is recorded. */
  private frozen = false;

  now(): number {
    return Date.now() - this.started;
  }

  sent(from: string, to: string, cid: string, body: string): void {
    if (!this.frozen) this.sends.set(sendKey(from, cid), { from, to, cid, body, sentAt: this.now() });
  }

  acked(from: string, ack: Ack, recipientOnline: boolean): void {
    const rec = this.sends.get(sendKey(from, ack.cid));
    if (this.frozen || !rec || rec.ack) return;
    Object.assign(rec, { ack, ackedAt: this.now(), recipientOnline });
    this.ackedCount++;
  }

  refused(from: string, cid: string, reason: string): void {
    const rec = this.sends.get(sendKey(from, cid));
    if (!this.frozen && rec && !rec.ack) rec.refused = reason;
  }

  /** An `ack` frame as it came on a connection of `from`. */
  wireAck(from: string, ack: Ack): void {
    if (this.frozen) return;
    const key = sendKey(from, ack.cid);
    const first = this.wireAcks.get(key);
    if (!first) this.wireAcks.set(key, ack);
    else if (first.id !== ack.id || first.seq !== ack.seq || first.ts !== ack.ts) this.conflictingAcks.add(key);
  }

  /** An `error` frame answering a send. */
  errorAnswer(code: string): void {
    if (!this.frozen) this.errorAnswers.set(code, (this.errorAnswers.get(code) ?? 0) + 1);
  }

  /** A `message` frame as it came on a connection of `user`. */
  liveMessage(user: string, m: WireMessage): void {
    if (!this.frozen && m.to === user) this.live.add(sendKey(m.from, m.cid));
  }

  /** A message the client library of `user` passed on. */
  passedOn(user: string, m: WireMessage): void {
    if (!this.frozen && m.to === user) this.passed.add(sendKey(m.from, m.cid));
  }

  freeze(): void {
    this.frozen = true;
  }

  acks(): SendRecord[] {
    return [...this.sends.values()].filter((r) => r.ack);
  }

  unacked(): SendRecord[] {
    return [...this.sends.values()].filter((r) => !r.ack && !r.refused);
  }
}
