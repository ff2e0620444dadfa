/**
 * The run's users, in pairs: each user a client of the client library (reconnecting over every
 * node with backoff, resending unacked sends with their cid, catching up), sending to its partner
 * and receiving from it. The two of a pair start on different nodes, so their messages cross the
 * mesh. Every send, ack and delivery goes to the Recorder.
 */
import { randomBytes } from 'node:crypto';
import { ChatClient } from '@chat/shared/client/chat-client.js';
import type { Ack, WireMessage } from '@chat/shared/protocol';
import type { Credentials } from './credentials.ts';
import { recordingWebSocket } from './recording-socket.ts';
import type { Recorder } from './records.ts';

export class Participant {
  readonly client: ChatClient;
  partner!: Participant;
  private count = 0;

  constructor(readonly user: string, private readonly recorder: Recorder, o: { urls: string[]; start: number; credentials: Credentials; maxQueue: number }) {
    const WebSocket = recordingWebSocket((frame) => {
      if (frame.type === 'ack') recorder.wireAck(user, frame as unknown as Ack);
      else if (frame.type === 'message') recorder.liveMessage(user, frame as unknown as WireMessage);
      else if (frame.type === 'error' && typeof frame.cid === 'string') recorder.errorAnswer(String(frame.code));
    });
    this.client = new ChatClient({ urls: o.urls, start: o.start, ...o.credentials, WebSocket, maxQueue: o.maxQueue });
    this.client.on('message', (m) => recorder.passedOn(user, m));
  }

  get online(): boolean {
    return this.client.state === 'open';
  }

  /** One open-loop send to the partner: recorded now, its ack or refusal when it comes. */
  send(): void {
    const cid = `v-${++this.count}`;
    const body = `verify ${this.user} #${this.count}`;
    const to = this.partner.user;
    this.recorder.sent(this.user, to, cid, body);
    this.client.send(to, body, { cid }).then(
      (ack) => this.recorder.acked(this.user, ack, this.partner.online),
      (err: { code?: string; message?: string }) => this.recorder.refused(this.user, cid, err.code ?? String(err.message)),
    );
  }
}

export interface PairOptions {
  /** Node URLs; user i of pair k starts on node (k + i) mod the count. */
  urls: string[];
  users: number;
  recorder: Recorder;
  credentials: (user: string) => Promise<Credentials>;
  maxQueue: number;
}

/** `users` participants (an even number), paired 0–1, 2–3, …, under names unique to this run. */
export async function createPairs(o: PairOptions): Promise<Participant[]> {
  const run = randomBytes(4).toString('hex');
  const all: Participant[] = [];
  for (let i = 0; i < o.users; i++) {
    const user = `verify-${run}-${i}`;
    const start = (Math.floor(i / 2) + (i % 2)) % o.urls.length;
    all.push(new Participant(user, o.recorder, { urls: o.urls, start, credentials: await o.credentials(user), maxQueue: o.maxQueue }));
  }
  for (let i = 0; i < all.length; i += 2) {
    all[i]!.partner = all[i + 1]!;
    all[i + 1]!.partner = all[i]!;
  }
  return all;
}

/** Resolves once every participant is welcomed; rejects naming the nodes when not within `timeoutMs`. */
export async function connectAll(all: Participant[], urls: string[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const waiting = all.filter((p) => !p.online).length;
      reject(new Error(`${waiting} of ${all.length} clients could not connect within ${timeoutMs / 1000} s to ${urls.join(', ')}`));
    }, timeoutMs);
  });
  try {
    await Promise.race([Promise.all(all.map((p) => p.client.connect())), late]);
  } catch (err) {
    if ((err as { code?: string }).code !== 'unauthorized') throw err;
    throw new Error(`the nodes refused the clients' credentials (${(err as Error).message}): for a deployment with AUTH_MODE=jwt set its AUTH_SECRET in verify's environment; for dev authentication leave AUTH_SECRET unset`);
  } finally {
    clearTimeout(timer);
  }
}
