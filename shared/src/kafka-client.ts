/**
 * The kafkajs client of every service: kafkajs's log lines routed to the service's pino logger
 * (warn and up) instead of its own console JSON, and, for producers, bounded retries and timeouts
 * so a send to an unreachable broker fails within about `sendTimeoutMs`.
 */
import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from './logger.ts';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  /** Budget of one produce, retries included; unset keeps kafkajs's defaults (consumers). */
  sendTimeoutMs?: number;
}

export function createKafka(opts: KafkaClientOptions, logger: Logger): Kafka {
  const budget = opts.sendTimeoutMs;
  return new Kafka({
    brokers: opts.brokers,
    clientId: opts.clientId,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ module: 'kafkajs' })),
    ...(budget === undefined ? {} : {
      // A request that hangs ends within the budget; a refused connection fails at once.
      requestTimeout: budget,
      enforceRequestTimeout: true,
      connectionTimeout: Math.min(1000, budget),
      // A couple of quick retries ride out a leader change; beyond that the caller answers
      // `unavailable` and the client retries with the same cid.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: Math.max(100, Math.floor(budget / 2)) },
    }),
  });
}

/** kafkajs `logCreator` writing to pino: the level maps across, kafkajs's fields become pino fields. */
export function pinoLogCreator(logger: Logger): logCreator {
  return () => ({ namespace, level, log }: LogEntry) => {
    const { message, timestamp: _timestamp, ...fields } = log;
    const record = { namespace, ...fields };
    switch (level) {
      case logLevel.ERROR: return logger.error(record, message);
      case logLevel.WARN: return logger.warn(record, message);
      case logLevel.INFO: return logger.info(record, message);
      case logLevel.DEBUG: return logger.debug(record, message);
      default: return undefined;
    }
  };
}
