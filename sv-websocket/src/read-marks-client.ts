/**
 * Read marks go to sv-persist, which stores them in Postgres (`POST /internal/v1/read-marks`).
 * The marks of many connections are gathered into one request while others are in flight
 * (natural batching), so a burst of reads costs a few statements, not one each. Any persister
 * will do (failover in `PERSIST_URL` order): a mark only ever moves forward, so two persisters
 * writing at once, or a request sent again to another one, store the same thing.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import { Failover } from '@chat/shared/failover';
import type { InternalClient } from '@chat/shared/internal-client';
import { ROUTES, type ReadMark, type ReadMarksReply } from '@chat/shared/internal-api';

export class ReadMarksClient {
  private readonly targets: Failover;
  private readonly batcher: NaturalBatcher<ReadMark, boolean>;

  constructor(private readonly client: InternalClient, persistUrls: readonly string[]) {
    this.targets = new Failover(persistUrls);
    this.batcher = new NaturalBatcher<ReadMark, boolean>({
      name: 'read marks', maxBatch: 1000, maxQueue: 20_000, concurrency: 2, gatherTurn: true,
      run: (marks) => this.store(marks),
    });
  }

  /**
   * Store `mark`; resolves with whether it moved the stored mark, once committed. Rejects when the
   * store is unavailable or the queue is full (`unavailable` to the client).
   */
  mark(mark: ReadMark): Promise<boolean> {
    return this.batcher.push(mark);
  }

  /** Resolves once every queued mark was answered (graceful shutdown). */
  idle(): Promise<void> {
    return this.batcher.idle();
  }

  private async store(marks: ReadMark[]): Promise<boolean[]> {
    const reply = await this.targets.run((base) => this.client.post<ReadMarksReply>(base, ROUTES.persistReadMarks, { marks }));
    return reply.moved;
  }
}
