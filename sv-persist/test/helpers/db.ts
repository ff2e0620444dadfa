/** A fresh database with sv-persist's schema, one per test file. */
import { createTestDatabase } from '@chat/shared/local-postgres';
import { newId } from '@chat/shared/ids';
import type { NewMessage } from '@chat/shared/types';
import { migrate } from '../../src/migrate.ts';

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
