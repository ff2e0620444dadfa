/**
 * The comparison servers (relay.ts, socketio-server.ts) run as child processes of the bench:
 * `node --import tsx <script> ...`, one per "node", each on a free port, ready once it prints a
 * line with "listening". Each is its own process so its CPU is read from /proc by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from '@chat/shared/free-port';

export interface ScriptProcesses {
  ports: number[];
  children: ChildProcess[];
  stop(): Promise<void>;
}

function stopChild(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
  });
}

function listening(c: ChildProcess, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    createInterface({ input: c.stdout! }).on('line', (l) => { if (l.includes('"listening"')) resolve(); });
    c.once('exit', (code, signal) => reject(new Error(`${script} exited with ${code ?? signal} before listening`)));
  });
}

/** `count` processes of `script`, given their index and every port by `args`; all listening. */
export async function startScripts(script: string, count: number, args: (index: number, ports: number[]) => string[]): Promise<ScriptProcesses> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const children = ports.map((_, i) => spawn(process.execPath, ['--import', 'tsx', script, ...args(i, ports)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const stop = async () => { await Promise.all(children.map(stopChild)); };
  try {
    await Promise.all(children.map((c) => listening(c, script)));
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, children, stop };
}
