/**
 * `npm run verify -- --nodes URL,URL,… | --local [options]`: checks a deployment against the
 * protocol's guarantees under load (and, with --local, under faults it injects) and prints a
 * report. Exit 0 when it passed, 1 when a check failed, 2 for a bad command line, 3 when it could
 * not run. What it checks and how to read the report: docs/reliability.md, "Verify".
 */
import { writeFileSync } from 'node:fs';
import { stopStartedServices } from '@chat/shared/started-services';
import { parseOptions, USAGE, UsageError, type VerifyOptions } from './options.ts';
import { formatReport } from './report.ts';
import { runVerify } from './run.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  let o: VerifyOptions;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  const stop = () => void stopStartedServices().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await runVerify(o, say);
    say(`\n${formatReport(result, o.failOnMissedLive)}`);
    if (o.json) writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
    return result.failures.length === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`verify could not run: ${(err as Error).message}\n`);
    return 3;
  } finally {
    await stopStartedServices();
  }
}

process.exit(await main());
