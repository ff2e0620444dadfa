/**
 * Config loading shared by the services: env vars, overridden by `--kebab-case` flags
 * (`npm run ws -- --port 3003` sets PORT). Each service declares its variables once as a zod
 * object keyed by UPPER_SNAKE names; every bad or missing value is reported in one error that
 * names the variables.
 */
import { z } from 'zod';
import { ERR_CONFIG } from './errors.ts';

/** The development cluster secret: refused when NODE_ENV=production. */
export const DEV_CLUSTER_SECRET = 'dev-cluster-secret-change-me';

/** Turn `--node-id x --port=3` into { NODE_ID: 'x', PORT: '3' }. */
export function flagsToEnv(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = (eq === -1 ? arg.slice(2) : arg.slice(2, eq)).replace(/-/g, '_').toUpperCase();
    if (eq !== -1) out[name] = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) out[name] = argv[++i]!;
    else out[name] = 'true';
  }
  return out;
}

/** Validate env (plus flags) against `schema`; throws ERR_CONFIG listing every bad variable. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
  argv: readonly string[] = [],
): z.infer<S> {
  const merged = { ...env, ...flagsToEnv(argv) };
  // Empty strings mean "unset", as in most shells' `VAR= cmd`.
  for (const key of Object.keys(merged)) if (merged[key] === '') delete merged[key];
  const result = schema.safeParse(merged);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
  throw new ERR_CONFIG(lines.join('\n'));
}

/** Reusable field schemas. */
export const env = {
  port: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def),
  url: () => z.url(),
  bool: (def: boolean) => z.enum(['true', 'false', '1', '0']).default(def ? 'true' : 'false').transform((v) => v === 'true' || v === '1'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  list: () => z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
};

/**
 * The cluster secret: required in production; elsewhere a well-known dev default keeps
 * `npm start` and `npm run ws -- --port N` working with no setup.
 */
export const clusterSecretFields = {
  NODE_ENV: z.string().default('development'),
  CLUSTER_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
};
export function resolveClusterSecret(c: { NODE_ENV: string; CLUSTER_SECRET?: string | undefined }): string {
  if (c.CLUSTER_SECRET) return c.CLUSTER_SECRET;
  if (c.NODE_ENV === 'production') throw new ERR_CONFIG('  CLUSTER_SECRET: required when NODE_ENV=production');
  return DEV_CLUSTER_SECRET;
}

/** Run a service's main, printing config errors as one clear message and exiting 1. */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(e.code === 'CHAT_ERR_CONFIG' ? `${e.message}\n` : `fatal: ${e.stack ?? e}\n`);
    process.exit(1);
  }
}
