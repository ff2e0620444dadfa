/** The printed report: the faults and their recovery, a table of the counts, a verdict. */
import { PROMPT_MS } from './recovery.ts';
import type { CountName } from './check.ts';
import type { VerifyResult } from './result.ts';

/** Columns padded to their widest cell. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function faultTable(r: VerifyResult): string {
  const rows = [['fault', 'at', 'sends held up', 'acks prompt again', 'backlog acked', 'ready again', 'missed live']];
  for (const f of r.faults) {
    if (f.at === undefined) {
      rows.push([f.what, '–', '–', '–', '–', f.problem ?? '', '–']);
      continue;
    }
    const a = f.acks;
    const prompt = a?.promptAfterMs === undefined ? '–' : seconds(a.promptAfterMs);
    const backlog = !a || a.delayed === 0 ? '–' : a.backlogAckedAfterMs === undefined ? 'never' : seconds(a.backlogAckedAfterMs);
    const ready = f.readyAt === undefined ? `NOT READY: ${f.problem}` : seconds(f.readyAt - f.at);
    rows.push([f.what, seconds(f.at), String(a?.delayed ?? 0), prompt, backlog, ready, String(f.missedLive ?? 0)]);
  }
  return `${table(rows)}\n(times from the fault: until every send is acked within ${PROMPT_MS / 1000} s again, until the last one held up is\n` +
    'acked, until the service answers /readyz; missed live: of the messages acked from then until the next fault)';
}

/** [label, count, what it counts, whether it can fail the run] */
const ROWS: [string, CountName, string, boolean][] = [
  ['sent', 'sent', 'distinct (sender, cid)', false],
  ['acked', 'acked', '', false],
  ['lost', 'lost', 'acked, and neither its id nor its (sender, cid) in history', true],
  ['duplicated', 'duplicated', 'history rows repeating an id or a (sender, cid)', true],
  ['out of order', 'outOfOrder', 'seq not above the one before in a conversation, or an acked seq history holds under another id', true],
  ['mismatched', 'mismatched', 'acked, stored under another id, seq or ts (or another body or recipient), or two acks of one cid disagree', true],
  ['unknown', 'unknown', 'in history, never sent by this run', true],
  ['still unacked', 'unacked', 'neither acked nor refused at the end', false],
  ['refused', 'refused', 'refused for good (retrying cannot help) or the client queue was full', false],
  ['missed live', 'missedLive', 'acked while the recipient was connected, never delivered to it live', false],
  ['recipient offline', 'recipientOffline', 'acked while the recipient was reconnecting (it catches up)', false],
];

function countTable(r: VerifyResult, failOnMissedLive: boolean): string {
  const c = r.counts;
  const rows = [['check', 'count', 'result', 'counts']];
  for (const [label, name, what, fails] of ROWS) {
    const canFail = fails || (name === 'missedLive' && failOnMissedLive);
    const verdict = canFail ? (c[name] > 0 ? 'FAIL' : 'ok') : '';
    let detail = what;
    if (name === 'unacked' && c.unacked > 0) detail += ` (${c.unackedStored} of them stored: acked, the ack not received)`;
    if (name === 'missedLive' && c.missedLive > 0) detail += ` (${c.missedLiveCaughtUp} caught up by the client, ${c.missedLive - c.missedLiveCaughtUp} only in history)`;
    rows.push([label, String(c[name]), verdict, detail]);
  }
  return table(rows);
}

export function formatReport(r: VerifyResult, failOnMissedLive: boolean): string {
  const c = r.counts;
  const longer = r.seconds > r.plannedSeconds + 0.5 ? ` (${r.plannedSeconds} s asked; sending went on until the last fault had recovered)` : '';
  const out = [`verify: ${r.target}; ${r.users} users in pairs; ${r.rate} msgs/s offered for ${r.seconds} s${longer}`, ''];
  if (r.faults.length > 0) out.push(faultTable(r), '');
  out.push(countTable(r, failOnMissedLive), '');
  out.push(`history: ${c.conversations} conversations, ${c.historyRows} rows, ${c.historyPages} pages`);
  const lat = r.ackLatencyMs;
  if (lat) out.push(`send → ack: p50 ${lat.p50} ms, p99 ${lat.p99} ms, max ${lat.max} ms`);
  const answers = Object.entries(r.errorAnswers);
  out.push(`error answers to sends (retried by the client): ${answers.length === 0 ? 'none' : answers.map(([code, n]) => `${code} ${n}`).join(', ')}`);
  for (const [name, list] of Object.entries(r.examples)) {
    const row = ROWS.find(([, n]) => n === name);
    if (!row || (!row[3] && !(name === 'missedLive' && failOnMissedLive) && name !== 'unacked')) continue;
    out.push('', `${row[0]}, for example:`, ...list.map((e) => `  ${e}`));
  }
  out.push('', r.failures.length === 0
    ? 'PASS: every acked message is in history once, in order, as acked'
    : `FAIL: ${r.failures.join('; ')}`);
  return out.join('\n');
}
