/** A fresh database with sv-persist's schema, one per test file. */
import { createTestDatabase, withPg } from '@chat/shared/local-postgres';
import { newId } from '@chat/shared/ids';
import type { NewMessage } from '@chat/shared/types';
import { migrate } from '../../src/migrate.ts';
import { SequelizeMessageStore, type SequelizeStoreOptions } from '../../src/store-sequelize.ts';

export async function createMigratedDatabase(): Promise<string> {
  const url = await createTestDatabase();
  await migrate(url);
  return url;
}

let clock = 1_764_150_000_000;

/** A new message from `from` to `to`; ts strictly increases across calls. */
export function msg(from: string, to: string, cid: string, body = `body ${cid}`): NewMessage {
  return { id: newId(), from, to, cid, body, ts: clock++ };
}

/**
 * A store on one migrated database for a suite: emptied and connected before each test, closed
 * after it. `url()` and `store()` read the current ones.
 */
export function storePerTest(opts?: SequelizeStoreOptions) {
  let url = '';
  let store: SequelizeMessageStore | undefined;
  before(async () => {
    url = await createMigratedDatabase();
  });
  beforeEach(async () => {
    await withPg(url, (q) => q('TRUNCATE messages, conversations, read_marks, room_members, rooms'));
    store = SequelizeMessageStore.connect(url, opts);
  });
  afterEach(async () => {
    await store?.close();
  });
  return { url: () => url, store: () => store! };
}
