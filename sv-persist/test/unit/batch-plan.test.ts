import assert from 'node:assert/strict';
import { planBatch, resultsInOrder } from '../../src/batch-plan.ts';
import type { NewMessage } from '@chat/shared/types';

const m = (id: string, from: string, cid: string): NewMessage => ({ id, from, to: 'z', cid, body: 'b', ts: 1 });

describe('batch plan', () => {
  it('keeps the first occurrence of each (from, cid) and maps every position to it', () => {
    const plan = planBatch([m('1', 'a', 'x'), m('2', 'b', 'x'), m('3', 'a', 'x'), m('4', 'a', 'y')]);
    assert.deepEqual(plan.unique.map((u) => u.id), ['1', '2', '4']);
    assert.deepEqual(plan.slot, [0, 1, 0, 2]);
  });

  it('marks repeats within the batch and rows found already stored as duplicates', () => {
    const plan = planBatch([m('1', 'a', 'x'), m('2', 'a', 'y'), m('3', 'a', 'x')]);
    const out = resultsInOrder(plan, [
      { id: '1', seq: 10, ts: 5, fresh: true },
      { id: 'old', seq: 3, ts: 1, fresh: false },
    ]);
    assert.deepEqual(out, [
      { id: '1', seq: 10, ts: 5, duplicate: false },
      { id: 'old', seq: 3, ts: 1, duplicate: true },
      { id: '1', seq: 10, ts: 5, duplicate: true },
    ]);
  });

  it('refuses results that miss a message', () => {
    assert.throws(() => resultsInOrder(planBatch([m('1', 'a', 'x')]), []));
  });
});
