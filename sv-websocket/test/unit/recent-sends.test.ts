/** RecentSendsLog: repeats of (sender, cid) answered from memory, bounded by count and age. */
import assert from 'node:assert/strict';
import { errorAnswer } from '@chat/shared/errors';
import type { NewMessage } from '@chat/shared/types';
import { RecentSendsLog } from '../../src/recent-sends.ts';
import { ScriptedLog } from '../helpers/scripted-log.ts';

let n = 0;
const msg = (from: string, cid: string): NewMessage => ({ id: `id-${++n}`, from, to: 'bob', cid, body: 'hi', ts: 1000 + n });

/** A RecentSendsLog over a log the test answers by hand. */
function scripted(opts?: ConstructorParameters<typeof RecentSendsLog>[1]) {
  const inner = new ScriptedLog();
  return { inner, log: new RecentSendsLog(inner, opts) };
}

describe('RecentSendsLog', () => {
  it('answers a repeated (sender, cid) with the original id, seq and ts, marked duplicate, without a second append', async () => {
    const { inner, log } = scripted();
    const first = log.append([msg('alice', 'c1')]);
    inner.succeed();
    const [a] = await first;
    const [b] = await log.append([msg('alice', 'c1')]);
    assert.deepEqual(a, { id: a!.id, seq: 1, ts: a!.ts, duplicate: false });
    assert.deepEqual(b, { ...a, duplicate: true });
    assert.equal(inner.calls.length, 1);
  });

  it('makes a repeat that arrives while the first is in flight wait for that same append', async () => {
    const { inner, log } = scripted();
    const first = log.append([msg('alice', 'c1')]);
    const repeat = log.append([msg('alice', 'c1')]);
    assert.equal(inner.calls.length, 1);
    inner.succeed();
    const [[a], [b]] = await Promise.all([first, repeat]);
    assert.equal(a!.duplicate, false);
    assert.deepEqual(b, { ...a, duplicate: true });
  });

  it('appends the first of a repeat inside one call once, and keeps results in input order', async () => {
    const { inner, log } = scripted();
    const warm = log.append([msg('alice', 'known')]);
    inner.succeed();
    const [known] = await warm;
    const batch = [msg('alice', 'x'), msg('alice', 'known'), msg('carol', 'x'), msg('alice', 'x')];
    const pending = log.append(batch);
    inner.succeed();
    const got = await pending;
    assert.deepEqual(inner.calls[1]!.map((m) => [m.from, m.cid]), [['alice', 'x'], ['carol', 'x']]);
    assert.deepEqual(got.map((a) => [a.id, a.duplicate]), [
      [batch[0]!.id, false],
      [known!.id, true],
      [batch[2]!.id, false],
      [batch[0]!.id, true],
    ]);
  });

  it('forgets a failed append, so the repeat (and one waiting on it) fails and the retry produces', async () => {
    const { inner, log } = scripted();
    const first = log.append([msg('alice', 'c1')]);
    const waiting = log.append([msg('alice', 'c1')]);
    inner.fail();
    await assert.rejects(first, (err) => errorAnswer(err).code === 'unavailable');
    await assert.rejects(waiting, (err) => errorAnswer(err).code === 'unavailable');
    assert.equal(log.size, 0);
    const retry = log.append([msg('alice', 'c1')]);
    assert.equal(inner.calls.length, 2);
    inner.succeed();
    const [a] = await retry;
    assert.equal(a!.duplicate, false);
  });

  it('forgets appends older than ttlMs', async () => {
    let now = 0;
    const inner = new ScriptedLog();
    const log = new RecentSendsLog(inner, { ttlMs: 1000, now: () => now });
    const first = log.append([msg('alice', 'c1')]);
    inner.succeed();
    await first;
    now = 999;
    const [repeat] = await log.append([msg('alice', 'c1')]);
    assert.equal(repeat!.duplicate, true);
    now = 1000;
    const late = log.append([msg('alice', 'c1')]);
    assert.equal(inner.calls.length, 2);
    inner.succeed();
    assert.equal((await late)[0]!.duplicate, false);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const inner = new ScriptedLog();
    const log = new RecentSendsLog(inner, { maxEntries: 2 });
    for (const cid of ['a', 'b', 'c']) {
      const p = log.append([msg('alice', cid)]);
      inner.succeed();
      await p;
    }
    assert.equal(log.size, 2);
    const kept = log.append([msg('alice', 'c')]);
    assert.equal(inner.calls.length, 3);
    assert.equal((await kept)[0]!.duplicate, true);
    const dropped = log.append([msg('alice', 'a')]);
    assert.equal(inner.calls.length, 4);
    inner.succeed();
    assert.equal((await dropped)[0]!.duplicate, false);
  });
});
