/**
 * The peer product the mesh is compared with: one Socket.IO 4 server, scaled out the way Socket.IO
 * documents it, with @socket.io/redis-adapter. WebSocket transport only. A socket names its user
 * in the handshake's auth and joins a room named after the user; `send` {to, cid, body} goes out
 * with io.to(to).emit('message', …) (the adapter publishes it on Redis to every other server, and
 * the server holding the room delivers it) and is answered at once through the ack callback, like
 * the bare relay answers: nothing is stored.
 *   node --import tsx socketio-server.ts <index> <port> <redis url>
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const index = Number(process.argv[2]);
const port = Number(process.argv[3]);
const redisUrl = process.argv[4]!;

const logError = (what: string) => (err: Error) => process.stderr.write(`socketio-server ${index}: ${what}: ${err.message}\n`);
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
pub.on('error', logError('redis'));
sub.on('error', logError('redis subscriber'));

const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false, adapter: createAdapter(pub, sub) });

io.use((socket, next) => {
  const user: unknown = socket.handshake.auth.user;
  next(typeof user === 'string' && user !== '' ? undefined : new Error('auth.user (a non-empty string) is required'));
});

let n = 0;
io.on('connection', (socket) => {
  const user = socket.handshake.auth.user as string;
  void socket.join(user);
  socket.on('send', (m: unknown, ack: unknown) => {
    if (typeof ack !== 'function') return;
    const f = (typeof m === 'object' && m !== null ? m : {}) as { to?: unknown; cid?: unknown; body?: unknown };
    if (typeof f.to !== 'string' || typeof f.body !== 'string') return void ack({ error: 'bad_request' });
    const id = `${index}-${++n}`;
    const ts = Date.now();
    ack({ id, seq: n, ts });
    io.to(f.to).emit('message', { id, seq: n, cid: f.cid, from: user, to: f.to, body: f.body, ts });
  });
});

// The adapter subscribed on `sub` when the namespace was created; a PING queued behind that
// subscription answers once Redis has it, so no message published after "listening" is missed.
await sub.ping();
http.listen(port, '127.0.0.1', () => process.stdout.write(`{"msg":"listening","port":${port}}\n`));
process.on('SIGTERM', () => process.exit(0));
