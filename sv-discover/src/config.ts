/** sv-discover's configuration: the only file of the service that reads process.env. */
import { z } from 'zod';
import { clusterSecretFields, env, parseConfig, resolveClusterSecret } from '@chat/shared/config';

const schema = z.object({
  PORT: env.port(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: env.url().optional(),
  REDIS_PREFIX: z.string().min(1).max(64).default('chat:'),
  LEASE_SWEEP_MS: env.int(500, 50, 60_000),
  LEASE_MS: env.int(10_000, 1000, 600_000),
  SEND_DEDUPE_TTL_MS: env.int(86_400_000, 1000, 30 * 86_400_000),
  SEND_DEDUPE_MAX_ENTRIES: env.int(1_000_000, 1, 1_000_000_000),
  LOG_LEVEL: env.logLevel(),
  ...clusterSecretFields,
});

export interface Config {
  /** TCP port; 0 picks a free one. @default 3000 */
  port: number;
  /** Interface to listen on. @default 127.0.0.1 */
  host: string;
  /** Redis for the registry; unset keeps it in memory (embedded default, one instance only). */
  redisUrl: string | undefined;
  /** Prefix of every Redis key. @default chat: */
  redisPrefix: string;
  /**
   * How often nodes whose lease ran out are dropped with their entries: their users go offline
   * within the lease plus this. @default 500
   */
  leaseSweepMs: number;
  /**
   * The nodes' lease (their LEASE_MS; the longest, if they differ). A memory registry that starts
   * empty answers lookups as `warming` for a third of it plus a second: by then every live node has
   * renewed and registered its connections again (warm-up.ts). @default 10000
   */
  leaseMs: number;
  /** How long the record of a send lives (Kafka mode: a cid repeated on any node within it gets the original ack). @default 86400000 (24 h) */
  sendDedupeTtlMs: number;
  /** Most records of sends kept in memory (no REDIS_URL); past it the oldest go. @default 1000000 */
  sendDedupeMaxEntries: number;
  logLevel: string;
  /** The cluster secret internal requests must prove. */
  clusterSecret: string;
}

/** Read the config from env and `--kebab-case` flags; throws one error naming every bad variable. */
export function loadConfig(
  source: Record<string, string | undefined> = process.env,
  argv: readonly string[] = process.argv.slice(2),
): Readonly<Config> {
  const c = parseConfig(schema, source, argv);
  return Object.freeze({
    port: c.PORT,
    host: c.HOST,
    redisUrl: c.REDIS_URL,
    redisPrefix: c.REDIS_PREFIX,
    leaseSweepMs: c.LEASE_SWEEP_MS,
    leaseMs: c.LEASE_MS,
    sendDedupeTtlMs: c.SEND_DEDUPE_TTL_MS,
    sendDedupeMaxEntries: c.SEND_DEDUPE_MAX_ENTRIES,
    logLevel: c.LOG_LEVEL,
    clusterSecret: resolveClusterSecret(c),
  });
}
