/**
 * MessageStore on Postgres through Sequelize (connection pooling, model, transactions).
 * Two ways to write a batch, measured by scripts/src/bench/insert-bench.ts (docs/benchmarks.md):
 * - `unnest` (default): one INSERT … SELECT FROM unnest($1::uuid[], …) statement that also moves
 *   the conversation heads: one round trip, a constant-size statement whatever the batch size.
 * - `bulkCreate`: Model.bulkCreate(rows, { ignoreDuplicates: true }), then a lookup of the batch's
 *   rows and the heads upsert: three statements. Its RETURNING cannot be used, as Sequelize maps
 *   returned rows to inputs by position, which skipped duplicates shift.
 *
 * The two unnest inserts (direct and Kafka mode) run as named prepared statements on a pooled
 * connection Sequelize hands out (`prepared`): parsed once per connection instead of per batch,
 * and still planned per execution (plan_cache_mode below). At light load every batch is a row or
 * two, and then parsing and Sequelize's own query layer were a large part of the cost
 * (docs/benchmarks.md).
 */
import { createRequire } from 'node:module';
import { QueryTypes, Sequelize, type Transaction } from 'sequelize';
import { ERR_STORE_UNAVAILABLE } from '@chat/shared/errors';
import { HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, toWireMessage, type ConversationItem, type HistoryPage, type WireMessage } from '@chat/shared/protocol';
import type { ConversationsQuery, HistoryQuery, SentReply, SentRequest } from '@chat/shared/internal-api';
import { conversationKey, dedupeKey, type Accepted, type Message, type NewMessage } from '@chat/shared/types';
import { planBatch, resultsInOrder, type BatchPlan, type StoredResult } from './batch-plan.ts';
import { defineMessageModel, INSERT_FIELDS, type MessageModel } from './models/message.ts';
import * as sql from './sql.ts';
import { int8Array, textArray, uuidArray } from './pg-binary-arrays.ts';
import type { LoggedInsertResult, MessageStore } from './store.ts';

export type InsertMethod = 'unnest' | 'bulkCreate';

export interface SequelizeStoreOptions {
  /** @default 'unnest' (measured faster, docs/benchmarks.md) */
  insertMethod?: InsertMethod;
  /** Most pooled connections. @default 10 */
  poolMax?: number;
}

interface MessageRow {
  id: string; seq: string; cid: string; sender: string; recipient: string; body: string; ts: string;
}
interface StoredRow { id: string; seq: string; ts: string; sender: string; cid: string; fresh?: boolean }

/** The part of a pg Client `prepared` uses. */
interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * SQLSTATE classes that are the statement's own fault (data exception, integrity, syntax or
 * access rule): anything else a raw query throws (a connection lost or refused, an operator
 * shutdown, no resources) means the database is unavailable, as Sequelize's errors below say.
 */
const STATEMENT_FAULT = /^(22|23|42)/;
const UNIQUE_VIOLATION = '23505';

/** Sequelize's connection-level failures: the database is down or unreachable, not our query. */
const UNAVAILABLE = new Set([
  'SequelizeConnectionError', 'SequelizeConnectionRefusedError', 'SequelizeHostNotFoundError',
  'SequelizeHostNotReachableError', 'SequelizeConnectionTimedOutError', 'SequelizeConnectionAcquireTimeoutError',
  'SequelizeAccessDeniedError', 'SequelizeInvalidConnectionError', 'SequelizeTimeoutError',
]);

/** A row's message on the wire: int8 columns arrive as text; `toWireMessage` fixes the field order. */
function toWire(r: MessageRow): WireMessage {
  return toWireMessage({ id: r.id, from: r.sender, to: r.recipient, cid: r.cid, body: r.body, ts: Number(r.ts), seq: Number(r.seq) });
}

/**
 * Postgres text cannot hold U+0000, which JSON (and so a client's body or cid) can: one such
 * message would fail its whole batch forever and stall its Kafka partition. It is stored as U+FFFD,
 * the same way every time, so replays and retries still match.
 */
