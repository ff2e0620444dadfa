/**
 * `/readyz` of every service: one named check per dependency, each answered "ok" or "down: <why>",
 * so an operator (or a load balancer's log) sees which dependency took a service out, not an
 * opaque "All promises were rejected". Only dependencies a service needs to do its job are checks:
 * a node that can accept, store and deliver messages is ready even while a persister rejoins its
 * consumer group.
 */
import type { FastifyInstance } from 'fastify';
import { FailureLog } from './failure-log.ts';
import type { Logger } from './logger.ts';
import { withTimeout } from './timeout.ts';

/** Resolves when the dependency is usable; rejects (or throws) with the reason when it is not. */
export type ReadinessCheck = () => Promise<unknown> | unknown;

export interface Readiness {
  ready: boolean;
  /** Each check's state: `ok`, or `down: <reason>`. */
  checks: Record<string, string>;
}

/** Run every check at once, each bounded by `timeoutMs`. */
export async function checkReadiness(checks: Record<string, ReadinessCheck>, timeoutMs: number): Promise<Readiness> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(names.map((name) => withTimeout(Promise.resolve().then(checks[name]), timeoutMs, `answer from the ${name} check`)));
  const states: Record<string, string> = {};
  names.forEach((name, i) => {
    const r = results[i]!;
    states[name] = r.status === 'fulfilled' ? 'ok' : `down: ${reasonOf(r.reason)}`;
  });
  return { ready: results.every((r) => r.status === 'fulfilled'), checks: states };
}

// Any server, request or logger type: each service builds its fastify instance its own way.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFastify = FastifyInstance<any, any, any, any, any>;

/** `GET /readyz`: 200 with the checks when all pass, 503 with them when any fails (logged once per interval). */
export function registerReadiness(app: AnyFastify, checks: Record<string, ReadinessCheck>, opts: { logger: Logger; timeoutMs?: number }): void {
  const failures = new FailureLog(opts.logger);
  app.addHook('onClose', async () => failures.close());
  app.get('/readyz', async (_req, reply) => {
    const readiness = await checkReadiness(checks, opts.timeoutMs ?? 2000);
    if (readiness.ready) return readiness;
    failures.record('not ready', { checks: readiness.checks });
    return reply.code(503).send(readiness);
  });
}

function reasonOf(err: unknown): string {
  if (err instanceof AggregateError) return err.errors.map(reasonOf).join('; ');
  return err instanceof Error ? err.message : String(err);
}
