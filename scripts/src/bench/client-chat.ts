/**
 * A client connection speaking the product's protocol (docs/protocol.md) over `ws`: hello →
 * welcome, then `send` frames answered by `ack` or `error`, and `message` frames delivered. The
 * mesh and the bare relay both speak it.
 */
import WebSocket from 'ws';
import type { ClientConn, Connect, ConnEvents } from './client-conn.ts';

function onFrame(raw: string, events: ConnEvents): void {
  // Frames the bench expects: welcome (handled at connect), ack, message, presence, error.
  const f = JSON.parse(raw) as { type: string; cid?: string; id?: string; body?: string; code?: string; user?: string; online?: boolean };
  if (f.type === 'message') return events.message(f.body ?? '');
  if (f.type === 'presence' && f.user !== undefined) return events.presence?.(f.user, f.online === true);
  if (f.type === 'ack' && f.cid) return events.ack(f.cid, f.id);
  if (f.type === 'error') events.error(f.code ?? '?', f.cid);
}

export const connectChat: Connect = (spec, events) => {
  const ws = new WebSocket(spec.url, { localAddress: spec.localAddress, perMessageDeflate: false, handshakeTimeout: 60_000 });
  const conn: ClientConn = {
    get open() { return ws.readyState === WebSocket.OPEN; },
    send(to, cid, body) { ws.send(`{"type":"send","to":"${to}","cid":"${cid}","body":"${body}"}`); },
    sendToRoom(room, cid, body) { ws.send(`{"type":"send","room":"${room}","cid":"${cid}","body":"${body}"}`); },
    watch(users) { ws.send(JSON.stringify({ type: 'watch', users })); },
    close() { ws.terminate(); },
  };
  return new Promise((resolve) => {
    let welcomed = false;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', user: spec.user })));
    ws.on('message', (data) => {
      if (welcomed) return onFrame(data.toString(), events);
      const f = JSON.parse(data.toString()) as { type: string; message?: string };
      if (f.type !== 'welcome') { ws.terminate(); return resolve(`hello refused: ${f.message ?? f.type}`); }
      welcomed = true;
      resolve(conn);
    });
    ws.on('error', (err) => { if (!welcomed) resolve(err.message); });
    ws.on('close', () => {
      events.closed();
      if (!welcomed) resolve('closed before welcome');
    });
  });
};
