/**
 * The rules of room membership, as pure functions of the stored room: who may do what, what a
 * change adds and takes out, and the room after it. rooms.ts runs them inside the transaction
 * that holds the room's row, so the room they see is the one the change applies to.
 *
 * - `add` and `remove`: the owner only. The owner cannot be removed (`bad_request`): the owner
 *   leaves instead. Adding members already in, or removing users not in, changes nothing.
 * - `join`: a public room only; a member joining again changes nothing, in any room.
 * - `leave`: a member only. When the owner leaves, the member who joined earliest (ties by user
 *   id) becomes the owner. The last member's leave leaves the room empty: it stays, with its
 *   messages; the owner recorded is the last one, who no longer holds any right over it (rights
 *   need membership); whoever joins an empty public room owns it.
 * - A room that does not exist is refused as one the user has no right to, with the same words,
 *   so no answer tells whether a room exists.
 * - More than `maxMembers` members: `bad_request`, nothing changes.
 */
import { ERR_BAD_REQUEST, ERR_FORBIDDEN } from '@chat/shared/errors';
import type { RoomChangeRequest, RoomState } from '@chat/shared/internal-api';

/** A room as stored, its members in the order they joined (ties by user id). */
export type StoredRoom = RoomState;

/** What a change does: users to add (in the order they are stored), users to take out, the owner after it. */
export interface RoomChangePlan {
  add: string[];
  remove: string[];
  owner: string;
}

export const NOT_OWNER = 'only the owner of the room may add or remove members';
export const NOT_PUBLIC = 'only a public room can be joined';
export const NOT_MEMBER = 'not a member of the room';

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function tooMany(maxMembers: number): Error {
  return new ERR_BAD_REQUEST(`a room has at most ${maxMembers} members`);
}

/** The members of a new room: its owner and the users listed, each once, in the order stored (by user id). */
export function planRoomCreate(owner: string, members: readonly string[], maxMembers: number): string[] {
  const all = [...new Set([owner, ...members])].sort(byCodeUnits);
  if (all.length > maxMembers) throw tooMany(maxMembers);
  return all;
}

/** Check `req` against `room` (undefined: no such room) and plan it; throws ERR_FORBIDDEN or ERR_BAD_REQUEST. */
export function planRoomChange(room: StoredRoom | undefined, req: RoomChangeRequest, maxMembers: number): RoomChangePlan {
  const members = new Set(room?.members);
  const isMember = members.has(req.by);
  switch (req.op) {
    case 'add': {
      if (!room || req.by !== room.owner || !isMember) throw new ERR_FORBIDDEN(NOT_OWNER);
      const add = [...new Set(req.users)].filter((u) => !members.has(u)).sort(byCodeUnits);
      if (add.length > 0 && members.size + add.length > maxMembers) throw tooMany(maxMembers);
      return { add, remove: [], owner: room.owner };
    }
    case 'remove': {
      if (!room || req.by !== room.owner || !isMember) throw new ERR_FORBIDDEN(NOT_OWNER);
      if (req.users.includes(room.owner)) throw new ERR_BAD_REQUEST('the owner cannot be removed: the owner leaves the room instead');
      return { add: [], remove: [...new Set(req.users)].filter((u) => members.has(u)), owner: room.owner };
    }
    case 'join': {
      if (room && isMember) return { add: [], remove: [], owner: room.owner };
      if (!room || !room.public) throw new ERR_FORBIDDEN(NOT_PUBLIC);
      if (members.size + 1 > maxMembers) throw tooMany(maxMembers);
      return { add: [req.by], remove: [], owner: members.size === 0 ? req.by : room.owner };
    }
    case 'leave': {
      if (!room || !isMember) throw new ERR_FORBIDDEN(NOT_MEMBER);
      const successor = req.by === room.owner ? room.members.find((u) => u !== req.by) : undefined;
      return { add: [], remove: [req.by], owner: successor ?? room.owner };
    }
  }
}

/** Whether the plan changes anything (and so bumps the version). */
export function changesRoom(plan: RoomChangePlan): boolean {
  return plan.add.length > 0 || plan.remove.length > 0;
}

/** The room after the plan: members in join order (those added last), a new version when it changed. */
export function roomAfter(room: StoredRoom, plan: RoomChangePlan): StoredRoom {
  if (!changesRoom(plan)) return room;
  const gone = new Set(plan.remove);
  return {
    ...room,
    owner: plan.owner,
    members: [...room.members.filter((u) => !gone.has(u)), ...plan.add],
    version: room.version + 1,
  };
}
