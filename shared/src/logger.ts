import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Tests hand in a stream to assert on records. */
  destination?: DestinationStream;
}

/** The one pino setup of every service; secrets and tokens never reach a log line. */
export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      redact: {
        paths: ['authSecret', 'clusterSecret', 'token', '*.token', 'req.headers.authorization', 'req.headers["x-cluster-auth"]', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
