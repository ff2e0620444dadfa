import assert from 'node:assert/strict';
import { Sequelize, type Transaction } from 'sequelize';
import { BatchWriter } from '../../src/batch-writer.ts';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';
import { createMigratedDatabase, msg } from '../helpers/db.ts';

describe('BatchWriter', () => {
  let url: string;
  let store: SequelizeMessageStore;
  let blocker: Sequelize;
  let lock: Transaction | undefined;

  before(async () => {
    url = await createMigratedDatabase();
  });
  beforeEach(async () => {
    store = SequelizeMessageStore.connect(url);
    blocker = new Sequelize(url, { dialect: 'postgres', logging: false });
    // Holding this lock keeps the writer's first insert in flight until the test releases it.
    lock = await blocker.transaction();
    await blocker.query('LOCK TABLE messages IN EXCLUSIVE MODE', { transaction: lock });
  });
  afterEach(async () => {
    if (lock && !(lock as unknown as { finished?: string }).finished) await lock.rollback();
    await blocker.close();
    await store.close();
  });

  it('merges what arrives while a batch is in flight into the next batch, keeping order', async () => {
    const sizes: number[] = [];
    const writer = new BatchWriter(store, { onBatch: (n) => sizes.push(n) });
    const first = writer.write([msg('alice', 'bob', 'w1')]);
    await new Promise(setImmediate); // the writer gathers one turn of the event loop, then sends
    assert.equal(writer.queued, 0, 'the first write went at the end of its turn');
    const second = writer.write([msg('carol', 'bob', 'w2'), msg('alice', 'bob', 'w3')]);
    const third = writer.write([msg('dave', 'bob', 'w4')]);
    assert.equal(writer.queued, 3);
    await lock!.commit();
    const [a, b, c] = await Promise.all([first, second, third]);
    assert.deepEqual(sizes, [1, 3]);
    const seqs = [...a, ...b, ...c].map((x) => x.seq);
    assert.deepEqual([...seqs].sort((x, y) => x - y), seqs);
    await writer.close();
  });

  it('refuses a whole write that does not fit the queue, with CHAT_ERR_QUEUE_FULL', async () => {
    const writer = new BatchWriter(store, { maxQueue: 2 });
    const inFlight = writer.write([msg('alice', 'bob', 'q1')]);
    await new Promise(setImmediate);
    const queued = writer.write([msg('alice', 'bob', 'q2')]);
    await assert.rejects(writer.write([msg('alice', 'bob', 'q3'), msg('alice', 'bob', 'q4')]), { code: 'CHAT_ERR_QUEUE_FULL', statusCode: 503 });
    assert.equal(writer.queued, 1);
    await lock!.commit();
    assert.equal((await inFlight).length + (await queued).length, 2);
    await writer.close();
  });

  it('close drains what is queued, then refuses writes', async () => {
    const writer = new BatchWriter(store);
    const pending = [writer.write([msg('alice', 'bob', 'd1')]), writer.write([msg('alice', 'bob', 'd2')])];
    const closed = writer.close();
    await assert.rejects(writer.write([msg('alice', 'bob', 'd3')]), { code: 'CHAT_ERR_STORE_UNAVAILABLE' });
    await lock!.commit();
    await closed;
    const results = await Promise.all(pending);
    assert.equal(results.flat().length, 2);
    const page = await store.history({ user: 'alice', with: 'bob' });
    assert.deepEqual(page.messages.map((m) => m.cid).filter((c) => c.startsWith('d')), ['d1', 'd2']);
  });
});
