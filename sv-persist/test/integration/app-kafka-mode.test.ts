import assert from 'node:assert/strict';
import { createLogger } from '@chat/shared/logger';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { ROUTES } from '@chat/shared/internal-api';
import { buildApp } from '../../src/app.ts';
import { BatchWriter } from '../../src/batch-writer.ts';
import { SequelizeMessageStore } from '../../src/store-sequelize.ts';
import { createMigratedDatabase, msg } from '../helpers/db.ts';

const SECRET = 'test-cluster-secret-0123456789';

describe('sv-persist HTTP in Kafka mode', () => {
  it('/readyz follows the consumer as well as the database; the ingest route is off', async () => {
    const store = SequelizeMessageStore.connect(await createMigratedDatabase());
    const writer = new BatchWriter(store);
    let inGroup = false;
    const app = buildApp({
      store, writer, secret: SECRET, logger: createLogger({ service: 't', level: 'silent' }),
      ingest: false, consumer: { isReady: () => inGroup },
    });
    try {
      const notYet = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(notYet.statusCode, 503);
      assert.deepEqual(notYet.json(), { ready: false, checks: { database: 'ok', consumer: 'down: not in its consumer group yet' } });
      inGroup = true;
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json(), { ready: true, checks: { database: 'ok', consumer: 'ok' } });
      const ingest = await app.inject(signedRequest(SECRET, 'POST', ROUTES.persistIngest, { messages: [msg('a', 'b', 'c')] }));
      assert.equal(ingest.statusCode, 404);
    } finally {
      await app.close();
      await writer.close();
      await store.close();
    }
  });
});
