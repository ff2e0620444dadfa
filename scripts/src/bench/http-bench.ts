/**
 * CPU per internal request: an undici InternalClient against a fastify server with the cluster
 * HMAC hooks, one request in flight (the light-load case, where every hop carries one message).
 *   npx tsx scripts/src/bench/http-bench.ts [--requests 5000] [--auth on|off]
 */
import { fork } from 'node:child_process';
import Fastify from 'fastify';
import { flagsToEnv } from '@chat/shared/config';
import { InternalClient } from '@chat/shared/internal-client';
import { registerInternalAuth } from '@chat/shared/internal-auth-fastify';

const secret = 'x'.repeat(32);
const flags = flagsToEnv(process.argv.slice(2));
const arg = (name: string, dflt: string) => flags[name.toUpperCase()] ?? dflt;

if (process.argv[2] === 'server') {
  const app = Fastify();
  if (arg('auth', 'on') === 'on') registerInternalAuth(app, { secret });
  app.post('/internal/echo', async (req) => ({ n: (req.body as { items: unknown[] }).items.length }));
  app.get('/cpu', async () => process.cpuUsage());
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!((app.server.address() as { port: number }).port);
} else {
  const child = fork(new URL(import.meta.url).pathname, ['server', '--auth', arg('auth', 'on')], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
  const base = `http://127.0.0.1:${port}`;
  const client = new InternalClient({ secret });
  const body = { items: [{ id: '0193a0b0-0000-7000-8000-000000000000', from: 'alice', to: 'bob', cid: 'c1', body: 'x'.repeat(64), ts: Date.now() }] };
  const n = Number(arg('requests', '5000'));
  for (let i = 0; i < 500; i++) await client.post(base, '/internal/echo', body); // warm up
  const serverBefore = await (await fetch(`${base}/cpu`)).json() as NodeJS.CpuUsage;
  const before = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await client.post(base, '/internal/echo', body);
  const wall = performance.now() - t0;
  const mine = process.cpuUsage(before);
  const serverAfter = await (await fetch(`${base}/cpu`)).json() as NodeJS.CpuUsage;
  const us = (c: { user: number; system: number }) => ((c.user + c.system) / n).toFixed(0);
  console.log(`auth ${arg('auth', 'on')}: ${n} requests, ${(wall * 1000 / n).toFixed(0)} µs each (wall), client CPU ${us(mine)} µs, server CPU ${us({ user: serverAfter.user - serverBefore.user, system: serverAfter.system - serverBefore.system })} µs per request`);
  await client.close();
  child.kill();
}
