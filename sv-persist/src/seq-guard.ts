/**
 * Keeps `seq` increasing per conversation when a database changes message log: clients page and
 * catch up by seq, so it must keep increasing across restarts of any part, a change of mode
 * included. Direct mode takes seq from the messages_seq sequence;
 * Kafka mode takes generation · 2^40 + offset. At start:
 * - direct after Kafka: move the sequence above every stored seq (one scan, at start only);
 * - Kafka after direct, or Kafka under a lower generation: refuse unless the generation's seqs
 *   start above everything stored, naming the KAFKA_SEQ_GENERATION that would.
 * Then record the mode, so the next start knows.
 */
import { QueryTypes, Sequelize } from 'sequelize';
import { ERR_CONFIG } from '@chat/shared/errors';
import { OFFSET_BITS, seqFromOffset } from '@chat/shared/kafka-log';

export type LogMode = { mode: 'direct' } | { mode: 'kafka'; generation: number };

export async function guardLogMode(databaseUrl: string, next: LogMode): Promise<void> {
  const db = new Sequelize(databaseUrl, { dialect: 'postgres', logging: false, pool: { max: 1, min: 0 } });
  const one = async <R extends object>(sql: string, bind: unknown[] = []) =>
    (await db.query<R>(sql, { bind, type: QueryTypes.SELECT }))[0];
  try {
    const prev = await one<{ mode: 'direct' | 'kafka'; generation: number }>('SELECT mode, generation FROM log_mode WHERE id = 1');
    const generation = next.mode === 'kafka' ? next.generation : 0;
    if (next.mode === 'kafka') {
      const maxSeq = Number((await one<{ max: string | null }>('SELECT max(seq)::text AS max FROM messages'))?.max ?? -1);
      const lowest = seqFromOffset(generation, 0);
      const changed = !prev || prev.mode !== 'kafka' || prev.generation !== generation;
      if (changed && maxSeq >= lowest) {
        const needed = Math.floor(maxSeq / 2 ** OFFSET_BITS) + 1;
        throw new ERR_CONFIG(`  KAFKA_SEQ_GENERATION: this database holds seqs up to ${maxSeq} from ${prev ? `${prev.mode} mode` : 'an earlier run'}; ` +
          `generation ${generation} starts at ${lowest}, so seq would go backwards. Set KAFKA_SEQ_GENERATION=${needed} (or higher) on every node and persister.`);
      }
    } else if (prev?.mode === 'kafka') {
      await db.query(`SELECT setval('messages_seq', m) FROM (SELECT max(seq) AS m FROM messages) s WHERE m IS NOT NULL`);
    }
    await db.query(`INSERT INTO log_mode (id, mode, generation) VALUES (1, $1, $2)
      ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, generation = excluded.generation`, { bind: [next.mode, generation] });
  } finally {
    await db.close();
  }
}
