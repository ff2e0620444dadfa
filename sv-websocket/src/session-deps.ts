/**
 * What a client session needs of its node. The node's parts it talks to are ports (the methods
 * it calls, nothing more), so a unit test drives a session with in-memory stand-ins.
 */
import type { FailureLog } from '@chat/shared/failure-log';
import type { Logger } from '@chat/shared/logger';
import type { MessageLog } from '@chat/shared/message-log';
import type { ConnId, UserId } from '@chat/shared/types';
import type { Authenticator } from './auth.ts';
import type { Delivery } from './delivery.ts';
import type { HistoryClient } from './history-client.ts';
import type { LocalConnections } from './local-connections.ts';
import type { Metrics } from './metrics.ts';
import type { Presence } from './presence.ts';
import type { PresenceWatch } from './presence-watch.ts';
import type { UserRateLimits } from './rate-limiter.ts';
import type { ReadMarksClient } from './read-marks-client.ts';
import type { Rooms } from './rooms.ts';
import type { TypingThrottle } from './typing-throttle.ts';

/** Discovery entries of the node's connections. */
export type SessionPresence = Pick<Presence, 'added' | 'removed'>;
/** Delivery of accepted messages, and whether the node can take more. */
export type SessionDelivery = Pick<Delivery, 'saturated' | 'pending' | 'prefetch' | 'prefetchMembers' | 'deliver' | 'deliverRoom' | 'deliverEvent'>;
/** The node's watch lists: what each connection watches, and the presence frames it gets. */
export type SessionWatches = Pick<PresenceWatch, 'replace' | 'release'>;
/** Stored history and conversation lists. */
export type SessionHistory = Pick<HistoryClient, 'history' | 'conversations'>;
/** Rooms: their member lists (cached), and changes to them. */
export type SessionRooms = Pick<Rooms, 'state' | 'create' | 'change'>;

/** Typing and read receipts: the node's throttle of typing indicators, and where read marks are stored. */
export interface SessionReceiptsDeps {
  typing: Pick<TypingThrottle, 'allow'>;
  marks: Pick<ReadMarksClient, 'mark'>;
}

/** The connection a part of the session acts for, once `hello` proved its user. */
export interface SessionUser {
  connId: ConnId;
  user: UserId;
}

export interface SessionLimits {
  maxBody: number;
  helloTimeoutMs: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  maxBufferedBytes: number;
  userRateLimitPerSec: number;
  userRateLimitBurst: number;
  logMaxWaitMs: number;
  /** Rooms a user may create per minute on this node (a token bucket with as many saved up). */
  roomCreatePerMinute: number;
}

export interface SessionDeps {
  nodeId: string;
  auth: Authenticator;
  local: LocalConnections;
  presence: SessionPresence;
  log: MessageLog;
  delivery: SessionDelivery;
  history: SessionHistory;
  watches: SessionWatches;
  receipts: SessionReceiptsDeps;
  rooms: SessionRooms;
  metrics: Metrics;
  logger: Logger;
  /**
   * The node's one FailureLog: a failure that can happen to every send or query (a dependency
   * down) is logged once per interval with a count, not once per message.
   */
  failures: FailureLog;
  limits: SessionLimits;
  /** Per-user send buckets shared by the user's connections on this node (client-endpoint.ts makes one per node). */
  userLimits?: UserRateLimits;
  /** Per-user room-creation buckets (client-endpoint.ts makes one per node). */
  roomCreateLimits?: UserRateLimits;
}
