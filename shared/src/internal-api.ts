/**
 * Bodies of the internal HTTP endpoints between services (not part of the public protocol).
 * Every one is validated on arrival with these schemas; every request carries the cluster secret.
 */
import { z } from 'zod';
import type { SendRecord } from './send-ledger.ts';
import {
  bodySchema, cidSchema, historyPagingParams, limitParam, MAX_ROOM_TITLE, ROOM_ID, roomIdSchema, seqSchema as markSchema, userIdSchema,
  type WirePresence,
} from './protocol.ts';
import { ROOM_PREFIX } from './types.ts';
import type { RoomVersion } from './internal-rooms-api.ts';

const idSchema = z.string().min(1).max(64);
const nodeIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/);
const tsSchema = z.number().int().nonnegative();
const seqSchema = z.number().int().nonnegative();

/** Internal routes, one place. */
export const ROUTES = {
  discoverLease: '/internal/v1/lease',
  discoverEntries: '/internal/v1/entries',
  discoverLookup: '/internal/v1/lookup',
  discoverRemoveNode: '/internal/v1/nodes/remove',
  discoverChanges: '/internal/v1/changes',
  discoverSends: '/internal/v1/sends',
  discoverSendsStream: '/internal/v1/sends/stream',
  persistIngest: '/internal/v1/ingest',
  persistIngestStream: '/internal/v1/ingest/stream',
  persistHistory: '/internal/v1/history',
  persistConversations: '/internal/v1/conversations',
  persistReadMarks: '/internal/v1/read-marks',
  persistSent: '/internal/v1/sent',
  persistRoomCreate: '/internal/v1/rooms/create',
  persistRoomChange: '/internal/v1/rooms/change',
  persistRoomGet: '/internal/v1/rooms/get',
  discoverRoomsChanged: '/internal/v1/rooms/changed',
  nodeDeliver: '/internal/v1/deliver',
  nodeDeliverStream: '/internal/v1/deliver/stream',
} as const;

/** Header that carries the cluster secret proof. */
export const AUTH_HEADER = 'x-cluster-auth';

/** A room's address inside the services (types.ts `roomAddress`): '#' and its id. */
export const roomAddressSchema = z.string().regex(new RegExp(`^${ROOM_PREFIX}${ROOM_ID.source.slice(1)}`), 'a room address is # and a room id');
/** Whom a message or a read mark is about: a user, or a room's address. */
export const peerSchema = z.union([userIdSchema, roomAddressSchema]);

export const newMessageSchema = z.object({
  id: idSchema, from: userIdSchema, to: peerSchema, cid: cidSchema, body: bodySchema, ts: tsSchema,
});
export const messageSchema = newMessageSchema.extend({ seq: seqSchema });

/** sv-discover: a node's lease, renewed by heartbeat. `known: false` in the reply asks the node to re-add its entries. */
export const leaseRequestSchema = z.object({ nodeId: nodeIdSchema, url: z.url(), ttlMs: z.number().int().min(1000).max(600_000) });
export type LeaseRequest = z.infer<typeof leaseRequestSchema>;
export interface LeaseReply { known: boolean }

/** sv-discover: add and remove a node's per-connection entries in one request. */
export const entriesRequestSchema = z.object({
  nodeId: nodeIdSchema,
  add: z.array(z.object({ user: userIdSchema, connId: idSchema })).max(10_000),
  remove: z.array(idSchema).max(10_000),
});
export type EntriesRequest = z.infer<typeof entriesRequestSchema>;

/** sv-discover: drop a node's lease and every entry it owns (graceful shutdown). */
export const removeNodeRequestSchema = z.object({ nodeId: nodeIdSchema });
export type RemoveNodeRequest = z.infer<typeof removeNodeRequestSchema>;

/** sv-discover: which live nodes hold each user. */
export const lookupRequestSchema = z.object({ users: z.array(userIdSchema).min(1).max(10_000) });
export type LookupRequest = z.infer<typeof lookupRequestSchema>;
/**
 * `nodes` holds the users found; `warming` says sv-discover's registry started empty moments ago and
 * nodes may not have registered their connections again yet: a user absent may be online.
 */
export interface LookupReply { nodes: Record<string, { nodeId: string; url: string }[]>; warming?: true }

