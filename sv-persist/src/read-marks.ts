/**
 * Read marks: how far each user has read each conversation (`read_marks`, one row per reader and
 * peer). A request's marks become one statement: the highest seq per (reader, peer), upserted so
 * a stored mark only moves forward (`UPDATE … WHERE mark < new`, atomic per row however many
 * persisters write at once). Whether each mark moved comes back from the statement's RETURNING.
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import type { ReadMark, ReadMarksReply } from '@chat/shared/internal-api';
import * as sql from './sql.ts';

/** One row per (reader, peer) to upsert, and which mark of the request stands for it. */
export interface MarksPlan {
  rows: { reader: string; peer: string; seq: number }[];
  /** Index in the request of the mark each row came from: the first holding the row's seq. */
  from: number[];
}

const keyOf = (reader: string, peer: string) => `${reader}\n${peer}`;

/**
 * The rows of a request: per (reader, peer) its highest seq (the first mark holding it wins), in
 * key order, so two statements lock the rows they share in one order and never deadlock. A seq
 * of 0 is where every mark starts: it can move nothing and is left out.
 */
export function planMarks(marks: readonly ReadMark[]): MarksPlan {
  const best = new Map<string, number>();
  marks.forEach((m, i) => {
    if (m.seq <= 0) return;
    const key = keyOf(m.reader, m.peer);
    const held = best.get(key);
    if (held === undefined || marks[held]!.seq < m.seq) best.set(key, i);
  });
  const from = [...best.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, i]) => i);
  return { rows: from.map((i) => ({ reader: marks[i]!.reader, peer: marks[i]!.peer, seq: marks[i]!.seq })), from };
}

/** Whether each mark of the request moved its stored mark, given the rows the statement moved. */
export function movedMarks(marks: readonly ReadMark[], plan: MarksPlan, movedKeys: ReadonlySet<string>): boolean[] {
  const moved = marks.map(() => false);
  plan.rows.forEach((row, k) => { if (movedKeys.has(keyOf(row.reader, row.peer))) moved[plan.from[k]!] = true; });
  return moved;
}

/** Move the marks forward; resolves with whether each moved, in order. */
async function moveMarks(sequelize: Sequelize, marks: readonly ReadMark[]): Promise<boolean[]> {
  const plan = planMarks(marks);
  if (plan.rows.length === 0) return marks.map(() => false);
  const rows = await sequelize.query<{ reader: string; peer: string }>(sql.READ_MARKS_UPSERT, {
    bind: [plan.rows.map((r) => r.reader), plan.rows.map((r) => r.peer), plan.rows.map((r) => r.seq)],
    type: QueryTypes.SELECT,
  });
  return movedMarks(marks, plan, new Set(rows.map((r) => keyOf(r.reader, r.peer))));
}

/**
 * Move the marks forward, but not those `refused` (reader, peer) pairs name: a room's mark moves
 * only for a member (rooms.ts `nonMembers`). Refused marks stand in as seq 0, which moves nothing.
 */
export async function storeReadMarks(sequelize: Sequelize, marks: readonly ReadMark[], refused: readonly { reader: string; peer: string }[] = []): Promise<ReadMarksReply> {
  if (refused.length === 0) return { moved: await moveMarks(sequelize, marks) };
  const keys = new Set(refused.map((p) => keyOf(p.reader, p.peer)));
  const forbidden = marks.flatMap((m, i) => (keys.has(keyOf(m.reader, m.peer)) ? [i] : []));
  const allowed = marks.map((m) => (keys.has(keyOf(m.reader, m.peer)) ? { ...m, seq: 0 } : m));
  return { moved: await moveMarks(sequelize, allowed), forbidden };
}
