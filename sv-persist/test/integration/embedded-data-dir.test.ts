/**
 * The embedded Postgres's data directory: the service creates what it needs and changes the mode of
 * nothing it did not create, so a data directory under /tmp leaves /tmp sticky and world-writable.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@chat/shared/logger';
import { freePort } from '@chat/shared/free-port';
import { prepareDataDirParent } from '../../src/data-dir.ts';
import { startEmbeddedPostgres } from '../../src/embedded-postgres.ts';

const logger = createLogger({ service: 'sv-persist-test', level: 'silent' });

async function freshDir(mode: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chat-datadir-'));
  await chmod(dir, mode);
  return dir;
}

describe('embedded Postgres data directory', function () {
  this.timeout(120_000);
  const made: string[] = [];
  after(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });

  it('starts under a sticky world-writable directory and leaves its mode as it was', async () => {
    const shared = await freshDir(0o1777);
    made.push(shared);
    const pg = await startEmbeddedPostgres({ dataDir: join(shared, 'chat-pg'), port: await freePort(), logger });
    try {
      assert.equal((await stat(shared)).mode & 0o7777, 0o1777);
    } finally {
      await pg.stop();
    }
    assert.equal((await stat(shared)).mode & 0o7777, 0o1777);
  });

  it('creates missing parents readable by the Postgres user, even under a private umask', async () => {
    const base = await freshDir(0o755);
    made.push(base);
    const previous = process.umask(0o077);
    let created: string[];
    try {
      created = await prepareDataDirParent(join(base, 'a', 'b', 'pg'));
    } finally {
      process.umask(previous);
    }
    assert.deepEqual(created, [join(base, 'a'), join(base, 'a', 'b')]);
    assert.equal((await stat(join(base, 'a'))).mode & 0o777, 0o755);
    assert.equal((await stat(join(base, 'a', 'b'))).mode & 0o777, 0o755);
    assert.equal((await stat(base)).mode & 0o7777, 0o755);
    assert.deepEqual(await prepareDataDirParent(join(base, 'a', 'b', 'pg')), [], 'nothing new to create, nothing touched');
  });

  it('refuses a path the Postgres user cannot traverse, naming it, and leaves its mode alone', async function () {
    const closed = await freshDir(0o700);
    made.push(closed);
    const start = startEmbeddedPostgres({ dataDir: join(closed, 'pg'), port: await freePort(), logger });
    if (userInfo().uid === 0) {
      // As root, Postgres runs as the unprivileged `postgres` user, which a 0700 root directory shuts out.
      await assert.rejects(start, (err: Error) => err.message.includes(closed) && err.message.includes('"postgres" user'));
    } else {
      // Otherwise Postgres runs as this process's user, who owns the directory: it starts.
      await (await start).stop();
    }
    assert.equal((await stat(closed)).mode & 0o7777, 0o700);
  });
});
