/**
 * The peer product as a bench target: `count` Socket.IO servers (socketio-server.ts, one process
 * each) on a private redis-server started on a free port for this run and stopped with it. User i
 * connects to server i % count, as on the mesh. CPU is read from both servers and that Redis.
 */
import { fileURLToPath } from 'node:url';
import { startPrivateRedis } from '@chat/shared/testing/private-redis';
import { findRedisServer } from './proc-stats.ts';
import { startScripts } from './script-process.ts';
import type { Target } from './targets.ts';

const SERVER = fileURLToPath(new URL('./socketio-server.ts', import.meta.url));

export async function startSocketIo(count: number): Promise<Target> {
  const redis = await startPrivateRedis();
  try {
    const redisPid = findRedisServer(redis.port, process.pid);
    if (redisPid === undefined) throw new Error(`the redis-server started on port ${redis.port} is not among this process's children`);
    const servers = await startScripts(SERVER, count, (i, ports) => [String(i), String(ports[i]), redis.url]);
    return {
      label: 'socketio',
      protocol: 'socketio',
      wsUrls: servers.ports.map((p) => `http://127.0.0.1:${p}`),
      nodeUrls: [],
      serviceUrls: [],
      groups: [...servers.children.map((c, i) => ({ name: `node-${i}`, pid: c.pid! })), { name: 'redis', pid: redisPid }],
      kafka: false,
      async stop() {
        await servers.stop();
        await redis.kill();
      },
    };
  } catch (err) {
    await redis.kill();
    throw err;
  }
}
