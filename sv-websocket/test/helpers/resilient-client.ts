/**
 * A protocol client that survives faults, as a well-behaved browser client would (docs/protocol.md):
 * it reconnects over a list of nodes with full-jitter exponential backoff (AWS "Exponential Backoff
 * and Jitter": sleep = random(0, min(cap, base · 2^attempt))), resends every unacked `send` with the
 * same `cid` (the server dedups), and after each reconnect catches up every conversation with
 * `history after` the highest `seq` it received there. Everything it received, live or through
 * history, is kept once by `id`.
 *
 * The catch-up mark counts received messages (live `message` frames and history pages), not the
 * client's own acks: an ack can carry a higher seq than a peer's message that was accepted just
 * before it and is still being forwarded, and catching up after the ack would skip that message.
 */
import WebSocket from 'ws';
import type { Ack, ConversationsReply, HistoryReply, ServerFrame, WireMessage } from '@chat/shared/protocol';

export interface ResilientClientOptions {
  /** Base URLs of the nodes (http://host:port), tried in turn. */
  urls: string[];
  /** Index in `urls` of the first node to try. @default 0 */
  first?: number;
  /** Backoff base and cap, ms. @default 50, 1000 */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A connection that has not said `welcome` within this is dropped. @default 3000 */
  welcomeTimeoutMs?: number;
  /** Application ping period; a connection that misses a pong is dropped. 0 disables. @default 0 */
  pingMs?: number;
}

interface PendingSend {
  to: string;
  body: string;
  resolve: (ack: Ack) => void;
  reject: (err: Error) => void;
}

interface QueryWaiter {
  resolve: (f: HistoryReply | ConversationsReply) => void;
  reject: (err: Error) => void;
}

const RETRIABLE = new Set(['unavailable', 'rate_limited']);

export class ResilientClient {
  /** Every message received, live or through history, by id. */
  readonly received = new Map<string, WireMessage>();
  /** Acks of this client's sends, by cid. */
  readonly acks = new Map<string, Ack>();
  /** Node ids each cid was sent through (every attempt). */
  readonly sentThrough = new Map<string, Set<string>>();
  /** The node of each welcome, in order: more than one means it reconnected. */
  readonly welcomes: string[] = [];
  /** Messages first seen through a history catch-up (not live). */
  caughtUp = 0;
  private readonly watermark = new Map<string, number>();
  private readonly peers = new Set<string>();
  private readonly pending = new Map<string, PendingSend>();
  private queryWaiters: QueryWaiter[] = [];
  private ws: WebSocket | undefined;
  private node: string | undefined;
  private closed = false;
  private syncing: Promise<void> = Promise.resolve();
  private connectedWaiters: (() => void)[] = [];
  private loop: Promise<void> | undefined;
  private readonly o: Required<ResilientClientOptions>;

  constructor(readonly user: string, opts: ResilientClientOptions) {
    this.o = { first: 0, baseDelayMs: 50, maxDelayMs: 1000, welcomeTimeoutMs: 3000, pingMs: 0, ...opts };
  }

  /** Connect; resolves at the first `welcome`. */
  async start(): Promise<void> {
    this.loop = this.run();
    await this.connected();
  }

  /** The node currently connected to, if any. */
  get currentNode(): string | undefined {
    return this.node;
  }

  /** Resolves once connected (after a reconnect, once its catch-up is done too). */
  async connected(): Promise<void> {
    if (!this.node) await new Promise<void>((r) => this.connectedWaiters.push(r));
    await this.syncing;
  }

  /** Send, resending with the same cid across reconnects until acked; rejects only on a refusal. */
  send(to: string, body: string, cid: string): Promise<Ack> {
    const done = this.acks.get(cid);
    if (done) return Promise.resolve(done);
    this.peers.add(to);
    return new Promise<Ack>((resolve, reject) => {
      this.pending.set(cid, { to, body, resolve, reject });
      this.transmit(cid);
    });
  }

  /** Catch every known conversation up with `history after` its mark (0 when `fromStart`). */
  async catchUp(fromStart = false): Promise<void> {
    // Marks are taken now, before any await: a live message arriving meanwhile raises the
    // watermark past messages that were missed while disconnected, and catching up after the
    // raised mark would skip them.
    const marks = new Map(fromStart ? [] : this.watermark);
    const list = (await this.query({ type: 'conversations', limit: 200 })) as ConversationsReply;
    for (const item of list.items) this.peers.add(item.with);
    for (const peer of this.peers) {
      let after = marks.get(peer) ?? 0;
      for (;;) {
        const page = (await this.query({ type: 'history', with: peer, after, limit: 200 })) as HistoryReply;
        for (const m of page.messages) this.record(m, true);
        if (!page.more || page.messages.length === 0) break;
        after = page.messages[page.messages.length - 1]!.seq;
      }
    }
  }

