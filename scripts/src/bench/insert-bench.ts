/**
 * Batch insert: bulkCreate vs unnest, and the Kafka-mode insert (docs/benchmarks.md). Inserts ROWS
 * messages in batches of each size, each way, into a fresh migrated database, and prints rows/s.
 *   npx tsx scripts/src/bench/insert-bench.ts [--rows 100000] [--batches 500,2000] [--methods bulkCreate,unnest,logged]
 * `logged` is `insertLogged` (Kafka mode: seq given by the log) on a drain-shaped backlog: ROWS / 20
 * conversations, interleaved, so each batch moves many conversations' rows that already exist.
 * With the embedded server (a child of this process) it also prints Postgres's CPU per row and
 * per statement: what a batch size saves is the fixed cost of each statement.
 * Uses DATABASE_URL, or starts an embedded Postgres through the test helper.
 */
import { newId } from '@chat/shared/ids';
import { createTestDatabase } from '@chat/shared/local-postgres';
import { stopStartedServices } from '@chat/shared/started-services';
import type { Message, NewMessage } from '@chat/shared/types';
import { migrate } from '../../../sv-persist/src/migrate.ts';
import { SequelizeMessageStore, type InsertMethod } from '../../../sv-persist/src/store-sequelize.ts';
import { flagsToEnv } from '@chat/shared/config';
import { EMBEDDED_POSTGRES, sampleGroups } from './proc-stats.ts';

const flags = flagsToEnv(process.argv.slice(2));
const ROWS = Number(flags.ROWS ?? 100_000);
const BATCHES = (flags.BATCHES ?? '500,2000').split(',').map(Number);
type Method = InsertMethod | 'logged';
const METHODS = (flags.METHODS ?? 'bulkCreate,unnest').split(',') as Method[];
const USERS = 1000;
const postgresCpuSec = () => sampleGroups([EMBEDDED_POSTGRES]).postgres!.cpuSec;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Measured { rowsPerSec: number; statements: number; postgresCpuSec: number }

function makeMessages(n: number, run: number): NewMessage[] {
  const out: NewMessage[] = [];
  for (let i = 0; i < n; i++) {
    const from = `u${(i * 7919) % USERS}`;
    const to = `u${(i * 104729 + 1) % USERS}`;
    out.push({ id: newId(), from, to, cid: `r${run}-${i}`, body: `message ${i} of run ${run}, a typical short chat line`, ts: Date.now() });
  }
  return out;
}

/** Kafka-mode rows: ROWS / 20 conversations, interleaved, seq increasing (as offsets are). */
function makeLogged(n: number, run: number): Message[] {
  const conversations = Math.max(1, Math.floor(n / 20));
  return Array.from({ length: n }, (_, i) => {
    const c = i % conversations;
    const [a, b] = [`u${c % 5000}`, `v${Math.floor(c / 5000)}`];
    return { id: newId(), from: i % 2 ? a : b, to: i % 2 ? b : a, cid: `r${run}-${i}`, body: `message ${i} of run ${run}, a typical short chat line`, ts: Date.now(), seq: i + 1 };
  });
}

async function measure(method: Method, batch: number, run: number): Promise<Measured> {
  const url = await createTestDatabase();
  await migrate(url);
  const store = SequelizeMessageStore.connect(url, { insertMethod: method === 'logged' ? 'unnest' : method, poolMax: 2 });
  try {
    const msgs = method === 'logged' ? makeLogged(ROWS, run) : makeMessages(ROWS, run);
    const insert = method === 'logged' ? (m: NewMessage[]) => store.insertLogged(m as Message[]) : (m: NewMessage[]) => store.insertBatch(m);
    await insert(msgs.slice(0, 10)); // warm the pool
    const started = performance.now();
    const cpuBefore = postgresCpuSec();
    let statements = 0;
    for (let i = 10; i < msgs.length; i += batch, statements++) await insert(msgs.slice(i, i + batch));
    return { rowsPerSec: (ROWS - 10) / ((performance.now() - started) / 1000), statements, postgresCpuSec: postgresCpuSec() - cpuBefore };
  } finally {
    await store.close();
  }
}

try {
  process.stdout.write(`rows=${ROWS} batches=${BATCHES.join(',')} node=${process.version}\n`);
  let run = 0;
  for (const batch of BATCHES) {
    for (const method of METHODS) {
      const m = await measure(method, batch, run++);
      // CPU ticks are 10 ms: the per-row figure needs a run of a second or more of Postgres time.
      const cpu = m.postgresCpuSec > 0
        ? `, postgres ${(m.postgresCpuSec * 1e6 / (ROWS - 10)).toFixed(1)} µs/row, ${fmt(m.postgresCpuSec * 1e6 / m.statements)} µs/statement`
        : '';
      process.stdout.write(`${method.padEnd(10)} batch=${String(batch).padEnd(5)} ${fmt(m.rowsPerSec)} rows/s${cpu}\n`);
    }
  }
} finally {
  await stopStartedServices();
}
