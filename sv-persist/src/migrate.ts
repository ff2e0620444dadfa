/**
 * Schema migrations at start: sv-persist, the only service that talks to Postgres, owns the schema
 * and runs the sequelize-cli migrations in migrations/ before it serves. The CLI runs as a child
 * process (it is a CLI, not a library); a session advisory lock held around it keeps two starting
 * instances from racing.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sequelize } from 'sequelize';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MIGRATIONS_DIR = join(PACKAGE_DIR, 'migrations');
const CONFIG_FILE = join(PACKAGE_DIR, 'db', 'config.cjs');
/** Arbitrary constant naming the lock: "chat" in ASCII. */
const MIGRATION_LOCK = 0x63686174;

/** The sequelize-cli entry script, found the way Node would resolve the package. */
function cliScript(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('sequelize-cli/package.json');
  const pkg = require(pkgFile) as { bin: Record<string, string> };
  const bin = pkg.bin['sequelize-cli'];
  if (!bin) throw new Error('sequelize-cli has no "sequelize-cli" bin entry');
  return join(dirname(pkgFile), bin);
}

/**
 * Apply pending migrations to `databaseUrl`; idempotent. Throws with the CLI's output on failure.
 * `to` stops after that migration (a file name in migrations/): tests of a later migration's data
 * conversion start from the schema before it.
 */
export async function migrate(databaseUrl: string, opts: { to?: string } = {}): Promise<string> {
  const db = new Sequelize(databaseUrl, { dialect: 'postgres', logging: false, pool: { max: 1, min: 0 } });
  try {
    await db.authenticate();
  } catch (err) {
    await db.close();
    throw new Error(`migrations: cannot connect to the database: ${(err as Error).message}`, { cause: err });
  }
  try {
    // The transaction holds the lock (and its connection) until the CLI is done.
    return await db.transaction(async (transaction) => {
      await db.query('SELECT pg_advisory_xact_lock($1)', { bind: [MIGRATION_LOCK], transaction });
      return runCli(databaseUrl, opts.to);
    });
  } finally {
    await db.close();
  }
}

function runCli(databaseUrl: string, to: string | undefined): Promise<string> {
  const args = [
    cliScript(), 'db:migrate', '--env', 'production',
    '--config', CONFIG_FILE, '--migrations-path', MIGRATIONS_DIR,
    ...(to ? ['--to', to] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: PACKAGE_DIR,
      // The URL travels in the environment, not argv, so `ps` never shows the password.
      env: { ...process.env, DATABASE_URL: databaseUrl, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString('utf8'); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString('utf8'); });
    child.once('error', (err) => reject(new Error(`migrations: cannot run sequelize-cli: ${err.message}`, { cause: err })));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`migrations failed (sequelize-cli exit ${code ?? signal}):\n${output.slice(-4000)}`));
    });
  });
}
