/**
 * The `bulkCreate` insert strategy (PERSIST_INSERT_METHOD=bulkCreate, measured slower than unnest,
 * docs/benchmarks.md): Model.bulkCreate(rows, { ignoreDuplicates: true }), then a lookup of the
 * batch's rows and the heads upsert: three statements, so one transaction. Its RETURNING cannot be
 * used, as Sequelize maps returned rows to inputs by position, which skipped duplicates shift.
 */
import type { Sequelize } from 'sequelize';
import { conversationKey, dedupeKey } from '@chat/shared/types';
import type { BatchPlan, StoredResult } from './batch-plan.ts';
import { defineMessageModel, INSERT_FIELDS, type MessageModel } from './models/message.ts';
import * as sql from './sql.ts';
import { lookupStored } from './stored-lookup.ts';

export class BulkCreateInserts {
  private readonly messages: MessageModel;

  constructor(private readonly sequelize: Sequelize) {
    this.messages = defineMessageModel(sequelize);
  }

  /** One result per unique message of the plan, in its order; all or nothing (one transaction). */
  insert(plan: BatchPlan): Promise<StoredResult[]> {
    return this.sequelize.transaction(async (transaction) => {
      const u = plan.unique;
      const rows = u.map((m) => ({
        id: m.id, conv: conversationKey(m.from, m.to), sender: m.from, recipient: m.to, cid: m.cid, body: m.body, ts: m.ts,
      }));
      await this.messages.bulkCreate(rows, {
        ignoreDuplicates: true, fields: [...INSERT_FIELDS], returning: false, validate: false, hooks: false, transaction,
      });
      const found = await lookupStored(this.sequelize, u, transaction);
      const results = u.map((m) => {
        const r = found.get(dedupeKey(m.from, m.cid));
        if (!r) throw new Error(`message ${m.id} was neither inserted nor found`);
        return r;
      });
      const freshIds = results.filter((r) => r.fresh).map((r) => r.id);
      if (freshIds.length > 0) await this.sequelize.query(sql.HEADS_FROM_IDS, { bind: [freshIds], transaction });
      return results;
    });
  }
}
