/**
 * Rooms as sv-persist keeps them: create one, change its members (one transaction each, checked
 * there against the stored room), read the current state of some. Any persister will do
 * (failover in PERSIST_URL order): they share one database. A refusal (`forbidden`,
 * `bad_request`) is the client's answer and tries no other persister.
 */
import { Failover } from '@chat/shared/failover';
import type { InternalClient } from '@chat/shared/internal-client';
import {
  ROUTES, type RoomChangeReply, type RoomChangeRequest, type RoomCreateRequest, type RoomGetReply, type RoomState,
} from '@chat/shared/internal-api';
import type { RoomId } from '@chat/shared/types';
import { runUnlessRefused } from './persist-refusals.ts';

export class RoomsClient {
  private readonly targets: Failover;

  constructor(private readonly client: InternalClient, persistUrls: readonly string[]) {
    this.targets = new Failover(persistUrls);
  }

  /** The room made, at its first version. */
  create(req: RoomCreateRequest): Promise<RoomState> {
    return runUnlessRefused(this.targets, (base) => this.client.post<RoomState>(base, ROUTES.persistRoomCreate, req));
  }

  change(req: RoomChangeRequest): Promise<RoomChangeReply> {
    return runUnlessRefused(this.targets, (base) => this.client.post<RoomChangeReply>(base, ROUTES.persistRoomChange, req));
  }

  async get(rooms: RoomId[]): Promise<RoomState[]> {
    const reply = await this.targets.run((base) => this.client.post<RoomGetReply>(base, ROUTES.persistRoomGet, { rooms }));
    return reply.rooms;
  }
}
