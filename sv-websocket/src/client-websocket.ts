/**
 * What a client session needs of its connection: the `ws` WebSocket satisfies `ClientWebSocket`
 * and the TCP socket under it `CorkableStream`, so the node hands a session the real pair and a
 * unit test hands it fakes.
 */
import type { RawData } from 'ws';

/** The WebSocket side of a client connection. */
export interface ClientWebSocket {
  /** `WebSocket.OPEN` while frames can be sent. */
  readonly readyState: number;
  /** Bytes sent on this connection and not yet taken by the kernel. */
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

/** The TCP side: held back (corked) while a turn's frames gather, written in one go on uncork. */
export interface CorkableStream {
  cork(): void;
  uncork(): void;
}
