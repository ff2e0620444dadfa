/**
 * Every frame to one client leaves through here: encoded, counted, and written together with the
 * other frames the client gets in the same turn of the event loop. A client that does not read is
 * closed (slow consumer) rather than allowed to grow the node's memory.
 */
import { WebSocket } from 'ws';
import { errorFrame, type ServerFrame } from '@chat/shared/protocol';
import type { ClientWebSocket, CorkableStream } from './client-websocket.ts';
import type { Metrics } from './metrics.ts';

export interface SocketWriterOptions {
  /** A connection whose unsent bytes pass this is a slow consumer. */
  maxBufferedBytes: number;
  /** Counts every frame written. */
  framesOut: Metrics['framesOut'];
  /** Called instead of writing when the connection is a slow consumer; closes it (1013). */
  onSlowConsumer: () => void;
}

/** What the parts of a session use to answer their client. */
export type FrameOutput = Pick<SocketWriter, 'send' | 'sendError'>;

export class SocketWriter {
  /** The TCP socket holds this turn's frames until the uncork below (see write). */
  private corked = false;

  constructor(private readonly ws: ClientWebSocket, private readonly tcp: CorkableStream, private readonly opts: SocketWriterOptions) {}

  send(frame: ServerFrame): void {
    this.write(JSON.stringify(frame));
  }

  /** The wire error of `err` (errorFrame maps it to a wire code), with the `cid` it answers. */
  sendError(err: unknown, cid?: string): void {
    this.send(errorFrame(err, cid));
  }

  /** An already-encoded frame: a message is encoded once for all its recipients. */
  write(frame: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!this.corked) {
      // A client that does not read must not grow our memory: close it instead. Checked at the
      // first frame of a turn, so it counts what the kernel did not take in earlier turns, not
      // this turn's frames waiting for the uncork.
      if (this.ws.bufferedAmount > this.opts.maxBufferedBytes) return this.opts.onSlowConsumer();
      // One write for every frame this connection gets in this turn: a completed log batch acks
      // and delivers hundreds of messages in one go, often several to one connection, and each
      // frame written alone is a system call through the whole TCP stack. The uncork runs once
      // the turn's promise callbacks are done (process.nextTick after microtasks).
      // docs/benchmarks.md, corked client sockets: p99 at 15,000 msgs/s 277-286 ms instead of 609-975.
      this.corked = true;
      this.tcp.cork();
      process.nextTick(this.uncork);
    }
    this.opts.framesOut.inc();
    this.ws.send(frame);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.tcp.uncork();
  };
}
