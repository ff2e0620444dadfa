/** The read-mark logic of a request: one row per reader and peer, and which mark moved. */
import assert from 'node:assert/strict';
import { movedMarks, planMarks } from '../../src/read-marks.ts';

const mark = (reader: string, peer: string, seq: number) => ({ reader, peer, seq });

describe('read marks: planning a request', () => {
  it('keeps the highest seq per reader and peer, the first mark holding it standing for the row', () => {
    const marks = [mark('bob', 'alice', 3), mark('alice', 'bob', 5), mark('alice', 'bob', 9), mark('alice', 'bob', 9), mark('alice', 'bob', 7)];
    const plan = planMarks(marks);
    assert.deepEqual(plan.rows, [mark('alice', 'bob', 9), mark('bob', 'alice', 3)], 'in key order');
    assert.deepEqual(plan.from, [2, 0]);
  });

  it('leaves out marks of seq 0: every mark starts there', () => {
    const plan = planMarks([mark('alice', 'bob', 0), mark('carol', 'bob', 0), mark('carol', 'bob', 1)]);
    assert.deepEqual(plan.rows, [mark('carol', 'bob', 1)]);
  });

  it('tells each mark whether it moved: only the one standing for a row the statement moved', () => {
    const marks = [mark('alice', 'bob', 5), mark('alice', 'bob', 9), mark('carol', 'bob', 2), mark('alice', 'bob', 9), mark('dave', 'bob', 0)];
    const plan = planMarks(marks);
    assert.deepEqual(movedMarks(marks, plan, new Set(['alice\nbob'])), [false, true, false, false, false]);
    assert.deepEqual(movedMarks(marks, plan, new Set(['alice\nbob', 'carol\nbob'])), [false, true, true, false, false]);
    assert.deepEqual(movedMarks(marks, plan, new Set()), [false, false, false, false, false]);
  });
});
