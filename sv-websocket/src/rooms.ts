/**
 * Rooms as a node's sessions use them: sv-persist keeps them (rooms-client.ts), the node caches
 * their member lists (room-members.ts), and every change this node makes is kept in its own cache
 * at once and told to every other node through sv-discover (room-notices.ts), before the session
 * announces it to the members.
 */
import type { RoomChangeRequest, RoomCreateRequest, RoomState } from '@chat/shared/internal-api';
import type { RoomId, UserId } from '@chat/shared/types';
import type { CachedRoom, RoomMembers } from './room-members.ts';
import type { RoomNotices } from './room-notices.ts';
import type { RoomsClient } from './rooms-client.ts';

/** The one answer to a non-member, whether or not the room exists: no answer tells which. */
export const NOT_A_MEMBER = 'not a member of the room';

/** What a change came to: the room after it, the users it took out, and whether anything changed. */
export interface RoomChange {
  room: RoomState;
  removed: UserId[];
  changed: boolean;
}

export class Rooms {
  constructor(
    private readonly store: Pick<RoomsClient, 'create' | 'change'>,
    private readonly members: Pick<RoomMembers, 'get' | 'cached' | 'learn'>,
    private readonly notices: Pick<RoomNotices, 'changed'>,
  ) {}

  /** The room and its members (cached, or fetched); undefined when there is no such room. */
  state(room: RoomId): Promise<CachedRoom | undefined> {
    return this.members.get(room);
  }

  /** Create a room: stored, cached here, told to the other nodes. Rejects with sv-persist's refusal or as unavailable. */
  async create(req: RoomCreateRequest): Promise<RoomState> {
    const room = await this.store.create(req);
    this.members.learn(room);
    void this.notices.changed(room.room, room.version);
    return room;
  }

  /**
   * Change a room's members (sv-persist checks who may). Nothing changed (the same version as
   * the list cached here) is told to nobody; when nothing was cached it counts as changed, as the
   * version before is not known.
   */
  async change(req: RoomChangeRequest): Promise<RoomChange> {
    const before = this.members.cached(req.room)?.state.version;
    const { room, removed } = await this.store.change(req);
    const changed = room.version !== before;
    this.members.learn(room);
    if (changed) void this.notices.changed(room.room, room.version);
    return { room, removed, changed };
  }
}
