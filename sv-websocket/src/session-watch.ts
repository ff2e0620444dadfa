/**
 * A connection's `watch` frames: each replaces its watch list in the node's PresenceWatch
 * (presence-watch.ts), which answers the known states at once and writes later changes to the
 * connection. A `watch` spends a token of the same buckets as a `send` (send-admission.ts), so
 * rewriting a list in a loop is `rate_limited` like sending in a loop. The list is released when
 * the connection closes.
 */
import type { Watch } from '@chat/shared/protocol';
import type { SendAdmission } from './send-admission.ts';
import type { SessionDeps, SessionUser } from './session-deps.ts';
import type { SocketWriter } from './socket-writer.ts';

export class SessionWatch {
  constructor(
    private readonly self: SessionUser,
    private readonly out: Pick<SocketWriter, 'write' | 'sendError'>,
    private readonly admission: SendAdmission,
    private readonly deps: Pick<SessionDeps, 'watches'>,
  ) {}

  watch(frame: Watch): void {
    const refused = this.admission.takeTokens();
    if (refused) return this.out.sendError(refused);
    this.deps.watches.replace(this.self.connId, (f) => this.out.write(f), frame.users);
  }

  /** The connection closed. */
  release(): void {
    this.deps.watches.release(this.self.connId);
  }
}
