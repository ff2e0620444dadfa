/**
 * The rows already stored for messages' (from, cid): how both insert strategies tell a message
 * they skipped (a replay or a retried send) from one they inserted.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { dedupeKey, type NewMessage } from '@chat/shared/types';
import type { StoredResult } from './batch-plan.ts';
import * as sql from './sql.ts';

/** A stored message as the insert statements return it (int8 columns arrive as text). */
export interface StoredRow { id: string; seq: string; ts: string; sender: string; cid: string; body?: string; fresh?: boolean }

/** Stored rows of the messages' (from, cid), keyed by `dedupeKey`; `fresh` when `transaction` (if any) inserted them. */
export async function lookupStored(sequelize: Sequelize, msgs: readonly Pick<NewMessage, 'from' | 'cid'>[], transaction?: Transaction): Promise<Map<string, StoredResult>> {
  const rows = await sequelize.query<StoredRow>(sql.SELECT_BY_SENDER_CID, {
    bind: [msgs.map((m) => m.from), msgs.map((m) => m.cid)], type: QueryTypes.SELECT, transaction,
  });
  return new Map(rows.map((r) => [dedupeKey(r.sender, r.cid), { id: r.id, seq: Number(r.seq), ts: Number(r.ts), fresh: r.fresh === true, ...(r.body !== undefined && { body: r.body }) }]));
}
