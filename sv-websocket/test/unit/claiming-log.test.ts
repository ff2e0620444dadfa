/**
 * ClaimingLog: every decision of the shared record of sends, on a real MemorySendLedger shared by
 * two "nodes", a scripted log and a store the test fills.
 */
import assert from 'node:assert/strict';
import type { SendClaim, SendLedger, SendRecord, SendSettlement } from '@chat/shared/send-ledger';
import { eventually } from '@chat/shared/testing/eventually';
import { dedupeKey, type NewMessage } from '@chat/shared/types';
import { MemorySendLedger } from '../../../sv-discover/src/send-ledger-memory.ts';
import { ClaimingLog, type DedupeOutcome } from '../../src/claiming-log.ts';
import type { SendKey, StoredSend, StoredSends } from '../../src/stored-sends.ts';
import { ScriptedLog } from '../helpers/scripted-log.ts';

/** The store as the test says it is. */
class FakeStore implements StoredSends {
  readonly rows = new Map<string, StoredSend>();
  lookups = 0;
  async find(key: SendKey): Promise<StoredSend | null> {
    this.lookups++;
    return this.rows.get(dedupeKey(key.from, key.cid)) ?? null;
  }
}

/** Counts what the log routes to its FailureLog (whose once-per-interval lines have their own test). */
class CountingFailures {
  readonly kinds: string[] = [];
  record(kind: string): void {
    this.kinds.push(kind);
  }
}

/** A ledger whose claims the test answers (or fails) by hand, one call at a time. */
class ScriptedLedger implements SendLedger {
  readonly calls: { claims: readonly SendClaim[]; resolve: (r: (SendRecord | null)[]) => void; reject: (e: unknown) => void }[] = [];
  settled: SendSettlement[] = [];
  claim(claims: readonly SendClaim[]): Promise<(SendRecord | null)[]> {
    return new Promise((resolve, reject) => this.calls.push({ claims, resolve, reject }));
  }
  async settle(s: readonly SendSettlement[]): Promise<void> {
    this.settled.push(...s);
  }
  async close(): Promise<void> {}
}

let n = 0;
const msg = (cid: string, from = 'alice'): NewMessage => ({ id: `id-${++n}`, from, to: 'bob', cid, body: 'hi', ts: 1000 + n });

function node(ledger: SendLedger, store = new FakeStore(), opts: { claimTimeoutMs?: number; storeWaitMs?: number } = {}) {
  const log = new ScriptedLog(true);
  const failures = new CountingFailures();
  const outcomes: DedupeOutcome[] = [];
  const claiming = new ClaimingLog(log, ledger, store, failures, { storePollMs: 5, storeWaitMs: 200, ...opts, onOutcome: (o) => outcomes.push(o) });
  return { log, store, failures, outcomes, claiming };
}

/** Lets fire-and-forget settlements reach the ledger. */
const settled = () => new Promise((r) => setImmediate(r));

