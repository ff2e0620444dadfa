/**
 * A client connection to the peer product (socketio-server.ts) with socket.io-client: WebSocket
 * transport only, its own connection per user (forceNew: the client would otherwise multiplex
 * every user to one server over one connection) and no reconnection (a dropped user stays
 * offline, as with the chat protocol). The user is named in the handshake's auth; `send` is
 * answered through its ack callback.
 */
import { io } from 'socket.io-client';
import type { ClientConn, Connect } from './client-conn.ts';

/** What socketio-server.ts delivers and acks. */
interface Delivered { body?: string }
interface Answer { id?: string; error?: string }

export const connectSocketIo: Connect = (spec, events) => {
  const socket = io(spec.url, {
    transports: ['websocket'], forceNew: true, reconnection: false, timeout: 60_000, auth: { user: spec.user },
    // Passed on to the `ws` client (engine.io-client picks it from the options), like the chat client's.
    ...({ localAddress: spec.localAddress } as object),
  });
  const conn: ClientConn = {
    get open() { return socket.connected; },
    send(to, cid, body) {
      socket.emit('send', { to, cid, body }, (a: Answer) => (a.error ? events.error(a.error, cid) : events.ack(cid, a.id)));
    },
    close() { socket.disconnect(); },
  };
  return new Promise((resolve) => {
    let connected = false;
    socket.on('connect', () => { connected = true; resolve(conn); });
    socket.on('connect_error', (err) => resolve(err.message));
    socket.on('message', (m: Delivered) => events.message(m.body ?? ''));
    socket.on('disconnect', (reason) => {
      events.closed();
      if (!connected) resolve(`closed before connect: ${reason}`);
    });
  });
};
