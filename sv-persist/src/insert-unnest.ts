/**
 * The `unnest` insert strategy (the default, measured faster, docs/benchmarks.md): one
 * INSERT … SELECT FROM unnest($1::uuid[], …) statement that also moves the conversation heads:
 * one round trip, a constant-size statement whatever the batch size, and atomic on its own, so no
 * BEGIN/COMMIT round trips (they were two of every three statements a persister sent at light
 * load). Kafka mode's insert (`insertLogged`) is always this one, with the seq given by the log.
 *
 * Both run as named prepared statements (sequelize-pg-internals.ts): parsed once per connection
 * instead of per batch; Kafka mode's is still planned per execution, direct mode's keeps a
 * generic plan (plan_cache_mode, store-connection.ts).
 * At light load every batch is a row or two, and then parsing and Sequelize's own query layer
 * were a large part of the cost. The arrays go in Postgres's binary format (pg-binary-arrays.ts).
 */
import type { Sequelize } from 'sequelize';
import { conversationKey, dedupeKey, type Message, type NewMessage } from '@chat/shared/types';
import type { BatchPlan, StoredResult } from './batch-plan.ts';
import { int8Array, textArray, uuidArray } from './pg-binary-arrays.ts';
import { preparedQuery } from './sequelize-pg-internals.ts';
import * as sql from './sql.ts';
import type { LoggedInsertResult } from './store.ts';
import { isUniqueViolation } from './store-errors.ts';
import { lookupStored, type StoredRow } from './stored-lookup.ts';

/** $1–$7 of both unnest inserts (sql.ts): id, conv, sender, recipient, cid, body, ts, as binary arrays. */
function messageColumns(msgs: readonly NewMessage[]): (Buffer | readonly string[])[] {
  return [
    uuidArray(msgs.map((m) => m.id)), textArray(msgs.map((m) => conversationKey(m.from, m.to))), textArray(msgs.map((m) => m.from)),
    textArray(msgs.map((m) => m.to)), textArray(msgs.map((m) => m.cid)), textArray(msgs.map((m) => m.body)), int8Array(msgs.map((m) => m.ts)),
  ];
}

/**
 * Postgres text cannot hold U+0000, which JSON (and so a client's body or cid) can: one such
 * message would fail its whole batch forever and stall its Kafka partition. It is stored as U+FFFD,
 * the same way every time, so replays and retries still match.
 */
function pgSafe(m: Message): Message {
  if (!m.body.includes('\0') && !m.cid.includes('\0')) return m;
  return { ...m, body: m.body.replaceAll('\0', '\uFFFD'), cid: m.cid.replaceAll('\0', '\uFFFD') };
}

export class UnnestInserts {
  constructor(private readonly sequelize: Sequelize) {}

  /** One result per unique message of the plan, in its order: the new row's, or the stored original's. */
  async insertBatch(plan: BatchPlan): Promise<StoredResult[]> {
    const u = plan.unique;
    const inserted = await preparedQuery<StoredRow>(this.sequelize, 'chat_insert_unnest', sql.INSERT_UNNEST, messageColumns(u));
    const byId = new Map(inserted.map((r) => [r.id, r]));
    const results: (StoredResult | undefined)[] = u.map((m) => {
      const r = byId.get(m.id);
      return r && { id: r.id, seq: Number(r.seq), ts: Number(r.ts), fresh: true };
    });
    if (inserted.length < u.length) {
      // Skipped rows conflicted on (sender, cid): report the originals.
      const missing = u.filter((_, i) => results[i] === undefined);
      const originals = await lookupStored(this.sequelize, missing);
      u.forEach((m, i) => { results[i] ??= originals.get(dedupeKey(m.from, m.cid)); });
    }
    return results.map((r, i) => {
      if (!r) throw new Error(`message ${u[i]!.id} was neither inserted nor found`);
      return r;
    });
  }

  /** The seq comes with the rows; the rare rows it skips are looked up afterwards to tell replays from seq collisions. */
  async insertLogged(msgs: Message[]): Promise<LoggedInsertResult> {
    const rows = msgs.map(pgSafe);
    const bind = [...messageColumns(rows), int8Array(rows.map((m) => m.seq))];
    type Row = { inserted: number; regressed: string[] };
    let rowsBack: Row[];
    try {
      rowsBack = await preparedQuery<Row>(this.sequelize, 'chat_insert_logged', sql.INSERT_LOGGED, bind);
    } catch (err) {
      // A row hit a unique key other than (sender, cid): its (conv, seq) is taken (or its id).
      // Nothing was stored; store the batch again, skipping such rows too.
      if (!isUniqueViolation(err)) throw err;
      rowsBack = await preparedQuery<Row>(this.sequelize, 'chat_insert_logged_any', sql.INSERT_LOGGED_ANY_CONFLICT, bind);
    }
    const { inserted, regressed } = rowsBack[0]!;
    if (inserted === rows.length) return { inserted, duplicates: 0, regressed, collided: [] };
    // Some rows were skipped. A message whose (from, cid) is stored (by this statement, by an
    // earlier row of it, or before) is in or a duplicate; one whose (from, cid) is not stored
    // lost its (conv, seq) to another message. Rows are never deleted, so what the insert saw is still there.
    const stored = await lookupStored(this.sequelize, rows);
    const collided = rows.filter((m) => !stored.has(dedupeKey(m.from, m.cid))).map((m) => m.id);
    return { inserted, duplicates: rows.length - inserted - collided.length, regressed, collided };
  }
}
