/**
 * Pure bookkeeping around one insert batch: (from, cid) repeated within the batch is inserted once,
 * and every input position gets its result back from the first occurrence's.
 */
import { dedupeKey, type Accepted, type NewMessage } from '@chat/shared/types';

export interface BatchPlan {
  /** First occurrence of each (from, cid), in input order. */
  unique: NewMessage[];
  /** For each input position, the index in `unique` of its (from, cid). */
  slot: number[];
}

/** What the database reported for one unique message. */
export interface StoredResult {
  id: string;
  seq: number;
  ts: number;
  /** True when the row was inserted by this batch (not found already stored). */
  fresh: boolean;
  /** The stored body, when the row was looked up (found already stored). */
  body?: string;
}

export function planBatch(msgs: readonly NewMessage[]): BatchPlan {
  const seen = new Map<string, number>();
  const unique: NewMessage[] = [];
  const slot: number[] = [];
  for (const m of msgs) {
    const key = dedupeKey(m.from, m.cid);
    let i = seen.get(key);
    if (i === undefined) {
      i = unique.length;
      seen.set(key, i);
      unique.push(m);
    }
    slot.push(i);
  }
  return { unique, slot };
}

/** Results in input order: only the first occurrence of a freshly inserted row is not a duplicate. */
export function resultsInOrder(plan: BatchPlan, stored: readonly StoredResult[]): Accepted[] {
  const used = new Set<number>();
  return plan.slot.map((i) => {
    const r = stored[i];
    if (!r) throw new Error(`no stored row for batch position ${i}`);
    const first = !used.has(i);
    used.add(i);
    const duplicate = !(r.fresh && first);
    return duplicate && r.body !== undefined ? { id: r.id, seq: r.seq, ts: r.ts, duplicate, body: r.body } : { id: r.id, seq: r.seq, ts: r.ts, duplicate };
  });
}
