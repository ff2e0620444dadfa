/**
 * Whether a connection's `send` may go ahead: first its own and its user's token buckets
 * (`rate_limited`), then the node's capacity (`unavailable`: too many deliveries pending, or the
 * message log too far behind). A refusal past capacity is counted by reason, not logged one by
 * one: under overload that is thousands of lines a second, CPU the node needs for the sends it
 * accepts.
 */
import { ERR_OVERLOADED, ERR_RATE_LIMITED } from '@chat/shared/errors';
import type { UserId } from '@chat/shared/types';
import type { RefusalReason } from './metrics.ts';
import { TokenBucket } from './rate-limiter.ts';
import type { SessionDeps } from './session-deps.ts';

export type AdmissionDeps = Pick<SessionDeps, 'delivery' | 'log' | 'metrics' | 'limits' | 'userLimits'>;

export class SendAdmission {
  private readonly bucket: TokenBucket;
  /** The user's bucket, shared with the user's other connections on this node. */
  private readonly userBucket: TokenBucket | undefined;

  /** Takes a share of `user`'s bucket until `release`. */
  constructor(private readonly user: UserId, private readonly deps: AdmissionDeps) {
    this.bucket = new TokenBucket(deps.limits.rateLimitPerSec, deps.limits.rateLimitBurst);
    this.userBucket = deps.userLimits?.acquire(user);
  }

  /** Why the next send is refused, or undefined when it may go ahead (its tokens are taken). */
  refusal(): Error | undefined {
    const limited = this.takeTokens();
    if (limited) return limited;
    if (this.deps.delivery.saturated) return this.overloaded('deliveries', `${this.deps.delivery.pending} deliveries pending`);
    const backlogMs = this.deps.log.backlogMs?.() ?? 0;
    if (backlogMs > this.deps.limits.logMaxWaitMs) {
      return this.overloaded('log_wait', `the message log is ${Math.round(backlogMs)} ms behind`);
    }
    return undefined;
  }

  /**
   * Take one token of the connection's and of the user's bucket (a `send`, or a `watch`, `typing`
   * or `read`, which spend the same budget); the `rate_limited` error when either is spent.
   */
  takeTokens(): Error | undefined {
    if (!this.bucket.take()) return new ERR_RATE_LIMITED('too many messages');
    if (this.userBucket && !this.userBucket.take()) return new ERR_RATE_LIMITED('too many messages from this user');
    return undefined;
  }

  /** A send the log refused for want of room (its queue is full): counted like the refusals above. */
  countLogQueueFull(): void {
    this.deps.metrics.sendsRefused.inc({ reason: 'log_queue' });
  }

  /** The connection closed: give back its share of the user's bucket. */
  release(): void {
    if (this.userBucket) this.deps.userLimits?.release(this.user);
  }

  private overloaded(reason: RefusalReason, why: string): Error {
    this.deps.metrics.sendsRefused.inc({ reason });
    return new ERR_OVERLOADED(why);
  }
}
