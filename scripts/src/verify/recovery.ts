/**
 * How long a fault held up acks, from the sends around it: a send is delayed when its ack took
 * longer than PROMPT_MS (or never came). Looked at are the sends made from just before the fault
 * (one in flight when it hit is held up by it too) until just before the next fault or the end of
 * sending (one made later is the next fault's).
 */
import type { SendRecord } from './records.ts';

/** An ack slower than this counts as held up. */
export const PROMPT_MS = 1000;

export interface AckRecovery {
  /** Sends held up (acked late, or not acked at all). */
  delayed: number;
  /** From the fault until the last held-up send was made: every later one was acked promptly. */
  promptAfterMs?: number;
  /** From the fault until the last held-up send was acked; absent when one never was. */
  backlogAckedAfterMs?: number;
}

/** `sends` in send order; times in ms since the run started. */
export function ackRecovery(sends: Iterable<SendRecord>, faultAt: number, until: number): AckRecovery {
  let delayed = 0;
  let lastSent = -Infinity;
  let lastAcked = -Infinity;
  let neverAcked = false;
  for (const r of sends) {
    if (r.sentAt < faultAt - PROMPT_MS || r.sentAt >= until - PROMPT_MS || r.refused) continue;
    if (r.ackedAt !== undefined && r.ackedAt - r.sentAt <= PROMPT_MS) continue;
    delayed++;
    lastSent = Math.max(lastSent, r.sentAt);
    if (r.ackedAt === undefined) neverAcked = true;
    else lastAcked = Math.max(lastAcked, r.ackedAt);
  }
  if (delayed === 0) return { delayed };
  return {
    delayed,
    promptAfterMs: Math.max(0, lastSent - faultAt),
    ...(!neverAcked && { backlogAckedAfterMs: lastAcked - faultAt }),
  };
}