/** $1–$7 of both unnest inserts (sql.ts): id, conv, sender, recipient, cid, body, ts, as binary arrays. */
function messageColumns(msgs: readonly NewMessage[]): (Buffer | readonly string[])[] {
  return [
    uuidArray(msgs.map((m) => m.id)), textArray(msgs.map((m) => conversationKey(m.from, m.to))), textArray(msgs.map((m) => m.from)),
    textArray(msgs.map((m) => m.to)), textArray(msgs.map((m) => m.cid)), textArray(msgs.map((m) => m.body)), int8Array(msgs.map((m) => m.ts)),
  ];
}

function pgSafe(m: Message): Message {
  if (!m.body.includes('\0') && !m.cid.includes('\0')) return m;
  return { ...m, body: m.body.replaceAll('\0', '\uFFFD'), cid: m.cid.replaceAll('\0', '\uFFFD') };
}

export class SequelizeMessageStore implements MessageStore {
  private readonly messages: MessageModel;
  private readonly insertMethod: InsertMethod;

  /** Takes a ready Sequelize instance (`connect` makes one with the settings below); `close()` closes it. */
  constructor(private readonly sequelize: Sequelize, opts: SequelizeStoreOptions = {}) {
    this.messages = defineMessageModel(sequelize);
    this.insertMethod = opts.insertMethod ?? 'unnest';
  }

  /** A store on `databaseUrl` with its own pool. */
  static connect(databaseUrl: string, opts: SequelizeStoreOptions = {}): SequelizeMessageStore {
    const sequelize = new Sequelize(databaseUrl, {
      dialect: 'postgres',
      logging: false,
      pool: { max: opts.poolMax ?? 10, min: 0, acquire: 10_000, idle: 10_000 },
      // Prepared statements (`prepared`) keep being planned for their actual arrays: a generic
      // plan assumes 100 rows per unnest() and hash-joins whole tables, which at light load made
      // Postgres spend more than a core on a few rows per statement (bench, Kafka mode, 3k msgs/s).
      dialectOptions: { connectionTimeoutMillis: 5_000, options: '-c plan_cache_mode=force_custom_plan' },
      dialectModule: pgWithGuardedClients(),
      // A down database should answer 503 soon; the caller (a node, or Kafka) retries the batch.
      retry: { max: 1 },
    });
    return new SequelizeMessageStore(sequelize, opts);
  }

  async insertBatch(msgs: NewMessage[]): Promise<Accepted[]> {
    if (msgs.length === 0) return [];
    const plan = planBatch(msgs);
    // The unnest insert is one statement (rows and heads together), atomic on its own: no
    // BEGIN/COMMIT round trips. bulkCreate needs three statements, so a transaction.
    const stored = await this.guard(() => this.insertMethod === 'unnest'
      ? this.insertUnnest(plan)
      : this.sequelize.transaction((t) => this.insertBulkCreate(plan, t)));
    return resultsInOrder(plan, stored);
  }

