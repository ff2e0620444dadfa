/** Messages between the bench (presence-load.ts) and its presence workers (presence-worker.ts), over fork IPC. */
import type { PresenceEvents } from './presence-match.ts';
import type { Ready } from './worker-protocol.ts';

/** Connect users lo ≤ i < hi (user i on node i % wsUrls.length), each watching its watch list. */
export interface PresenceInit {
  type: 'init';
  userPrefix: string;
  lo: number;
  hi: number;
  totalUsers: number;
  wsUrls: string[];
  localAddresses: string[];
  connectConcurrency: number;
  /** Users each one watches, and the seed of the lists (presence-plan.ts). */
  watchCount: number;
  seed: number;
}

/** Churn: close `rate` of this worker's open connections per second, each opened again `offlineMs` later. */
export interface PresenceRun { type: 'run'; startAt: number; durationMs: number; rate: number; offlineMs: number }

export type PresenceParentMsg = PresenceInit | PresenceRun | { type: 'finish' } | { type: 'exit' };

export interface PresenceCounts {
  /** Connections the churn closed, and opened again (reopenFailed of them did not get a welcome). */
  closed: number; reopened: number; reopenFailed: number;
  /** Connections that closed without the churn closing them. */
  dropped: number;
  /** Presence frames that answered a watch, and those that reported a change. */
  answers: number; frames: number;
  errors: Record<string, number>;
}

/** Changes this worker made and change frames its users received since the previous tick. */
export interface PresenceTick { type: 'tick'; counts: PresenceCounts; changes: PresenceEvents; arrivals: PresenceEvents }

export interface PresenceFinal { type: 'final'; counts: PresenceCounts; changes: PresenceEvents; arrivals: PresenceEvents }

export type PresenceWorkerMsg = Ready | PresenceTick | PresenceFinal;
