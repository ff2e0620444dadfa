/**
 * Kafka mode: a MessageLog wrapper that makes a `cid` repeated on another node an ack of the
 * original, through the record of sends every node shares (shared/src/send-ledger.ts, kept by
 * sv-discover). Each message is claimed first, and written only when its claim is new:
 * - claim new: write it, ack the log's answer, and settle the record with the seq;
 * - a record with its seq: ack the original's id, seq and ts (`duplicate`), write nothing;
 * - a record without seq (its node died after claiming, or is still writing): wait up to
 *   `storeWaitMs` for the store to hold (from, cid) and ack what it holds; when nothing shows up,
 *   the first node never wrote it, so write it now under the claimed id and ts. When the claim
 *   is this node's own and its write failed (a retry after a broker outage), one look suffices.
 * Claiming before writing is what keeps the record ahead of the log: a node that dies between the
 * two leaves a claim without a message, never a message without a claim (which a repeat elsewhere
 * could not see, and would write again). It costs the claim's round trip on every ack.
 *
 * When sv-discover does not answer within `claimTimeoutMs`, the message is written anyway and
 * only the node's own record (RecentSendsLog, in front) dedupes its repeats: availability over
 * dedupe across nodes during a discovery outage, counted (`fallback`) and logged once per interval.
 * Order holds: messages are written in the order `append` was called, whatever their claims.
 */
import { withTimeout } from '@chat/shared/timeout';
import type { FailureLog } from '@chat/shared/failure-log';
import type { MessageLog } from '@chat/shared/message-log';
import type { SendLedger, SendRecord, SendSettlement } from '@chat/shared/send-ledger';
import { dedupeKey, type Accepted, type NewMessage } from '@chat/shared/types';
import type { StoredSends } from './stored-sends.ts';

/** How a message's claim was answered: `repeat` from the record, `stored` from the store, `rewritten` under the claimed identity. */
export type DedupeOutcome = 'new' | 'repeat' | 'stored' | 'rewritten' | 'fallback';

export interface ClaimingLogOptions {
  /** How long a claim may take before the message is written on the node's own record. @default 1000 */
  claimTimeoutMs?: number;
  /** How long a record without seq waits for the store before the message is written under the claimed id. @default 5000 */
  storeWaitMs?: number;
  /** First pause between looks at the store; it doubles, up to 1 s. @default 100 */
  storePollMs?: number;
  onOutcome?: (outcome: DedupeOutcome) => void;
}

/** Claims of this node whose write failed, remembered so their retries here look at the store once instead of waiting. */
const FAILED_WRITES_KEPT = 10_000;

/** A claim's answer; undefined when sv-discover did not give one. */
type Claimed = SendRecord | null | undefined;

export class ClaimingLog implements MessageLog {
  private readonly claimTimeoutMs: number;
  private readonly storeWaitMs: number;
  private readonly storePollMs: number;
  /** The write decisions of earlier appends: each waits for the one before, so writes keep call order. */
  private gate: Promise<void> = Promise.resolve();
  /** (from, cid) → the id of this node's claim whose write failed, until written. */
  private readonly failedWrites = new Map<string, string>();

  constructor(
    private readonly log: MessageLog,
    private readonly ledger: SendLedger,
    private readonly stored: StoredSends,
    private readonly failures: Pick<FailureLog, 'record'>,
    private readonly opts: ClaimingLogOptions = {},
  ) {
    this.claimTimeoutMs = opts.claimTimeoutMs ?? 1000;
    this.storeWaitMs = opts.storeWaitMs ?? 5000;
    this.storePollMs = opts.storePollMs ?? 100;
  }

  append(msgs: NewMessage[]): Promise<Accepted[]> {
    const claims = withTimeout(this.ledger.claim(msgs.map(({ from, cid, id, ts }) => ({ from, cid, id, ts }))), this.claimTimeoutMs, "sv-discover's answer")
      .catch((err: unknown): Claimed[] => {
        this.failures.record("the record of sends did not answer; deduplicating on this node's own record", { err });
        return msgs.map(() => undefined);
      });
    const decided = this.gate.then(() => claims).then((records) => this.decide(msgs, records));
    this.gate = decided.then(() => {}, () => {});
    return decided.then((results) => Promise.all(results));
  }

  backlogMs(): number {
    return this.log.backlogMs?.() ?? 0;
  }

  healthy(): boolean {
    return this.log.healthy?.() ?? true;
  }

