/** Messages between the bench (parent) and its client workers (client-worker.ts), over fork IPC. */

/** chat: the product's protocol (docs/protocol.md), spoken by the mesh and the relay; socketio: the peer product. */
export type ClientProtocol = 'chat' | 'socketio';

/** Connect this worker's share of the users: global user indexes lo ≤ i < hi. */
export interface InitMsg {
  type: 'init';
  worker: number;
  /** Users are `${userPrefix}${i}`; user i lives on node i % wsUrls.length. */
  userPrefix: string;
  lo: number;
  hi: number;
  totalUsers: number;
  /** URL of each node, in node order (ws:// for chat, http:// for Socket.IO). */
  wsUrls: string[];
  protocol: ClientProtocol;
  /** Source addresses, used round-robin by user index (each has its own ephemeral port range). */
  localAddresses: string[];
  /** Handshakes in flight at once. */
  connectConcurrency: number;
}

/** Send at a fixed open-loop rate: message k of this worker is scheduled at startAt + offsetMs + k·1000/rate. */
export interface RunMsg {
  type: 'run';
  /** Monotonic ms (clock.ts) of the first scheduled send, the same for every worker. */
  startAt: number;
  offsetMs: number;
  warmupMs: number;
  durationMs: number;
  /** This worker's messages per second. */
  rate: number;
  /** Share of messages whose recipient is on another node than the sender. */
  cross: number;
  bodyBytes: number;
  /** Number of messages each worker schedules (index = worker), to size the receive maps. */
  totals: number[];
  /** Report every n-th ack's message id for the persistence-lag sampler (0 = never). */
  sampleEvery: number;
}

export type ParentMsg = InitMsg | RunMsg | { type: 'finish' } | { type: 'exit' };

export interface Ready { type: 'ready'; connected: number; failed: number; connectMs: number; firstError?: string }

/** One second of the run (by monotonic second since startAt), as seen by one worker. */
/** One second of the run: sends scheduled in it; acks, errors and deliveries that arrived in it. */
export interface SecondStats { sec: number; sent: number; acked: number; errors: number; delivered: number; deliverHist: string }

export interface Counts { sent: number; acked: number; errors: number; delivered: number; duplicates: number; unknown: number }

export interface Tick { type: 'tick'; counts: Counts; seconds: SecondStats[]; samples: { id: string; sched: number }[] }

export interface Final {
  type: 'final';
  counts: Counts;
  errorCodes: Record<string, number>;
  /** Messages scheduled at or after startAt + warmupMs. */
  ackHist: string;
  deliverHist: string;
  /** Per own message: 0 unanswered, 1 acked, 2 refused with an error. */
  answers: Uint8Array;
  /** Per own message: the recipient's user index. */
  recipients: Int32Array;
  /** Per source worker: how many times each of its messages arrived here. */
  received: Uint8Array[];
  /** User indexes that were not connected at some point (never connected, or dropped). */
  offline: number[];
  seconds: SecondStats[];
}

export type WorkerMsg = Ready | Tick | Final;
