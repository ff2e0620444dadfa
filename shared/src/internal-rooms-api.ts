/**
 * The internal bodies about rooms (docs/protocol.md, "Between services"); internal-api.ts
 * re-exports them with the other internal bodies.
 */
import { z } from 'zod';
import { MAX_ROOM_TITLE, roomIdSchema, userIdSchema, type WireRoom } from './protocol.ts';

/*
 * Rooms. sv-persist owns membership (Postgres); every change is one transaction and bumps the
 * room's `version`. Nodes cache member lists by version and hear of changes on the change feed.
 */

/** A room as sv-persist holds it: its wire form (protocol.ts `WireRoom`) and its version. */
export interface RoomState extends WireRoom { version: number }
const roomUsersSchema = z.array(userIdSchema).max(10_000);

/** sv-persist: create a room owned by `owner` (a member, whether or not `members` lists them). */
export const roomCreateRequestSchema = z.object({
  owner: userIdSchema, title: z.string().max(MAX_ROOM_TITLE), public: z.boolean(), members: roomUsersSchema,
});
export type RoomCreateRequest = z.infer<typeof roomCreateRequestSchema>;

/**
 * sv-persist: change a room's members on behalf of `by`, checked against the stored room in the
 * same transaction: `add` and `remove` by the owner only, `join` (adds `by`) to a public room only,
 * `leave` (removes `by`) by a member. Refused: `forbidden` (403; also for a room that does not
 * exist), `bad_request` (400) past MAX_ROOM_MEMBERS. The reply holds the room after the change and
 * the users it took out (who get the `room` frame too); nothing changed: the same version.
 */
export const roomChangeRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), room: roomIdSchema, by: userIdSchema, users: roomUsersSchema.min(1) }),
  z.object({ op: z.literal('remove'), room: roomIdSchema, by: userIdSchema, users: roomUsersSchema.min(1) }),
  z.object({ op: z.literal('join'), room: roomIdSchema, by: userIdSchema }),
  z.object({ op: z.literal('leave'), room: roomIdSchema, by: userIdSchema }),
]);
export type RoomChangeRequest = z.infer<typeof roomChangeRequestSchema>;
export interface RoomChangeReply { room: RoomState; removed: string[] }

/** sv-persist: the current state of rooms; a room that does not exist is left out of the reply. */
export const roomGetRequestSchema = z.object({ rooms: z.array(roomIdSchema).min(1).max(1000) });
export type RoomGetRequest = z.infer<typeof roomGetRequestSchema>;
export interface RoomGetReply { rooms: RoomState[] }

/**
 * Node → sv-discover: rooms whose members just changed. sv-discover passes them to every node on
 * the change feed as `{ rooms: [...] }`, so each node drops a cached member list older than the
 * version named.
 */
const roomVersionSchema = z.object({ room: roomIdSchema, version: z.number().int().nonnegative() });
export type RoomVersion = z.infer<typeof roomVersionSchema>;
export const roomsChangedRequestSchema = z.object({ rooms: z.array(roomVersionSchema).min(1).max(1000) });
export type RoomsChangedRequest = z.infer<typeof roomsChangedRequestSchema>;
/** The rooms a `rooms` change frame carries, checked by the node on arrival. */
export const roomVersionsSchema = z.array(roomVersionSchema);
