/**
 * The offered load and the wait after it. Open loop: sends go out on a fixed schedule, round-robin
 * over the senders, whether or not earlier ones were acked, as real users keep typing through an
 * outage; the client library queues what it cannot send yet. Then the drain: time for the
 * backlog to be acked and for deliveries to arrive before anything is checked.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Participant } from './participants.ts';
import { sendKey, type Recorder } from './records.ts';

const TICK_MS = 10;
/**
 * Deliveries are settled when no new one arrived for this long: longer than a node keeps retrying
 * a forward that did not get through (FORWARD_RETRY_MS, 10 s by default), so a delivery that comes
 * late, but live, is not counted as missed.
 */
const QUIET_MS = 12_000;
const POLL_MS = 200;

/** Sending goes on this long after `until` settled, so the last fault's recovery happens under load. */
const TAIL_MS = 3000;

/**
 * Send `rate` messages per second for `seconds`, and on while `until` has not settled (and
 * TAIL_MS after); resolves after the last send was handed over.
 */
export function offerLoad(senders: readonly Participant[], rate: number, seconds: number, until: Promise<unknown>): Promise<void> {
  const start = performance.now();
  let end = start + seconds * 1000;
  let settled = false;
  void until.finally(() => {
    settled = true;
    end = Math.max(end, performance.now() + TAIL_MS);
  });
  let sent = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = Math.min(performance.now(), end);
      const due = Math.floor(((now - start) / 1000) * rate);
      while (sent < due) senders[sent++ % senders.length]!.send();
      if (settled && now >= end) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
}

/**
 * Wait, at most `timeoutMs`, until every send is acked or refused, every client is connected, and
 * every acked message has reached its recipient (live or by catch-up) or no delivery came for a while.
 */
export async function drain(recorder: Recorder, participants: readonly Participant[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (recorder.unacked().length > 0 || participants.some((p) => !p.online))) await sleep(POLL_MS);
  let seen = recorder.passed.size;
  let quietSince = Date.now();
  while (Date.now() < deadline && Date.now() - quietSince < QUIET_MS) {
    if (recorder.acks().every((r) => recorder.passed.has(sendKey(r.from, r.cid)))) return;
    await sleep(POLL_MS);
    if (recorder.passed.size !== seen) {
      seen = recorder.passed.size;
      quietSince = Date.now();
    }
  }
}
