/**
 * The record of sends as seen from a node: sv-discover's sends stream (one signed WebSocket per
 * sv-discover instance, shared/src/request-stream.ts), failing over across the instances like
 * HttpRegistry. Claims are batched, up to `inFlight` requests at once: the write order does not
 * depend on the order of answers (ClaimingLog writes in call order), and a claim arriving while a
 * request is on its way leaves at once instead of waiting for that answer. Settlements are not
 * urgent (until one lands, a repeat is resolved from the store instead), so they wait up to
 * `settleLingerMs` to ride on a request of claims, and go alone only when no claim comes.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import { Failover } from '@chat/shared/failover';
import { ROUTES, type SendsReply, type SendsRequest } from '@chat/shared/internal-api';
import { RequestStreamClient } from '@chat/shared/request-stream';
import type { SendClaim, SendLedger, SendRecord, SendSettlement } from '@chat/shared/send-ledger';

export interface SendLedgerClientOptions {
  /** The cluster secret the streams' upgrades prove. */
  secret: string;
  /** Deadline for each answer (the claims' own deadline is ClaimingLog's). @default 5000 */
  timeoutMs?: number;
  /** Longest a settlement waits for claims to go with. @default 20 */
  settleLingerMs?: number;
  /** Most claims per request. @default 1000 */
  maxBatch?: number;
  /** Most claims waiting; past it a claim is refused at once. @default 20000 */
  maxQueue?: number;
  /** Requests in flight at once. @default 4 */
  inFlight?: number;
}

/** Pushed when settlements waited their linger with no claim to carry them. */
const FLUSH = Symbol('flush settlements');

interface PendingSettlement {
  settlement: SendSettlement;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class SendLedgerClient implements SendLedger {
  private readonly targets: Failover;
  private readonly streams = new Map<string, RequestStreamClient<SendsRequest, SendsReply>>();
  private readonly batcher: NaturalBatcher<SendClaim | typeof FLUSH, SendRecord | null>;
  private readonly settleLingerMs: number;
  private settling: PendingSettlement[] = [];
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(discoverUrls: readonly string[], opts: SendLedgerClientOptions) {
    this.targets = new Failover(discoverUrls);
    for (const baseUrl of discoverUrls) {
      this.streams.set(baseUrl, new RequestStreamClient({
        baseUrl, path: ROUTES.discoverSendsStream, secret: opts.secret, name: 'the sends stream', peer: 'sv-discover', timeoutMs: opts.timeoutMs,
      }));
    }
    this.settleLingerMs = opts.settleLingerMs ?? 20;
    this.batcher = new NaturalBatcher({
      name: 'record of sends',
      maxBatch: opts.maxBatch ?? 1000,
      maxQueue: opts.maxQueue ?? 20_000,
      concurrency: opts.inFlight ?? 4,
      gatherTurn: true,
      run: (items) => this.send(items),
    });
  }

  claim(claims: readonly SendClaim[]): Promise<(SendRecord | null)[]> {
    return Promise.all(claims.map((c) => this.batcher.push(c)));
  }

  settle(settlements: readonly SendSettlement[]): Promise<void> {
    if (settlements.length === 0) return Promise.resolve();
    const landed = Promise.all(settlements.map((settlement) => new Promise<void>((resolve, reject) => {
      this.settling.push({ settlement, resolve, reject });
    })));
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = undefined;
      if (this.settling.length > 0) this.batcher.push(FLUSH).catch(() => {}); // its settlements report the outcome
    }, this.settleLingerMs).unref();
    return landed.then(() => {});
  }

  /** Sends what is waiting, then closes the streams. */
  async close(): Promise<void> {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.settling.length > 0) await this.batcher.push(FLUSH).catch(() => {});
    await this.batcher.idle();
    for (const stream of this.streams.values()) stream.close();
  }

  private async send(items: (SendClaim | typeof FLUSH)[]): Promise<(SendRecord | null)[]> {
    const claims = items.filter((i): i is SendClaim => i !== FLUSH);
    const settling = this.settling;
    this.settling = [];
    if (claims.length === 0 && settling.length === 0) return items.map(() => null); // an earlier request took them
    try {
      const request = { settle: settling.map((p) => p.settlement), claim: claims };
      const { records } = await this.targets.run((base) => this.streams.get(base)!.request(request));
      if (records.length !== claims.length) throw new Error(`sv-discover answered ${records.length} records for ${claims.length} claims`);
      for (const p of settling) p.resolve();
      let next = 0;
      return items.map((i) => (i === FLUSH ? null : records[next++]!));
    } catch (err) {
      for (const p of settling) p.reject(err);
      throw err;
    }
  }
}
