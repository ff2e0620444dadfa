/**
 * MessageStore on Postgres through Sequelize: the port's methods over the insert strategies
 * (insert-unnest.ts, insert-bulk-create.ts, measured by scripts/src/bench/insert-bench.ts), the
 * history queries (history-queries.ts), the read marks (read-marks.ts), rooms (rooms.ts) and the connection (store-connection.ts). Failures that
 * mean the database is unavailable become ERR_STORE_UNAVAILABLE (store-errors.ts).
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import type { ConversationItem, HistoryPage } from '@chat/shared/protocol';
import { ERR_FORBIDDEN } from '@chat/shared/errors';
import type {
  ConversationsQuery, HistoryQuery, ReadMark, ReadMarksReply, RoomChangeReply, RoomChangeRequest, RoomCreateRequest, RoomState,
  SentReply, SentRequest,
} from '@chat/shared/internal-api';
import { DEFAULT_MAX_ROOM_MEMBERS } from '@chat/shared/protocol';
import { dedupeKey, roomOf, type Accepted, type Message, type NewMessage } from '@chat/shared/types';
import { planBatch, resultsInOrder } from './batch-plan.ts';
import { readConversations, readHistory } from './history-queries.ts';
import { storeReadMarks } from './read-marks.ts';
import { BulkCreateInserts } from './insert-bulk-create.ts';
import { UnnestInserts } from './insert-unnest.ts';
import { assertInternals } from './sequelize-pg-internals.ts';
import { NOT_MEMBER } from './room-rules.ts';
import { RoomStore } from './rooms.ts';
import { lookupStored } from './stored-lookup.ts';
import type { LoggedInsertResult, MessageStore } from './store.ts';
import { connectSequelize } from './store-connection.ts';
import { guardStore } from './store-errors.ts';

export type InsertMethod = 'unnest' | 'bulkCreate';

export interface SequelizeStoreOptions {
  /** @default 'unnest' (measured faster, docs/benchmarks.md) */
  insertMethod?: InsertMethod;
  /** Most pooled connections. @default 10 */
  poolMax?: number;
  /** MAX_ROOM_MEMBERS: the most members a room may have. @default DEFAULT_MAX_ROOM_MEMBERS */
  maxRoomMembers?: number;
  /**
   * Plan the prepared inserts at every execution (store-connection.ts): Kafka mode's insert needs
   * it; direct mode's is cheaper without. @default true
   */
  customPlans?: boolean;
}

export class SequelizeMessageStore implements MessageStore {
  private readonly insertMethod: InsertMethod;
  private readonly unnest: UnnestInserts;
  private readonly bulkCreate: BulkCreateInserts;
  private readonly rooms: RoomStore;

  /** Takes a ready Sequelize instance (`connect` makes one with the settings of store-connection.ts); `close()` closes it. */
  constructor(private readonly sequelize: Sequelize, opts: SequelizeStoreOptions = {}) {
    assertInternals(sequelize);
    this.insertMethod = opts.insertMethod ?? 'unnest';
    this.unnest = new UnnestInserts(sequelize);
    this.bulkCreate = new BulkCreateInserts(sequelize);
    this.rooms = new RoomStore(sequelize, opts.maxRoomMembers ?? DEFAULT_MAX_ROOM_MEMBERS);
  }

  /** A store on `databaseUrl` with its own pool. */
  static connect(databaseUrl: string, opts: SequelizeStoreOptions = {}): SequelizeMessageStore {
    return new SequelizeMessageStore(connectSequelize(databaseUrl, opts.poolMax ?? 10, opts.customPlans ?? true), opts);
  }

  async insertBatch(msgs: NewMessage[]): Promise<Accepted[]> {
    if (msgs.length === 0) return [];
    const plan = planBatch(msgs);
    const stored = await guardStore(() => this.insertMethod === 'unnest' ? this.unnest.insertBatch(plan) : this.bulkCreate.insert(plan));
    return resultsInOrder(plan, stored);
  }

  /** Always the one-statement unnest insert, whatever `insertMethod`. */
  async insertLogged(msgs: Message[]): Promise<LoggedInsertResult> {
    if (msgs.length === 0) return { inserted: 0, duplicates: 0, regressed: [], collided: [] };
    return guardStore(() => this.unnest.insertLogged(msgs));
  }

  history(q: HistoryQuery): Promise<HistoryPage> {
    return guardStore(async () => {
      // A room's history is its members' only: one primary-key probe before the page.
      const room = roomOf(q.with);
      if (room !== undefined && !(await this.rooms.isMember(room, q.user))) throw new ERR_FORBIDDEN(NOT_MEMBER);
      return readHistory(this.sequelize, q);
    });
  }

  conversations(q: ConversationsQuery): Promise<ConversationItem[]> {
    return guardStore(() => readConversations(this.sequelize, q));
  }

  storeReadMarks(marks: ReadMark[]): Promise<ReadMarksReply> {
    return guardStore(async () => storeReadMarks(this.sequelize, marks, await this.rooms.nonMembers(marks)));
  }

  createRoom(req: RoomCreateRequest): Promise<RoomState> {
    return guardStore(() => this.rooms.create(req));
  }

  changeRoom(req: RoomChangeRequest): Promise<RoomChangeReply> {
    return guardStore(() => this.rooms.change(req));
  }

  getRooms(ids: readonly string[]): Promise<RoomState[]> {
    return guardStore(() => this.rooms.get(ids));
  }

  async findSent(keys: SentRequest['keys']): Promise<SentReply['found']> {
    const found = await guardStore(() => lookupStored(this.sequelize, keys));
    return keys.map((k) => { const r = found.get(dedupeKey(k.from, k.cid)); return r ? { id: r.id, seq: r.seq, ts: r.ts } : null; });
  }

  async ping(): Promise<void> {
    await guardStore(() => this.sequelize.query('SELECT 1', { type: QueryTypes.SELECT }));
  }

  async close(): Promise<void> {
    await this.sequelize.close();
  }
}