  /**
   * Always the one-statement unnest insert (whatever `insertMethod`): the seq comes with the rows,
   * and the rare rows it skips are looked up afterwards to tell replays from seq collisions.
   */
  async insertLogged(msgs: Message[]): Promise<LoggedInsertResult> {
    if (msgs.length === 0) return { inserted: 0, duplicates: 0, regressed: [], collided: [] };
    const rows = msgs.map(pgSafe);
    const bind = [...messageColumns(rows), int8Array(rows.map((m) => m.seq))];
    // One statement, atomic on its own (rows and heads together): no BEGIN/COMMIT round trips,
    // which were two of every three statements a persister sent at light load. Skipped rows are
    // looked up afterwards: rows are never deleted, so what the insert saw is still there.
    return this.guard(async () => {
      type Row = { inserted: number; regressed: string[] };
      let rowsBack: Row[];
      try {
        rowsBack = await this.prepared<Row>('chat_insert_logged', sql.INSERT_LOGGED, bind);
      } catch (err) {
        // A row hit a unique key other than (sender, cid): its (conv, seq) is taken (or its id).
        // Nothing was stored; store the batch again, skipping such rows too.
        if ((err as { code?: unknown } | null)?.code !== UNIQUE_VIOLATION) throw err;
        rowsBack = await this.prepared<Row>('chat_insert_logged_any', sql.INSERT_LOGGED_ANY_CONFLICT, bind);
      }
      const { inserted, regressed } = rowsBack[0]!;
      if (inserted === rows.length) return { inserted, duplicates: 0, regressed, collided: [] };
      // Some rows were skipped. A message whose (from, cid) is stored (by this statement, by an
      // earlier row of it, or before) is in or a duplicate; one whose (from, cid) is not stored
      // lost its (conv, seq) to another message.
      const stored = await this.lookup(rows);
      const collided = rows.filter((m) => !stored.has(dedupeKey(m.from, m.cid))).map((m) => m.id);
      return { inserted, duplicates: rows.length - inserted - collided.length, regressed, collided };
    });
  }

  private async insertUnnest(plan: BatchPlan): Promise<StoredResult[]> {
    const u = plan.unique;
    const inserted = await this.prepared<StoredRow>('chat_insert_unnest', sql.INSERT_UNNEST, messageColumns(u));
    const byId = new Map(inserted.map((r) => [r.id, r]));
    const results: (StoredResult | undefined)[] = u.map((m) => {
      const r = byId.get(m.id);
      return r && { id: r.id, seq: Number(r.seq), ts: Number(r.ts), fresh: true };
    });
    if (inserted.length < u.length) {
      // Skipped rows conflicted on (sender, cid): report the originals.
      const missing = u.filter((_, i) => results[i] === undefined);
      const originals = await this.lookup(missing);
      u.forEach((m, i) => { results[i] ??= originals.get(dedupeKey(m.from, m.cid)); });
    }
    return results.map((r, i) => {
      if (!r) throw new Error(`message ${u[i]!.id} was neither inserted nor found`);
      return r;
    });
  }

  private async insertBulkCreate(plan: BatchPlan, transaction: Transaction): Promise<StoredResult[]> {
    const u = plan.unique;
    const rows = u.map((m) => ({
      id: m.id, conv: conversationKey(m.from, m.to), sender: m.from, recipient: m.to, cid: m.cid, body: m.body, ts: m.ts,
    }));
    await this.messages.bulkCreate(rows, {
      ignoreDuplicates: true, fields: [...INSERT_FIELDS], returning: false, validate: false, hooks: false, transaction,
    });
    const found = await this.lookup(u, transaction);
    const results = u.map((m) => {
      const r = found.get(dedupeKey(m.from, m.cid));
      if (!r) throw new Error(`message ${m.id} was neither inserted nor found`);
      return r;
    });
    const freshIds = results.filter((r) => r.fresh).map((r) => r.id);
    if (freshIds.length > 0) await this.sequelize.query(sql.HEADS_FROM_IDS, { bind: [freshIds], transaction });
    return results;
  }

  async findSent(keys: SentRequest['keys']): Promise<SentReply['found']> {
    const found = await this.guard(() => this.lookup(keys));
    return keys.map((k) => { const r = found.get(dedupeKey(k.from, k.cid)); return r ? { id: r.id, seq: r.seq, ts: r.ts } : null; });
  }

  /** Stored rows of the messages' (from, cid), keyed by `dedupeKey`. */
  private async lookup(msgs: readonly Pick<NewMessage, 'from' | 'cid'>[], transaction?: Transaction): Promise<Map<string, StoredResult>> {
    const rows = await this.sequelize.query<StoredRow>(sql.SELECT_BY_SENDER_CID, {
      bind: [msgs.map((m) => m.from), msgs.map((m) => m.cid)], type: QueryTypes.SELECT, transaction,
    });
    return new Map(rows.map((r) => [dedupeKey(r.sender, r.cid), { id: r.id, seq: Number(r.seq), ts: Number(r.ts), fresh: r.fresh === true }]));
  }

