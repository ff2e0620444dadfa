/**
 * The baseline: a bare `ws` relay speaking just enough of the protocol (hello → welcome, send → ack
 * at once + message to the recipient), with no validation, persistence, discovery or batching.
 * Its `ack` and `message` frames come from the same builders as the mesh's, so clients see the
 * same bytes from both.
 * One process per "node"; a user's relay is fixed by its index (user i on relay i % count), and a
 * cross-relay message goes over one persistent ws link to the peer relay. It is the upper bound
 * the mesh is compared with.
 *   node --import tsx relay.ts <index> <port,port,...>
 */
import { WebSocket, WebSocketServer } from 'ws';
import { ackFrame, encodeMessageFrame } from '@chat/shared/protocol';

const index = Number(process.argv[2]);
const ports = process.argv[3]!.split(',').map(Number);
const users = new Map<string, WebSocket>();
const peers = new Map<number, WebSocket>();
const pending = new Map<number, string[]>();

const relayOf = (user: string) => Number(user.slice(user.search(/\d+$/))) % ports.length;

function deliverLocal(to: string, frame: string): void {
  users.get(to)?.send(frame);
}

function toPeer(relay: number, line: string): void {
  const ws = peers.get(relay);
  if (ws?.readyState === WebSocket.OPEN) return ws.send(line);
  const queue = pending.get(relay);
  if (queue) return void queue.push(line);
  pending.set(relay, [line]);
  const link = new WebSocket(`ws://127.0.0.1:${ports[relay]}/peer`, { perMessageDeflate: false });
  peers.set(relay, link);
  link.on('open', () => { for (const l of pending.get(relay) ?? []) link.send(l); pending.delete(relay); });
  link.on('error', (err) => process.stderr.write(`relay ${index}: peer ${relay}: ${err.message}\n`));
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: ports[index], perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  if (req.url === '/peer') {
    // A peer relay: each frame is "<to>\n<message frame>".
    ws.on('message', (data) => {
      const s = data.toString();
      const nl = s.indexOf('\n');
      deliverLocal(s.slice(0, nl), s.slice(nl + 1));
    });
    return;
  }
  let me = '';
  let n = 0;
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as { type: string; user?: string; to?: string; body?: string; cid?: string };
    if (f.type === 'hello') {
      me = f.user ?? '';
      users.set(me, ws);
      return ws.send(JSON.stringify({ type: 'welcome', user: me, node: `relay-${index}` }));
    }
    if (f.type !== 'send' || !f.to) return;
    const m = { id: `${index}-${++n}`, seq: n, cid: f.cid as string, from: me, to: f.to, body: f.body as string, ts: Date.now() };
    ws.send(JSON.stringify(ackFrame(m.cid, m)));
    const frame = encodeMessageFrame(m);
    const relay = relayOf(f.to);
    if (relay === index) deliverLocal(f.to, frame);
    else toPeer(relay, `${f.to}\n${frame}`);
  });
  ws.on('close', () => { if (users.get(me) === ws) users.delete(me); });
});
wss.on('listening', () => process.stdout.write(`{"msg":"listening","port":${ports[index]}}\n`));
process.on('SIGTERM', () => process.exit(0));
