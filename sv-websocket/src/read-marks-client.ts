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
import { ERR_FORBIDDEN } from '@chat/shared/errors';
import { ROUTES, type ReadMark, type ReadMarksReply } from '@chat/shared/internal-api';
import { NOT_A_MEMBER } from './rooms.ts';

export class ReadMarksClient {
  private readonly targets: Failover;
  /** Each mark's answer: whether it moved, or the refusal of a room's mark by a non-member. */
  private readonly batcher: NaturalBatcher<ReadMark, boolean | Error>;

  constructor(private readonly client: InternalClient, persistUrls: readonly string[]) {
    this.targets = new Failover(persistUrls);
    this.batcher = new NaturalBatcher<ReadMark, boolean | Error>({
      name: 'read marks', maxBatch: 1000, maxQueue: 20_000, concurrency: 2, gatherTurn: true,
      run: (marks) => this.store(marks),
    });
  }

  /**
   * Store `mark`; resolves with whether it moved the stored mark, once committed. Rejects when the
   * store is unavailable or the queue is full (`unavailable` to the client), and with `forbidden`
   * for a room's mark whose reader is not a member (the other marks of its batch still count).
   */
  async mark(mark: ReadMark): Promise<boolean> {
    const answer = await this.batcher.push(mark);
    if (answer instanceof Error) throw answer;
    return answer;
  }

  /** Resolves once every queued mark was answered (graceful shutdown). */
  idle(): Promise<void> {
    return this.batcher.idle();
  }

  private async store(marks: ReadMark[]): Promise<(boolean | Error)[]> {
    const reply = await this.targets.run((base) => this.client.post<ReadMarksReply>(base, ROUTES.persistReadMarks, { marks }));
    if (!reply.forbidden?.length) return reply.moved;
    const refused = new Set(reply.forbidden);
    return reply.moved.map((moved, i) => (refused.has(i) ? new ERR_FORBIDDEN(NOT_A_MEMBER) : moved));
  }
}