  async history(q: HistoryQuery): Promise<HistoryPage> {
    const conv = conversationKey(q.user, q.with);
    const limit = q.limit ?? HISTORY_DEFAULT_LIMIT;
    const [text, bind] = q.after !== undefined
      ? [sql.HISTORY_AFTER, [conv, q.after, limit + 1]]
      : q.before !== undefined
        ? [sql.HISTORY_BEFORE, [conv, q.before, limit + 1]]
        : [sql.HISTORY_LATEST, [conv, limit + 1]];
    const rows = await this.guard(() => this.sequelize.query<MessageRow>(text, { bind, type: QueryTypes.SELECT }));
    const more = rows.length > limit;
    const page = rows.slice(0, limit).map(toWire);
    // `after` pages come oldest first already; the others were read newest first.
    if (q.after === undefined) page.reverse();
    return { messages: page, more };
  }

  async conversations(q: ConversationsQuery): Promise<ConversationItem[]> {
    const rows = await this.guard(() => this.sequelize.query<MessageRow & { peer: string }>(sql.CONVERSATIONS, {
      bind: [q.user, q.limit ?? HISTORY_MAX_LIMIT], type: QueryTypes.SELECT,
    }));
    return rows.map((r) => ({ with: r.peer, last: toWire(r) }));
  }

  async ping(): Promise<void> {
    await this.guard(() => this.sequelize.query('SELECT 1', { type: QueryTypes.SELECT }));
  }

  async close(): Promise<void> {
    await this.sequelize.close();
  }

  /**
   * One autocommit statement as a named prepared statement (pg prepares it once per connection)
   * on a connection from Sequelize's pool. Errors that are not the statement's fault become
   * ERR_STORE_UNAVAILABLE, as `guard` does for Sequelize's; a broken connection is marked invalid
   * by Sequelize's own listeners and replaced by the pool.
   */
  private async prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const manager = this.sequelize.connectionManager as unknown as {
      getConnection(o: { type: 'write' }): Promise<PgConnection>;
      releaseConnection(c: PgConnection): void;
    };
    const connection = await manager.getConnection({ type: 'write' });
    try {
      return (await connection.query({ name, text, values })).rows as T[];
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && STATEMENT_FAULT.test(code)) throw err;
      throw new ERR_STORE_UNAVAILABLE((err as Error).message, { cause: err });
    } finally {
      manager.releaseConnection(connection);
    }
  }

  /** Connection-level failures become ERR_STORE_UNAVAILABLE (wire `unavailable`, HTTP 503). */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const name = (err as { name?: string } | null)?.name;
      if (name && UNAVAILABLE.has(name)) throw new ERR_STORE_UNAVAILABLE((err as Error).message, { cause: err });
      throw err;
    }
  }
}

/**
 * pg whose clients always have an 'error' listener. A Postgres restart sends 57P01 ("terminating
 * connection due to administrator command") to every connection; one reached a pg Client with no
 * listener (Sequelize adds its own only once connected) and the unhandled 'error' event killed
 * sv-persist (found by sv-websocket/test/faults/postgres-restart.test.ts). Sequelize's listener
 * still marks the connection invalid and the pool replaces it; this one only keeps the process up.
 */
function pgWithGuardedClients(): object {
  type ClientCtor = new (config: unknown) => { on(event: 'error', fn: (err: unknown) => void): void };
  const pg = createRequire(import.meta.url)('pg') as { Client: ClientCtor };
  class GuardedClient extends pg.Client {
    constructor(config: unknown) {
      super(config);
      this.on('error', () => {});
    }
  }
  // Inherit the rest (types, Pool, …) without touching pg's lazy `native` getter.
  return Object.create(pg, { Client: { value: GuardedClient } }) as object;
}