describe('ClaimingLog', () => {
  it('writes a new message, acks the log\'s answer, and another node then acks the repeat alike without writing', async () => {
    const ledger = new MemorySendLedger({ ttlMs: 60_000, maxEntries: 100 });
    const [a, b] = [node(ledger), node(ledger)];
    const [first] = await a.claiming.append([msg('c1')]);
    await settled();
    const [repeat] = await b.claiming.append([msg('c1')]);
    assert.equal(first!.duplicate, false);
    assert.deepEqual(repeat, { ...first, duplicate: true });
    assert.deepEqual([a.log.calls.length, b.log.calls.length], [1, 0]);
    assert.deepEqual([a.outcomes, b.outcomes], [['new'], ['repeat']]);
  });

  it('answers a claim without seq from the store, and points the record at what is stored', async () => {
    const ledger = new MemorySendLedger({ ttlMs: 60_000, maxEntries: 100 });
    const claimant = msg('c1');
    await ledger.claim([claimant]); // its node died before settling
    // Persisted a little later: after the first look finds nothing. The wait is long enough never to
    // run out, whatever the machine's load.
    const store = new FakeStore();
    const b = node(ledger, store, { storeWaitMs: 60_000 });
    const stored = { id: claimant.id, seq: 77, ts: claimant.ts };
    const find = store.find.bind(store);
    store.find = async (key) => {
      const found = await find(key);
      store.rows.set(dedupeKey('alice', 'c1'), stored);
      return found;
    };
    const [ack] = await b.claiming.append([msg('c1')]);
    assert.deepEqual(ack, { ...stored, duplicate: true });
    assert.ok(store.lookups >= 2, 'it looked again after finding nothing');
    assert.equal(b.log.calls.length, 0, 'nothing written again');
    await settled();
    assert.deepEqual(await ledger.claim([msg('c1')]), [{ ...stored }]);
    assert.deepEqual(b.outcomes, ['stored']);
  });

  it('writes a claim the store never shows under the claimed id and ts, as a new message', async () => {
    const ledger = new MemorySendLedger({ ttlMs: 60_000, maxEntries: 100 });
    const claimant = msg('c1');
    await ledger.claim([claimant]);
    const b = node(ledger);
    const [ack] = await b.claiming.append([msg('c1')]);
    assert.deepEqual(ack, { id: claimant.id, seq: 1, ts: claimant.ts, duplicate: false });
    assert.deepEqual(b.log.calls.map((c) => c.map((m) => m.id)), [[claimant.id]]);
    assert.ok(b.store.lookups >= 2, 'the store was asked until the wait ran out');
    await settled();
    assert.deepEqual(await ledger.claim([msg('c1')]), [{ id: claimant.id, ts: claimant.ts, seq: 1 }]);
    assert.deepEqual(b.outcomes, ['rewritten']);
  });

  it('writes on its own record when the ledger fails or does not answer in time, and says so', async () => {
    const failing: SendLedger = { claim: () => Promise.reject(new Error('sv-discover down')), settle: () => Promise.reject(new Error('down')), close: async () => {} };
    const a = node(failing);
    const [first] = await a.claiming.append([msg('c1')]);
    assert.equal(first!.duplicate, false);
    const hanging = new ScriptedLedger();
    const b = node(hanging, new FakeStore(), { claimTimeoutMs: 20 });
    const [late] = await b.claiming.append([msg('c2')]);
    assert.equal(late!.duplicate, false);
    assert.deepEqual([a.outcomes, b.outcomes], [['fallback'], ['fallback']]);
    await settled();
    assert.ok(a.failures.kinds.length >= 2 && b.failures.kinds.length === 1, `${a.failures.kinds} / ${b.failures.kinds}`);
    assert.deepEqual(hanging.settled.map((s) => s.cid), ['c2'], 'the seq is still offered to the record');
  });

  it('writes in the order append was called, whatever order the claims are answered in', async () => {
    const ledger = new ScriptedLedger();
    const a = node(ledger);
    const first = a.claiming.append([msg('c1'), msg('c2')]);
    const second = a.claiming.append([msg('c3')]);
    ledger.calls[1]!.resolve([null]);
    await settled();
    assert.equal(a.log.calls.length, 0, 'the later append waits for the earlier one');
    ledger.calls[0]!.resolve([null, null]);
    await Promise.all([first, second]);
    assert.deepEqual(a.log.calls.map((c) => c.map((m) => m.cid)), [['c1', 'c2'], ['c3']]);
  });

  it('answers a record with its seq even when other messages of the call are written', async () => {
    const ledger = new MemorySendLedger({ ttlMs: 60_000, maxEntries: 100 });
    const old = msg('old');
    await ledger.claim([old]);
    await ledger.settle([{ ...old, seq: 5 }]);
    const a = node(ledger);
    const results = await a.claiming.append([msg('fresh'), msg('old')]);
    assert.deepEqual(results.map((r) => r.duplicate), [false, true]);
    assert.deepEqual(results[1], { id: old.id, seq: 5, ts: old.ts, duplicate: true });
    assert.deepEqual(a.log.calls.map((c) => c.map((m) => m.cid)), [['fresh']]);
  });

  it('rejects when the write fails and keeps the claim; a retry here looks at the store once, then writes as claimed', async () => {
    const ledger = new MemorySendLedger({ ttlMs: 60_000, maxEntries: 100 });
    const log = new ScriptedLog();
    const store = new FakeStore();
    const claiming = new ClaimingLog(log, ledger, store, new CountingFailures(), { storePollMs: 5, storeWaitMs: 60_000 });
    const original = msg('c1');
    const attempt = claiming.append([original]);
    await settled();
    log.fail();
    await assert.rejects(attempt, /down/);
    const retry = claiming.append([msg('c1')]);
    await eventually('the retry is written', () => log.calls.length === 2);
    log.succeed();
    assert.deepEqual(await retry, [{ id: original.id, seq: 1, ts: original.ts, duplicate: false }]);
    assert.equal(store.lookups, 1, 'no wait for the store: its own write is known to have failed');
    // Had the failed write landed after all, the one look finds it.
    const other = msg('c2');
    const second = claiming.append([other]);
    await settled();
    log.fail();
    await assert.rejects(second);
    store.rows.set(dedupeKey('alice', 'c2'), { id: other.id, seq: 9, ts: other.ts });
    assert.deepEqual(await claiming.append([msg('c2')]), [{ id: other.id, seq: 9, ts: other.ts, duplicate: true }]);
  });

  it('closes after the decisions under way, then the log and the ledger', async () => {
    const ledger = new ScriptedLedger();
    const a = node(ledger);
    const pending = a.claiming.append([msg('c1')]);
    const closing = a.claiming.close();
    assert.equal(a.log.closed, false);
    ledger.calls[0]!.resolve([null]);
    await Promise.all([pending, closing]);
    assert.deepEqual([a.log.calls.length, a.log.closed], [1, true]);
  });
});
