/** Messages between the bench (room-load.ts) and its room workers (room-worker.ts), over fork IPC. */
import type { Ready, SecondStats } from './worker-protocol.ts';

/** Connect members lo ≤ i < hi of the room (member i on node i % wsUrls.length). */
export interface RoomInit {
  type: 'init';
  worker: number;
  /** Members are `${userPrefix}${i}`. */
  userPrefix: string;
  lo: number;
  hi: number;
  wsUrls: string[];
  localAddresses: string[];
  connectConcurrency: number;
}

/**
 * Send to `room` at a fixed open-loop rate, each message from a random member of this worker:
 * message k of this worker is scheduled at startAt + offsetMs + k·1000/rate.
 */
export interface RoomRun {
  type: 'run';
  room: string;
  startAt: number;
  offsetMs: number;
  warmupMs: number;
  durationMs: number;
  /** This worker's messages per second. */
  rate: number;
  bodyBytes: number;
  /** Messages each worker schedules (index = worker), to size the receive maps. */
  totals: number[];
}

export type RoomParentMsg = RoomInit | RoomRun | { type: 'finish' } | { type: 'exit' };

export interface RoomCounts {
  sent: number; acked: number; errors: number;
  /** Deliveries of a message to a member that had not had it yet, and repeats to one that had. */
  delivered: number; duplicates: number;
  /** Frames that name no message of the run. */
  unknown: number;
  /** Member connections that closed during the run. */
  dropped: number;
}

export interface RoomTick { type: 'tick'; counts: RoomCounts; seconds: SecondStats[] }

export interface RoomFinal {
  type: 'final';
  counts: RoomCounts;
  errorCodes: Record<string, number>;
  /** Over messages scheduled after the warm-up: send→ack, and send→deliver at every recipient. */
  ackHist: string;
  deliverHist: string;
  /** Per own message: 0 unanswered, 1 acked, 2 refused with an error. */
  answers: Uint8Array;
  /** Per source worker and message: how many of this worker's members got it. */
  received: Uint16Array[];
  seconds: SecondStats[];
}

export type RoomWorkerMsg = Ready | RoomTick | RoomFinal;