/** A message's identity as the shared record of sends holds it (shared/src/send-ledger.ts). */
const sendClaimSchema = z.object({ from: userIdSchema, cid: cidSchema, id: idSchema, ts: tsSchema });

/**
 * sv-discover, the record of sends (Kafka mode): settle what the log acknowledged, then claim, in
 * one request. Per claim, the reply holds `null` (claimed: the message is new) or the record held.
 */
export const sendsRequestSchema = z.object({
  settle: z.array(sendClaimSchema.extend({ seq: seqSchema, replaces: idSchema.optional() })).max(10_000),
  claim: z.array(sendClaimSchema).max(10_000),
});
export type SendsRequest = z.infer<typeof sendsRequestSchema>;
export interface SendsReply { records: (SendRecord | null)[] }
/**
 * The same over one WebSocket per node (ROUTES.discoverSendsStream, shared/src/request-stream.ts):
 * `{ n, settle, claim }` frames answered `{ n, records }`, so a claim costs no HTTP request.
 */
export const sendsFrameSchema = sendsRequestSchema.extend({ n: z.number().int().nonnegative() });

/**
 * sv-discover → node, the change feed (a WebSocket at ROUTES.discoverChanges, upgrade signed like an
 * internal GET): `added` lists users who just got a connection on some node, so a node drops them
 * from its lookup cache; `reset` means changes may have been missed, so the node drops everything
 * and tells its watch set again; `presence` carries states of users the node watches (answers to
 * `watch`, and transitions); `rooms` names rooms whose members changed, with their new version
 * (every node gets every one), so a node drops a cached member list older than that.
 */
export type ChangeFrame = { added: string[] } | { reset: true } | { presence: WirePresence[] } | { rooms: RoomVersion[] };

/** Most users in one `watch` or `unwatch` frame of the change feed. */
export const FEED_MAX_USERS = 2000;
const feedUsers = z.array(userIdSchema).min(1).max(FEED_MAX_USERS);
/**
 * Node → sv-discover on the change feed: `watch` adds users to the node's watch set (sv-discover
 * answers their current states), `unwatch` takes them out. sv-discover pushes presence changes of
 * the users in a node's set, and of no one else.
 */
export const feedRequestSchema = z.union([z.object({ watch: feedUsers }), z.object({ unwatch: feedUsers })]);
export type FeedRequest = z.infer<typeof feedRequestSchema>;
/** The states a `presence` change frame carries, checked by the node on arrival. */
export const presenceStatesSchema = z.array(z.object({
  user: userIdSchema, online: z.boolean(), last_seen: z.number().int().nonnegative().nullable(),
}));

/** sv-persist: append messages in direct mode; replies after the database commit, in order. */
export const ingestRequestSchema = z.object({ messages: z.array(newMessageSchema).min(1).max(10_000) });
export type IngestRequest = z.infer<typeof ingestRequestSchema>;
export interface IngestReply { accepted: { id: string; seq: number; ts: number; duplicate: boolean; body?: string }[] }

/**
 * sv-persist, the ingest stream (a WebSocket at ROUTES.persistIngestStream, the upgrade request
 * signed like any internal GET): the node sends `{ n, messages }` text frames, n counting up per
 * connection; sv-persist writes each frame's messages in the order the frames arrived (so seq
 * follows it, as on one ordered connection) and answers each with `{ n, accepted }` after the
 * commit, or `{ n, error, message }`. Answers to frames refused at once can overtake others.
 */
export const ingestFrameSchema = z.object({ n: z.number().int().nonnegative(), messages: ingestRequestSchema.shape.messages });
export type IngestFrame = z.infer<typeof ingestFrameSchema>;
export type IngestFrameReply =
  | { n: number; accepted: IngestReply['accepted'] }
  | { n: number; error: string; message: string };

/** sv-persist: history page of the conversation of `user` and `with`, paged as the public API is. */
/** `with` may be a room's address; sv-persist then answers `forbidden` (403) unless `user` is a member. */
export const historyQuerySchema = historyPagingParams.safeExtend({ user: userIdSchema, with: peerSchema });
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

