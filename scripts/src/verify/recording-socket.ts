/**
 * A `ws` WebSocket that shows every frame it receives to a listener before the client library
 * handles it. The library passes a message on once, whether it came live or in a catch-up page;
 * the raw frames tell the two apart, and show every `ack`, also a second one for a repeated cid.
 */
import WebSocket from 'ws';

export type FrameListener = (frame: { type?: unknown; [field: string]: unknown }) => void;

/** A WebSocket class for ChatClient's `WebSocket` option whose sockets report to `onFrame`. */
export function recordingWebSocket(onFrame: FrameListener): new (url: string) => WebSocket {
  return class RecordingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on('message', (data, isBinary) => {
        if (isBinary) return;
        let frame: unknown;
        try {
          frame = JSON.parse(String(data));
        } catch {
          return; // the client library reports a frame that is not JSON
        }
        if (typeof frame === 'object' && frame !== null) onFrame(frame as Parameters<FrameListener>[0]);
      });
    }
  };
}
