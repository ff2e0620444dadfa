/** A protocol client for tests and the bench: connect, say hello, await frames by type. Waits on events, never sleeps. */
import WebSocket from 'ws';
import type { ServerFrame } from './protocol.ts';

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

export class TestClient {
  readonly frames: ServerFrame[] = [];
  private waiters: { match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.onFrame(JSON.parse(data.toString()) as ServerFrame));
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Open a socket to `wsUrl` (ws://host:port/ws) without saying hello. */
  static async open(wsUrl: string, opts: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(wsUrl, opts);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    return client;
  }

  /** Open, say hello as `user` (dev mode), and await `welcome`. */
  static async connect(baseUrl: string, user: string): Promise<TestClient> {
    const client = await TestClient.open(baseUrl.replace(/^http/, 'ws') + '/ws');
    client.send({ type: 'hello', user });
    await client.next('welcome');
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next unconsumed frame of `type` (optionally matching), waiting up to `timeoutMs`. */
  next<T extends ServerFrame['type']>(type: T, match: (f: FrameOf<T>) => boolean = () => true, timeoutMs = 10_000): Promise<FrameOf<T>> {
    return this.nextWhere((f) => f.type === type && match(f as FrameOf<T>), `${type} frame`, timeoutMs) as Promise<FrameOf<T>>;
  }

  /** The next unconsumed frame that `test` accepts, whatever its type. */
  nextWhere(test: (f: ServerFrame) => boolean, what = 'matching frame', timeoutMs = 10_000): Promise<ServerFrame> {
    const i = this.frames.findIndex(test);
    if (i !== -1) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { match: test, resolve: (f: ServerFrame) => { clearTimeout(timer); resolve(f); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms; unconsumed: ${JSON.stringify(this.frames).slice(0, 500)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Send a message and await its ack. */
  async sendMessage(to: string, body: string, cid: string): Promise<FrameOf<'ack'>> {
    this.send({ type: 'send', to, body, cid });
    return this.next('ack', (a) => a.cid === cid);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }

  private onFrame(frame: ServerFrame): void {
    const i = this.waiters.findIndex((w) => w.match(frame));
    if (i === -1) return void this.frames.push(frame);
    const [w] = this.waiters.splice(i, 1);
    w!.resolve(frame);
  }
}
