/** A client-library ChatClient (Node, the `ws` package) that records everything it reports, for tests against a mesh. */
import WebSocket from 'ws';
import { ChatClient } from '@chat/shared/client/chat-client.js';
import type { Ack, RoomFrame, WireMessage } from '@chat/shared/protocol';

export type ChatClientOptions = ConstructorParameters<typeof ChatClient>[0];

/** A ChatClient with short backoffs, and every message, ack, state, error, room and read it reported, in order. */
export function recorded(opts: ChatClientOptions) {
  const client = new ChatClient({ WebSocket, backoffBaseMs: 50, backoffCapMs: 500, ...opts });
  const events = {
    messages: [] as WireMessage[], acks: [] as Ack[], states: [] as { state: string; node?: string; code?: number }[],
    errors: [] as { code: string; cid?: string; retrying?: boolean }[], rooms: [] as RoomFrame[],
    reads: [] as { by: string; with?: string; room?: string; seq: number }[], synced: 0,
  };
  client.on('message', (m) => events.messages.push(m));
  client.on('ack', (a) => events.acks.push(a));
  client.on('state', (s) => events.states.push(s));
  client.on('error', (e) => events.errors.push(e));
  client.on('room', (r) => events.rooms.push(r));
  client.on('read', (r) => events.reads.push(r));
  client.on('synced', () => { events.synced++; });
  return Object.assign(events, { client });
}
