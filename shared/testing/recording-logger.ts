/** A logger whose records a test can assert on: pino writes one JSON line per record, kept parsed in `lines`. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../src/logger.ts';

export function recordingLogger(service = 'test'): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service, destination }) };
}