  /** Messages addressed to this user (live + caught up). */
  messagesToMe(): WireMessage[] {
    return [...this.received.values()].filter((m) => m.to === this.user);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ws?.terminate();
    await this.loop;
    for (const p of this.pending.values()) p.reject(new Error('client closed'));
    this.pending.clear();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let i = this.o.first;
    while (!this.closed) {
      const url = this.o.urls[i % this.o.urls.length]!;
      try {
        await this.session(url);
        attempt = 0; // it was welcomed: start the backoff over
      } catch {
        attempt++;
      }
      if (this.closed) return;
      i++; // the node just left may be the dead one: try the next
      const cap = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(attempt, 20));
      await new Promise((r) => setTimeout(r, Math.random() * cap));
    }
  }

  /** One connection: resolves when a welcomed connection closes, rejects when it never got welcome. */
  private session(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws');
      let welcomed = false;
      let ponged = true;
      let pinger: NodeJS.Timeout | undefined;
      const welcomeTimer = setTimeout(() => ws.terminate(), this.o.welcomeTimeoutMs);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', user: this.user })));
      ws.on('error', () => {}); // the close that follows reports it
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as ServerFrame;
        if (frame.type === 'welcome' && !welcomed) {
          welcomed = true;
          clearTimeout(welcomeTimer);
          if (this.o.pingMs > 0) {
            pinger = setInterval(() => {
              if (!ponged) return void ws.terminate();
              ponged = false;
              ws.send(JSON.stringify({ type: 'ping' }));
            }, this.o.pingMs);
          }
          this.onWelcome(ws, frame.node);
        } else if (frame.type === 'pong') {
          ponged = true;
        } else {
          this.onFrame(frame);
        }
      });
      ws.on('close', () => {
        clearTimeout(welcomeTimer);
        clearInterval(pinger);
        if (this.ws === ws) this.onDisconnect();
        if (welcomed) resolve();
        else reject(new Error(`no welcome from ${url}`));
      });
      if (this.closed) ws.terminate();
    });
  }

  private onWelcome(ws: WebSocket, node: string): void {
    this.ws = ws;
    this.node = node;
    this.welcomes.push(node);
    for (const cid of this.pending.keys()) this.transmit(cid);
    if (this.welcomes.length > 1) {
      // A failed catch-up (the new node died too) is redone after the next reconnect.
      this.syncing = this.catchUp().catch(() => undefined);
    }
    for (const w of this.connectedWaiters.splice(0)) w();
  }

  private onDisconnect(): void {
    this.ws = undefined;
    this.node = undefined;
    for (const w of this.queryWaiters.splice(0)) w.reject(new Error('disconnected'));
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'ack': {
        this.acks.set(frame.cid, frame);
        const p = this.pending.get(frame.cid);
        this.pending.delete(frame.cid);
        p?.resolve(frame);
        return;
      }
      case 'message': {
        const { type: _, ...m } = frame;
        this.record(m, false);
        return;
      }
      case 'history':
      case 'conversations':
        return this.queryWaiters.shift()?.resolve(frame);
      case 'error': {
        if (frame.cid === undefined) return this.queryWaiters.shift()?.reject(new Error(`${frame.code}: ${frame.message}`));
        const p = this.pending.get(frame.cid);
        if (!p) return;
        if (!RETRIABLE.has(frame.code)) {
          this.pending.delete(frame.cid);
          return p.reject(new Error(`send ${frame.cid} refused: ${frame.code}`));
        }
        const cid = frame.cid;
        setTimeout(() => this.transmit(cid), Math.random() * this.o.maxDelayMs);
        return;
      }
    }
  }

  private transmit(cid: string): void {
    const p = this.pending.get(cid);
    const ws = this.ws;
    if (!p || !ws || ws.readyState !== WebSocket.OPEN) return; // resent after the next welcome
    const through = this.sentThrough.get(cid) ?? new Set<string>();
    through.add(this.node!);
    this.sentThrough.set(cid, through);
    ws.send(JSON.stringify({ type: 'send', to: p.to, body: p.body, cid }));
  }

  private query(frame: unknown): Promise<HistoryReply | ConversationsReply> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      this.queryWaiters.push({ resolve, reject });
      ws.send(JSON.stringify(frame));
    });
  }

  private record(m: WireMessage, viaHistory: boolean): void {
    if (!this.received.has(m.id)) {
      this.received.set(m.id, m);
      if (viaHistory) this.caughtUp++;
    }
    const peer = m.from === this.user ? m.to : m.from;
    this.peers.add(peer);
    if (m.seq > (this.watermark.get(peer) ?? 0)) this.watermark.set(peer, m.seq);
  }
}
