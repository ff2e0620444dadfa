/** Switching a database between direct mode and Kafka mode keeps seq increasing, or refuses clearly. */
import assert from 'node:assert/strict';
import { seqFromOffset } from '@chat/shared/kafka-log';
import { withPg } from '@chat/shared/local-postgres';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';
import { guardLogMode, type LogMode } from '../../src/seq-guard.ts';
import { createMigratedDatabase, msg } from '../helpers/db.ts';

describe('seq guard across message-log modes', () => {
  let url: string;
  let store: SequelizeMessageStore;
  before(async () => {
    url = await createMigratedDatabase();
    store = SequelizeMessageStore.connect(url, { poolMax: 2 });
  });
  after(async () => { await store.close(); });

  const modes: LogMode[] = [{ mode: 'direct' }, { mode: 'kafka', generation: 0 }];
  for (const mode of modes) {
    it(`starts a fresh database in ${mode.mode} mode, records the mode, and starts again in it over its own seqs`, async () => {
      const fresh = await createMigratedDatabase();
      await guardLogMode(fresh, mode);
      const recorded = await withPg(fresh, (q) => q<{ mode: string; generation: number }>('SELECT mode, generation FROM log_mode'));
      assert.deepEqual(recorded, [{ mode: mode.mode, generation: 0 }]);
      const own = SequelizeMessageStore.connect(fresh, { poolMax: 1 });
      try {
        if (mode.mode === 'direct') await own.insertBatch([msg('alice', 'bob', 'd-1')]);
        else assert.equal((await own.insertLogged([{ ...msg('alice', 'bob', 'k-1'), seq: seqFromOffset(0, 5) }])).inserted, 1);
      } finally {
        await own.close();
      }
      await guardLogMode(fresh, mode);
    });
  }

  it('refuses Kafka mode over direct-mode seqs until the generation starts above them, then moves direct mode above Kafka seqs', async () => {
    await guardLogMode(url, { mode: 'direct' });
    const [direct] = await store.insertBatch([msg('alice', 'bob', 'd-1')]);
    await assert.rejects(guardLogMode(url, { mode: 'kafka', generation: 0 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CHAT_ERR_CONFIG');
      assert.match(err.message, /KAFKA_SEQ_GENERATION=1/);
      return true;
    });
    await guardLogMode(url, { mode: 'kafka', generation: 1 });
    const kafkaSeq = seqFromOffset(1, 5);
    const r = await store.insertLogged([{ ...msg('alice', 'bob', 'k-1'), seq: kafkaSeq }]);
    assert.equal(r.inserted, 1);
    assert.ok(kafkaSeq > direct!.seq);

    // Back to direct mode: the sequence moves above the Kafka seqs.
    await guardLogMode(url, { mode: 'direct' });
    const [after] = await store.insertBatch([msg('alice', 'bob', 'd-2')]);
    assert.ok(after!.seq > kafkaSeq, `direct seq ${after!.seq} continues above ${kafkaSeq}`);

    // And Kafka again needs a generation above what direct mode wrote.
    await assert.rejects(guardLogMode(url, { mode: 'kafka', generation: 1 }), /KAFKA_SEQ_GENERATION=2/);
    await guardLogMode(url, { mode: 'kafka', generation: 2 });
  });
});
