/**
 * The verify check against made-up records and histories: every rule it enforces catches the
 * violation it names, and a clean history passes. (The CI run of verify only ever shows zeros,
 * which a check that caught nothing would show too.)
 */
import { strict as assert } from 'node:assert';
import type { WireMessage } from '@chat/shared/protocol';
import { check } from '../src/verify/check.ts';
import type { Conversation } from '../src/verify/history.ts';
import { parseOptions, UsageError } from '../src/verify/options.ts';
import { Recorder } from '../src/verify/records.ts';
import { ackRecovery } from '../src/verify/recovery.ts';

const A = 'alice';
const B = 'bob';

function message(n: number, over: Partial<WireMessage> = {}): WireMessage {
  return { id: `id-${n}`, seq: n * 10, cid: `c-${n}`, from: A, to: B, body: `body ${n}`, ts: 1000 + n, ...over };
}

/** A recorder in which alice sent messages 1..n to bob, each acked as `message(i)` and delivered live. */
function sentAndAcked(n: number): Recorder {
  const r = new Recorder();
  for (let i = 1; i <= n; i++) {
    const m = message(i);
    r.sent(A, B, m.cid, m.body);
    r.acked(A, { type: 'ack', cid: m.cid, id: m.id, seq: m.seq, ts: m.ts }, true);
    r.liveMessage(B, m);
  }
  return r;
}

function history(...messages: WireMessage[]): Conversation[] {
  return [{ owner: A, peer: B, messages, pages: 1 }];
}

describe('verify: the check', () => {
  it('passes a history that holds every acked message once, in order, as acked', () => {
    const { counts } = check(sentAndAcked(3), history(message(1), message(2), message(3)));
    assert.deepEqual([counts.acked, counts.lost, counts.duplicated, counts.outOfOrder, counts.mismatched, counts.unknown, counts.missedLive], [3, 0, 0, 0, 0, 0, 0]);
  });

  it('counts an acked message missing from history as lost', () => {
    const { counts, examples } = check(sentAndAcked(3), history(message(1), message(3)));
    assert.equal(counts.lost, 1);
    assert.match(examples.lost![0]!, /cid c-2/);
  });

  it('counts a repeated id and a repeated (from, cid) as duplicated', () => {
    const { counts } = check(sentAndAcked(2), history(message(1), message(2), message(2, { seq: 30 }), message(2, { id: 'id-x', seq: 40 })));
    assert.equal(counts.duplicated, 2);
  });

  it('counts a seq that does not increase, and an acked seq history holds under another id, as out of order', () => {
    assert.equal(check(sentAndAcked(2), history(message(2), message(1))).counts.outOfOrder, 1);
    const r = sentAndAcked(2);
    r.sends.get(`${A}\nc-2`)!.ack!.seq = 10; // acked with seq 10, which history holds as id-1
    const { counts } = check(r, history(message(1), message(2)));
    assert.equal(counts.outOfOrder, 1);
    assert.equal(counts.mismatched, 1, 'and the stored copy has another seq than its ack');
  });

  it('counts a repeat acked under a new id as mismatched, not lost', () => {
    const r = sentAndAcked(1);
    r.sends.get(`${A}\nc-1`)!.ack!.id = 'id-new';
    const { counts } = check(r, history(message(1)));
    assert.deepEqual([counts.lost, counts.mismatched], [0, 1]);
  });

  it('counts two acks of one cid that disagree as mismatched', () => {
    const r = sentAndAcked(1);
    r.wireAck(A, { type: 'ack', cid: 'c-1', id: 'id-1', seq: 10, ts: 1001 });
    r.wireAck(A, { type: 'ack', cid: 'c-1', id: 'id-other', seq: 99, ts: 1001 });
    assert.equal(check(r, history(message(1))).counts.mismatched, 1);
  });

  it('counts a stored message nobody sent as unknown', () => {
    assert.equal(check(sentAndAcked(1), history(message(1), message(2))).counts.unknown, 1);
  });

  it('counts unacked sends, and those stored all the same', () => {
    const r = sentAndAcked(1);
    r.sent(A, B, 'c-2', 'body 2');
    r.sent(A, B, 'c-3', 'body 3');
    const { counts } = check(r, history(message(1), message(2)));
    assert.deepEqual([counts.unacked, counts.unackedStored, counts.lost], [2, 1, 0]);
  });

  it('counts an acked message never delivered live as missed live, apart from one acked while the recipient was away', () => {
    const r = new Recorder();
    for (const [i, online] of [[1, true], [2, false]] as const) {
      const m = message(i);
      r.sent(A, B, m.cid, m.body);
      r.acked(A, { type: 'ack', cid: m.cid, id: m.id, seq: m.seq, ts: m.ts }, online);
    }
    r.passedOn(B, message(1));
    const { counts } = check(r, history(message(1), message(2)));
    assert.deepEqual([counts.missedLive, counts.missedLiveCaughtUp, counts.recipientOffline], [1, 1, 1]);
  });
});

describe('verify: recovery after a fault', () => {
  const send = (sentAt: number, ackedAt?: number) => ({ from: A, to: B, cid: `c-${sentAt}`, body: 'b', sentAt, ...(ackedAt !== undefined && { ackedAt }) });

  it('finds when acks were prompt again and when the last held-up one came', () => {
    const sends = [send(900, 950), send(1000, 4000), send(2000, 4100), send(3000, 4200), send(4500, 4550), send(9500)];
    assert.deepEqual(ackRecovery(sends, 1000, 10_000), { delayed: 3, promptAfterMs: 2000, backlogAckedAfterMs: 3200 });
  });

  it('says so when no send was held up, and when one was never acked', () => {
    assert.deepEqual(ackRecovery([send(1000, 1100), send(2000, 2100)], 1000, 10_000), { delayed: 0 });
    assert.deepEqual(ackRecovery([send(1000, 1100), send(2000)], 1000, 10_000), { delayed: 1, promptAfterMs: 1000 });
  });
});

describe('verify: the command line', () => {
  it('refuses bad options with a message naming the option', () => {
    for (const [argv, pattern] of [
      [[], /either --nodes/],
      [['--local', '--nodes', 'ws://a'], /either --nodes/],
      [['--nodes', 'ftp://x'], /--nodes: ftp:\/\/x must start with/],
      [['--nodes', 'ws://a', '--kafka'], /--kafka goes with --local only/],
      [['--local', '--rate', '0'], /--rate: a number from 1/],
      [['--local', '--users', '3'], /--users: an even number/],
      [['--local', '--faults', 'node-kill,reboot'], /unknown fault "reboot"/],
      [['--local', '--bogus'], /bogus/],
    ] as const) {
      assert.throws(() => parseOptions(argv), (err: Error) => err instanceof UsageError && pattern.test(err.message), argv.join(' '));
    }
  });

  it('defaults to one pair of users per 40 msgs/s and every fault with --local', () => {
    const o = parseOptions(['--local', '--rate', '300']);
    assert.deepEqual([o.users, o.seconds, o.faults], [16, 60, ['node-kill', 'node-stop', 'persist-kill', 'discover-kill']]);
    assert.deepEqual(parseOptions(['--local', '--faults', 'none']).faults, []);
  });
});
