/**
 * `npm start`: the whole mesh on one machine. sv-discover, sv-persist (embedded Postgres when no
 * DATABASE_URL) and two sv-websocket nodes; prints the /client addresses; Ctrl-C stops everything.
 * REDIS_URL, DATABASE_URL, KAFKA_BROKERS and the other variables pass through to the services.
 */
import { startService, type ServiceProcess } from '@chat/shared/service-process';

const NODE_PORTS = (process.env.NODE_PORTS ?? '3001,3002').split(',').map((p) => p.trim()).filter(Boolean);
const DISCOVER_PORT = process.env.DISCOVER_PORT ?? '3000';
const PERSIST_PORT = process.env.PERSIST_PORT ?? '3100';
const running: ServiceProcess[] = [];

/** One line per log record: `[service] level message`, the raw line when it is not JSON. */
function printer(label: string) {
  const levels: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  return (line: string) => {
    try {
      const rec = JSON.parse(line) as { level: number; msg: string; err?: { message?: string } };
      const extra = rec.err?.message ? ` (${rec.err.message})` : '';
      process.stdout.write(`[${label}] ${levels[rec.level] ?? rec.level} ${rec.msg}${extra}\n`);
    } catch {
      process.stdout.write(`[${label}] ${line}\n`);
    }
  };
}

async function stopAll(): Promise<void> {
  // Nodes first (they flush into sv-persist and deregister from sv-discover), then the rest.
  const nodes = running.filter((p) => p.name === 'sv-websocket');
  await Promise.all(nodes.map((p) => p.stop()));
  await Promise.all(running.filter((p) => p.name !== 'sv-websocket').map((p) => p.stop()));
}

async function main(): Promise<void> {
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping…\n');
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  process.stdout.write('starting sv-discover and sv-persist (the first start initialises Postgres under ./data)…\n');
  const [discover, persist] = await Promise.all([
    startService('sv-discover', { PORT: DISCOVER_PORT }, { onLine: printer('discover') }),
    startService('sv-persist', { PORT: PERSIST_PORT }, { onLine: printer('persist'), timeoutMs: 180_000 }),
  ]);
  running.push(discover, persist);
  const nodes = await Promise.all(NODE_PORTS.map((port) => startService('sv-websocket', {
    PORT: port,
    NODE_ID: process.env.NODE_ID_PREFIX ? `${process.env.NODE_ID_PREFIX}${port}` : `node-${port}`,
    DISCOVER_URL: discover.url,
    PERSIST_URL: persist.url,
  }, { onLine: printer(`ws:${port}`) })));
  running.push(...nodes);

  process.stdout.write('\nThe mesh is up. Open the test page on each node and chat across them:\n');
  for (const n of nodes) process.stdout.write(`  ${n.url}/client\n`);
  process.stdout.write(`Add a node: npm run ws -- --port 3003\nCtrl-C stops everything.\n\n`);

  // A service that dies takes the mesh down with a clear message rather than limping on.
  for (const p of running) {
    void p.exited.then((code) => {
      if (stopping) return;
      process.stderr.write(`${p.name} on port ${p.port} exited (${code}); stopping the mesh\n`);
      shutdown();
    });
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`could not start the mesh: ${(err as Error).message}\n`);
  await stopAll();
  process.exit(1);
});
