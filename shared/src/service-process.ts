/**
 * Runs a service's main.ts under tsx as a child process and resolves once it logged `listening`.
 * Used by `npm start` (scripts/src/start.ts) and by the integration tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));


export const SERVICE_MAIN = {
  'sv-discover': 'sv-discover/src/main.ts',
  'sv-persist': 'sv-persist/src/main.ts',
  'sv-websocket': 'sv-websocket/src/main.ts',
} as const;

export interface ServiceProcess {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  /** Recent log lines (JSON records as text), for failure messages. */
  logs: string[];
  /** SIGTERM, then SIGKILL after a grace period; resolves on exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  exited: Promise<number | null>;
}

/** Start a service and resolve once it logged `listening`; rejects with its output if it exits first. */
export interface StartOptions {
  timeoutMs?: number;
  /** Every output line (stdout and stderr) as it comes. */
  onLine?: (line: string) => void;
}

export async function startService(service: keyof typeof SERVICE_MAIN, env: Record<string, string>, opts: StartOptions = {}): Promise<ServiceProcess> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const port = env.PORT ? Number(env.PORT) : await freePort();
  // `node --import tsx`, not the tsx CLI: the CLI runs the service in a grandchild, which a
  // SIGKILL of the CLI would leave running.
  // CHAT_NODE_ARGS adds node flags to every service, e.g. "--cpu-prof --cpu-prof-dir=prof" to profile.
  const nodeArgs = (process.env.CHAT_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', SERVICE_MAIN[service]], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const keep = (line: string) => { logs.push(line); if (logs.length > 200) logs.shift(); opts.onLine?.(line); };
  createInterface({ input: child.stderr! }).on('line', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc: ServiceProcess = {
    name: service, port, url: `http://127.0.0.1:${port}`, child, logs, exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${service} did not start within ${timeoutMs} ms:\n${logs.join('\n')}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      if (line.includes('"msg":"listening"')) { clearTimeout(timer); resolve(); }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`${service} exited with ${code} before listening:\n${logs.join('\n')}`)); });
  });
  return proc;
}
