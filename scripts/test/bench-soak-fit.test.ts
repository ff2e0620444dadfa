/** The soak's pure arithmetic: the least-squares slope and the per-minute buckets. */
import { strict as assert } from 'node:assert';
import { byMinute } from '../src/bench/minute-buckets.ts';
import { leastSquaresSlope } from '../src/bench/slope.ts';

describe('least-squares slope', () => {
  it('is the slope of points on a line', () => {
    assert.equal(leastSquaresSlope([[0, 10], [1, 12], [2, 14], [3, 16]]), 2);
    assert.equal(leastSquaresSlope([[10, 5], [20, 5], [30, 5]]), 0);
    assert.equal(leastSquaresSlope([[0, 9], [2, 5]]), -2);
  });

  it('fits through noise: the sawtooth of a collected heap has no slope', () => {
    const saw: [number, number][] = Array.from({ length: 40 }, (_, x) => [x, 100 + (x % 4) * 3]);
    assert.ok(Math.abs(leastSquaresSlope(saw)!) < 0.05, String(leastSquaresSlope(saw)));
    assert.equal(leastSquaresSlope([[0, 1], [1, 3], [2, 2], [3, 4]]), 0.8);
  });

  it('gives no slope for fewer than two points or a single x', () => {
    assert.equal(leastSquaresSlope([]), null);
    assert.equal(leastSquaresSlope([[1, 1]]), null);
    assert.equal(leastSquaresSlope([[1, 1], [1, 5], [1, 9]]), null);
  });
});

describe('per-minute buckets', () => {
  const at = (ms: number) => ms;

  it('puts each item in the minute it falls in, one bucket per started minute', () => {
    assert.deepEqual(byMinute([0, 59_999, 60_000, 119_999, 120_000, 150_000], at, 180_000), [[0, 59_999], [60_000, 119_999], [120_000, 150_000]]);
    assert.deepEqual(byMinute([10_000, 80_000], at, 90_000), [[10_000], [80_000]]);
  });

  it('leaves out items before the start and puts items after the end in the last minute', () => {
    assert.deepEqual(byMinute([-1, -60_000, 5_000, 180_000, 400_000], at, 120_000), [[5_000], [180_000, 400_000]]);
  });

  it('keeps empty minutes, and one bucket for a window under a minute', () => {
    assert.deepEqual(byMinute([130_000], at, 180_000), [[], [], [130_000]]);
    assert.deepEqual(byMinute([], at, 180_000), [[], [], []]);
    assert.deepEqual(byMinute([3_000, 70_000], at, 20_000), [[3_000, 70_000]]);
  });

  it('skips an item whose time is not a number', () => {
    assert.deepEqual(byMinute([Number.NaN, 1_000], at, 60_000), [[1_000]]);
  });
});