/** sv-persist: the stored messages of (from, cid) pairs; per pair, in order, its id, seq and ts, or `null`. */
export const sentRequestSchema = z.object({ keys: z.array(z.object({ from: userIdSchema, cid: cidSchema })).min(1).max(10_000) });
export type SentRequest = z.infer<typeof sentRequestSchema>;
export interface SentReply { found: ({ id: string; seq: number; ts: number } | null)[] }

export const conversationsQuerySchema = z.object({
  user: userIdSchema,
  limit: limitParam.optional(),
});
export type ConversationsQuery = z.infer<typeof conversationsQuerySchema>;

/**
 * sv-persist: move read marks forward. Each mark says `reader` read everything from `peer` up to
 * `seq`; a mark only ever moves up. `moved` answers each, in order: whether it moved the stored
 * mark (of several for one reader and peer, only the first holding the highest seq can).
 */
export const readMarksRequestSchema = z.object({
  marks: z.array(z.object({ reader: userIdSchema, peer: peerSchema, seq: markSchema })).min(1).max(10_000),
});
export type ReadMarksRequest = z.infer<typeof readMarksRequestSchema>;
export type ReadMark = ReadMarksRequest['marks'][number];
/**
 * `forbidden` (only when some were): the indexes of marks of a room (`peer` its address) whose
 * `reader` is not a member; they are not stored and answer `moved: false`.
 */
export interface ReadMarksReply { moved: boolean[]; forbidden?: number[] }

/**
 * Most users one forward names: in `users`, in an item's `recipients`, in an event's `to`. A room's
 * members on one node fit with room to spare past MAX_ROOM_MEMBERS' default (protocol.ts).
 */
export const MAX_FORWARD_USERS = 100_000;
const forwardUsersSchema = z.array(userIdSchema).max(MAX_FORWARD_USERS);

/** A typing, read or room event as its recipients get it (the `typing`, `read` and `room` frames of protocol.ts). */
const eventFrameSchema = z.union([
  z.object({ type: z.literal('typing'), from: userIdSchema }),
  z.object({ type: z.literal('read'), by: userIdSchema, with: userIdSchema, seq: markSchema }),
  z.object({ type: z.literal('read'), by: userIdSchema, room: roomIdSchema, seq: markSchema }),
  z.object({
    type: z.literal('room'), room: roomIdSchema, title: z.string().max(MAX_ROOM_TITLE), owner: userIdSchema, public: z.boolean(),
    members: forwardUsersSchema, cid: cidSchema.optional(),
  }),
]);

/**
 * Node → node: messages to hand to local connections of `to` and `from` (except `originConn`),
 * or, for a room's message (`to` a room's address), of its `recipients` here; and events
 * (`events`, beside them, never stored) to hand to local connections of the users in their `to`
 * (except `originConn`).
 */
export const deliverRequestSchema = z.object({
  /** Users the sender's discovery lookup placed on the receiving node. */
  users: forwardUsersSchema,
  items: z.array(z.object({
    message: messageSchema,
    originConn: idSchema.optional(),
    /** A room's message: the members the sender placed on the receiving node (it needs no membership of its own). */
    recipients: forwardUsersSchema.min(1).optional(),
  })).max(10_000),
  events: z.array(z.object({
    event: eventFrameSchema,
    /** One or two users for typing and read events; a room's members for a `room` frame. */
    to: forwardUsersSchema.min(1),
    originConn: idSchema.optional(),
    /** Handed over after the first `at` items (its place among them when queued); absent: after all. */
    at: z.number().int().nonnegative().optional(),
  })).max(10_000).optional(),
}).refine((r) => r.items.length + (r.events?.length ?? 0) > 0, 'a forward carries at least one item or event');
export type DeliverRequest = z.infer<typeof deliverRequestSchema>;
export type DeliverEvent = NonNullable<DeliverRequest['events']>[number];
/** Those of `users` with no connection on the receiving node: the sender drops them from its cache. */
export interface DeliverReply { absent: string[] }

/**
 * Node → node, the forward stream (a WebSocket at ROUTES.nodeDeliverStream, the upgrade signed
 * like any internal GET; shared/src/request-stream.ts): `{ n, users, items, events? }` frames, answered
 * `{ n, absent }` once handed to local connections, or `{ n, error, message }`.
 */
export const deliverFrameSchema = deliverRequestSchema.safeExtend({ n: z.number().int().nonnegative() });

export * from './internal-rooms-api.ts';
