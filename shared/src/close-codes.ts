/** WebSocket close codes the server uses (after hocuspocus CloseEvents); reasons stay under 123 bytes. */
export interface CloseCode {
  code: number;
  reason: string;
  /** Whether a client should reconnect after it. */
  reconnect: boolean;
}

export const CLOSE = {
  /** No valid `hello` within the deadline, or a bad token. */
  UNAUTHORIZED: { code: 4401, reason: 'unauthorized', reconnect: false },
  /** A frame over the size limit (ws closes with 1009 itself when maxPayload is passed). */
  TOO_LARGE: { code: 1009, reason: 'frame too large', reconnect: true },
  /** The node is shutting down: reconnect, to this node's successor or another one. */
  GOING_AWAY: { code: 1001, reason: 'node shutting down', reconnect: true },
  /** The client does not read fast enough; its unsent buffer passed the bound. */
  SLOW_CONSUMER: { code: 1013, reason: 'slow consumer', reconnect: true },
} as const satisfies Record<string, CloseCode>;
