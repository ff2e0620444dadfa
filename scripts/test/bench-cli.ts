/** Runs the bench through its real CLI for the smoke tests, in a directory of its own that is removed after. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'scripts/src/bench/main.ts');

/** `npm run bench -- ARGS --quiet`: what it printed and the results file it wrote (parsed). */
export async function runBenchCli<T>(args: string[]): Promise<{ stdout: string; report: T }> {
  const out = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', MAIN, ...args, '--quiet', '--out', out],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
        (err, so, se) => (err ? reject(new Error(`bench failed: ${err.message}\n${se}`)) : resolve(so)));
    });
    const file = /results: (.+\.json)/.exec(stdout)?.[1];
    if (!file) throw new Error(`no results file in:\n${stdout}`);
    return { stdout, report: JSON.parse(await readFile(file, 'utf8')) as T };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
