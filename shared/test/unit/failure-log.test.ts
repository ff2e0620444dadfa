import assert from 'node:assert/strict';
import { FailureLog } from '../../src/failure-log.ts';
import { recordingLogger } from '../../testing/recording-logger.ts';

describe('FailureLog', () => {
  it('logs the first failure of a kind at once, with its error, and counts the rest of the interval in one line', () => {
    const { lines, logger } = recordingLogger();
    let now = 1_000;
    const failures = new FailureLog(logger, { intervalMs: 10_000, now: () => now });
    for (let i = 0; i < 5_000; i++) failures.record('send not accepted', { err: new Error(`down ${i}`) });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.msg, 'send not accepted');
    assert.equal((lines[0]!.err as { message: string }).message, 'down 0');
    now += 9_999;
    failures.flush();
    assert.equal(lines.length, 1, 'the interval has not ended');
    now += 1;
    failures.flush();
    assert.equal(lines.length, 2);
    assert.equal(lines[1]!.count, 4_999);
    assert.equal(lines[1]!.lastReason, 'down 4999');
    failures.close();
  });

  it('keeps kinds apart, and a failure after a quiet interval is logged at once again', () => {
    const { lines, logger } = recordingLogger();
    let now = 0;
    const failures = new FailureLog(logger, { intervalMs: 1_000, now: () => now });
    failures.record('forward failed', { node: 'a' });
    failures.record('history failed');
    failures.record('forward failed', { node: 'a' });
    assert.deepEqual(lines.map((l) => l.msg), ['forward failed', 'history failed']);
    now = 5_000;
    failures.record('forward failed', { node: 'b' });
    // The earlier interval's one suppressed failure is reported before the new first one.
    assert.deepEqual(lines.slice(2).map((l) => [l.msg, l.count, l.node]), [
      ['forward failed (1 more in the interval)', 1, 'a'],
      ['forward failed', undefined, 'b'],
    ]);
    failures.close();
    assert.equal(lines.length, 4, 'nothing suppressed was left to report');
  });
});