  /** Lets the decisions under way start their writes, closes the log, then sends the last settlements. */
  async close(): Promise<void> {
    await this.gate;
    await this.log.close();
    await this.ledger.close();
  }

  /** Starts, synchronously, one write of every message to be written; the rest are answered otherwise. */
  private decide(msgs: NewMessage[], records: Claimed[]): Promise<Accepted>[] {
    const results: Promise<Accepted>[] = [];
    const toWrite: { index: number; message: NewMessage; outcome: 'new' | 'fallback' }[] = [];
    msgs.forEach((m, i) => {
      const held = records[i];
      if (held === undefined || held === null) {
        toWrite.push({ index: i, message: m, outcome: held === null ? 'new' : 'fallback' });
      } else if (held.seq !== undefined) {
        this.count('repeat');
        results[i] = Promise.resolve({ id: held.id, seq: held.seq, ts: held.ts, duplicate: true });
      } else {
        // This node's own claim whose write failed (the broker was down, say) needs one look at
        // the store, not a wait: the write failed long enough ago to have been stored if it landed.
        const ownFailed = this.failedWrites.get(dedupeKey(m.from, m.cid)) === held.id;
        results[i] = this.recover(m, held, ownFailed ? 0 : this.storeWaitMs);
      }
    });
    if (toWrite.length === 0) return results;
    const written = this.log.append(toWrite.map((w) => w.message));
    written.then(
      (accepted) => this.settle(accepted.map((a, j) => settlementOf(toWrite[j]!.message, a))),
      () => { for (const w of toWrite) this.rememberFailed(w.message); },
    );
    toWrite.forEach((w, j) => {
      results[w.index] = written.then((accepted) => {
        this.count(w.outcome);
        return accepted[j]!;
      });
    });
    return results;
  }

  /** Bounded: past FAILED_WRITES_KEPT the oldest are forgotten (their retries wait for the store). */
  private rememberFailed(m: NewMessage): void {
    const key = dedupeKey(m.from, m.cid);
    this.failedWrites.delete(key);
    this.failedWrites.set(key, m.id);
    if (this.failedWrites.size > FAILED_WRITES_KEPT) this.failedWrites.delete(this.failedWrites.keys().next().value as string);
  }

  /** A record without seq: the store says what was written; if nothing ever was, write it as claimed. */
  private async recover(m: NewMessage, held: SendRecord, waitMs: number): Promise<Accepted> {
    const stored = await this.waitForStored(m, waitMs);
    if (stored) {
      this.count('stored');
      this.failedWrites.delete(dedupeKey(m.from, m.cid));
      this.settle([{ from: m.from, cid: m.cid, ...stored, replaces: held.id }]);
      return { ...stored, duplicate: true };
    }
    // Nothing was stored: the claimant died before writing (or its write is lost). Written now
    // under the claimed identity, so even a late first copy carries the same id.
    const claimed = { ...m, id: held.id, ts: held.ts };
    let accepted: Accepted;
    try {
      [accepted] = (await this.log.append([claimed])) as [Accepted];
    } catch (err) {
      this.rememberFailed(claimed);
      throw err;
    }
    this.failedWrites.delete(dedupeKey(m.from, m.cid));
    this.count('rewritten');
    this.settle([settlementOf(m, accepted)]);
    return accepted;
  }

  /** The stored message of (from, cid), looked for until `waitMs` has passed (at least once); null if none. */
  private async waitForStored(m: NewMessage, waitMs: number) {
    const deadline = Date.now() + waitMs;
    for (let pause = this.storePollMs; ; pause = Math.min(2 * pause, 1000)) {
      try {
        const found = await this.stored.find({ from: m.from, cid: m.cid });
        if (found) return found;
      } catch (err) {
        this.failures.record('could not read the store for a repeated cid', { err });
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise((r) => setTimeout(r, Math.min(pause, left)));
    }
  }

  /** Not awaited: until a settlement lands, a repeat is resolved from the store instead. */
  private settle(settlements: SendSettlement[]): void {
    this.ledger.settle(settlements).catch((err: unknown) => this.failures.record('the record of sends did not take a seq', { err }));
  }

  private count(outcome: DedupeOutcome): void {
    this.opts.onOutcome?.(outcome);
  }
}

function settlementOf(m: NewMessage, a: Accepted): SendSettlement {
  return { from: m.from, cid: m.cid, id: a.id, ts: a.ts, seq: a.seq };
}
