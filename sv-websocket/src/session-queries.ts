/**
 * A connection's queries, `history` (of a peer or a room) and `conversations`, answered from
 * sv-persist through the history client. They run one at a time per connection, so replies come in the order asked;
 * past MAX_PENDING_QUERIES waiting, a query is refused `rate_limited`.
 */
import { ERR_RATE_LIMITED, errorAnswer } from '@chat/shared/errors';
import type { ConversationsRequest, HistoryRequest } from '@chat/shared/protocol';
import { roomAddress } from '@chat/shared/types';
import type { SessionDeps, SessionUser } from './session-deps.ts';
import type { FrameOutput } from './socket-writer.ts';

/** History and conversation queries queued per connection. */
const MAX_PENDING_QUERIES = 16;

export class SessionQueries {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly asker: SessionUser, private readonly out: FrameOutput, private readonly deps: Pick<SessionDeps, 'history' | 'failures'>) {}

  history(frame: HistoryRequest): void {
    this.enqueue(() => this.answerHistory(frame));
  }

  conversations(frame: ConversationsRequest): void {
    this.enqueue(() => this.answerConversations(frame.limit));
  }

  private enqueue(run: () => Promise<void>): void {
    if (this.pending >= MAX_PENDING_QUERIES) return this.out.sendError(new ERR_RATE_LIMITED('too many queries in flight'));
    this.pending++;
    this.queue = this.queue.then(run).finally(() => void this.pending--);
  }

  private async answerHistory(frame: HistoryRequest): Promise<void> {
    // A room's history is asked by its address; sv-persist refuses a non-member (`forbidden`).
    const about = frame.room === undefined ? frame.with! : roomAddress(frame.room);
    try {
      const page = await this.deps.history.history({ user: this.asker.user, with: about, before: frame.before, after: frame.after, limit: frame.limit });
      this.out.send(frame.room === undefined
        ? { type: 'history', with: about, messages: page.messages, more: page.more }
        : { type: 'history', room: frame.room, messages: page.messages, more: page.more });
    } catch (err) {
      if (errorAnswer(err).fault !== 'request') this.deps.failures.record('history failed', { err, connId: this.asker.connId, user: this.asker.user });
      this.out.sendError(err);
    }
  }

  private async answerConversations(limit: number | undefined): Promise<void> {
    try {
      const items = await this.deps.history.conversations(this.asker.user, limit);
      this.out.send({ type: 'conversations', items });
    } catch (err) {
      this.deps.failures.record('conversations failed', { err, connId: this.asker.connId, user: this.asker.user });
      this.out.sendError(err);
    }
  }
}
