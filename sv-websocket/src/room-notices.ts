/**
 * Tells sv-discover which rooms' members this node just changed, so that it tells every node on
 * the change feed and each drops its older member list: a removed member stops receiving, an added
 * one gets the next message. Notices gathered while one request is in flight go together (natural
 * batching), to any sv-discover instance (failover). A notice that reaches no instance is logged
 * (once per interval, with a count); the nodes' lists then last until their bound
 * (room-members.ts), and while sv-discover is down the nodes' feeds are down too, which keeps
 * their lists short-lived anyway.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import { Failover } from '@chat/shared/failover';
import type { FailureLog } from '@chat/shared/failure-log';
import type { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type RoomVersion } from '@chat/shared/internal-api';

export class RoomNotices {
  private readonly targets: Failover;
  private readonly batcher: NaturalBatcher<RoomVersion, void>;

  constructor(private readonly client: InternalClient, discoverUrls: readonly string[], private readonly failures: FailureLog) {
    this.targets = new Failover(discoverUrls);
    this.batcher = new NaturalBatcher<RoomVersion, void>({
      name: 'room change notices', maxBatch: 1000, maxQueue: 10_000, gatherTurn: true,
      run: async (rooms) => {
        await this.targets.run((base) => this.client.post(base, ROUTES.discoverRoomsChanged, { rooms }));
        return rooms.map(() => undefined);
      },
    });
  }

  /** `room` is now at `version`: every node is told. Never rejects. */
  changed(room: string, version: number): Promise<void> {
    return this.batcher.push({ room, version }).catch((err: unknown) => {
      this.failures.record('room change not told to discovery; nodes keep their member lists until they expire', { err, room });
    });
  }

  /** Resolves once every notice was sent (graceful shutdown). */
  idle(): Promise<void> {
    return this.batcher.idle();
  }
}
