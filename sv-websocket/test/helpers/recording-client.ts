/**
 * The client library (shared/client/chat-client.js) with the bookkeeping fault tests check it
 * against: every message it passed on, its acks, the nodes each send went through, and a
 * "reload" that reads every conversation from the start.
 */
import WebSocket from 'ws';
import { ChatClient } from '@chat/shared/client/chat-client.js';
import type { Ack, WireMessage } from '@chat/shared/protocol';

/** Every message of the conversation with `peer`, paging `after` from the start. */
export async function wholeConversation(client: ChatClient, peer: string): Promise<WireMessage[]> {
  const all: WireMessage[] = [];
  for (let after = 0; ;) {
    const page = await client.history(peer, { after, limit: 200 });
    all.push(...page.messages);
    if (!page.more || page.messages.length === 0) return all;
    after = page.messages[page.messages.length - 1]!.seq;
  }
}

export interface RecordingClientOptions {
  /** Base URLs of the nodes, tried in turn. */
  urls: string[];
  /** Index in `urls` of the first node to try. */
  first: number;
}

export class RecordingClient {
  readonly client: ChatClient;
  /** Every message passed on (live or caught up) or read by `reload`, by id. */
  readonly received = new Map<string, WireMessage>();
  /** Acks of this client's sends, by cid. */
  readonly acks = new Map<string, Ack>();
  /** Node ids each cid was written to: the node at the send, and each node welcomed before its ack. */
  readonly sentThrough = new Map<string, Set<string>>();
  /** The node of each welcome, in order: more than one means it reconnected. */
  readonly welcomes: string[] = [];
  private synced: Promise<void> = Promise.resolve();

  constructor(readonly user: string, opts: RecordingClientOptions) {
    this.client = new ChatClient({ urls: opts.urls, start: opts.first, user, WebSocket, backoffBaseMs: 50, backoffCapMs: 1000, welcomeTimeoutMs: 3000 });
    this.client.on('message', (m) => this.received.set(m.id, m));
    this.client.on('ack', (a) => this.acks.set(a.cid, a));
    this.client.on('state', (s) => {
      if (s.state !== 'open') return;
      this.welcomes.push(s.node!);
      for (const [cid, nodes] of this.sentThrough) if (!this.acks.has(cid)) nodes.add(s.node!);
      this.synced = new Promise((resolve) => { const off = this.client.on('synced', () => { off(); resolve(); }); });
    });
  }

  /** Connect; resolves at the first `welcome`. */
  start(): Promise<void> {
    return this.client.connect();
  }

  get currentNode(): string | undefined {
    return this.client.node;
  }

  /** Resolves once connected and caught up after the last `welcome`. */
  async connected(): Promise<void> {
    await this.client.connect();
    await this.synced;
  }

  send(to: string, body: string, cid: string): Promise<Ack> {
    const node = this.client.node;
    this.sentThrough.set(cid, new Set(node ? [node] : []));
    return this.client.send(to, body, { cid });
  }

  /** What a page reload shows: every conversation read from its start. */
  async reload(): Promise<void> {
    for (const { with: peer } of await this.client.conversations()) {
      if (peer === undefined) continue; // a room: this client talks one-to-one only
      for (const m of await wholeConversation(this.client, peer)) this.received.set(m.id, m);
    }
  }

  /** Messages addressed to this user. */
  messagesToMe(): WireMessage[] {
    return [...this.received.values()].filter((m) => m.to === this.user);
  }

  close(): void {
    this.client.close();
  }
}
