/** What a verify run found, as printed and as written with --json, and what makes it fail. */
import type { AckRecovery } from './recovery.ts';
import { FAILING, type CheckResult, type Counts } from './check.ts';
import type { FaultResult } from './faults.ts';
import type { SendRecord } from './records.ts';

export interface FaultReport extends FaultResult {
  acks?: AckRecovery;
  /** Messages acked from just before the fault until the next one that were missed live. */
  missedLive?: number;
}

export interface VerifyResult {
  /** What was verified, e.g. "3 local nodes, direct mode". */
  target: string;
  users: number;
  rate: number;
  /** How long the load ran: the seconds asked for, or longer when the faults needed it. */
  seconds: number;
  plannedSeconds: number;
  counts: Counts;
  examples: CheckResult['examples'];
  faults: FaultReport[];
  /** Send to ack, ms (time queued in the client during an outage included). */
  ackLatencyMs: { p50: number; p99: number; max: number } | undefined;
  /** `error` answers to sends, by code. */
  errorAnswers: Record<string, number>;
  /** Why the run failed; empty when it passed. */
  failures: string[];
}

const RULES: Record<(typeof FAILING)[number], string> = {
  lost: 'acked messages lost',
  duplicated: 'duplicated history rows',
  outOfOrder: 'order violations',
  mismatched: 'acks that disagree with what is stored',
  unknown: 'history rows nobody sent',
};

export function failuresOf(counts: Counts, faults: readonly FaultResult[], failOnMissedLive: boolean): string[] {
  const failures = FAILING.filter((name) => counts[name] > 0).map((name) => `${counts[name]} ${RULES[name]}`);
  if (failOnMissedLive && counts.missedLive > 0) failures.push(`${counts.missedLive} messages missed live (--fail-on-missed-live)`);
  for (const f of faults) if (f.at !== undefined && f.readyAt === undefined) failures.push(`${f.target} did not recover from "${f.what}": ${f.problem}`);
  if (counts.acked === 0) failures.push('nothing was acked');
  return failures;
}

export function ackLatency(acked: readonly SendRecord[]): VerifyResult['ackLatencyMs'] {
  const ms = acked.map((r) => r.ackedAt! - r.sentAt).sort((a, b) => a - b);
  if (ms.length === 0) return undefined;
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: ms[ms.length - 1]! };
}
