/**
 * The watch lists of a node's connections (`watch` frames) and their union: the users the node
 * follows in discovery. Each list replaces the connection's previous one; the union changes only
 * when a user's first watcher arrives or their last one leaves, and those changes are what
 * discovery must be told.
 */
import type { ConnId, UserId } from '@chat/shared/types';

/** Users who joined and left the union. */
export interface UnionChange {
  added: UserId[];
  removed: UserId[];
}

export class WatchLists<W> {
  private readonly byConn = new Map<ConnId, { watcher: W; users: Set<UserId> }>();
  private readonly byUser = new Map<UserId, Map<ConnId, W>>();

  /** Users any connection watches. */
  get size(): number {
    return this.byUser.size;
  }

  /** The union, for telling discovery all of it again. */
  users(): IterableIterator<UserId> {
    return this.byUser.keys();
  }

  has(user: UserId): boolean {
    return this.byUser.has(user);
  }

  /** Those watching `user`. */
  watchersOf(user: UserId): IterableIterator<W> {
    return (this.byUser.get(user) ?? NONE).values();
  }

  /** `connId` now watches exactly `users` (an empty list: nobody); `watcher` is what it is reached by. */
  replace(connId: ConnId, watcher: W, users: readonly UserId[]): UnionChange {
    const next = new Set(users);
    const previous = this.byConn.get(connId)?.users ?? new Set<UserId>();
    const change: UnionChange = { added: [], removed: [] };
    for (const user of previous) if (!next.has(user)) this.unlink(connId, user, change);
    for (const user of next) {
      let watchers = this.byUser.get(user);
      if (!watchers) {
        this.byUser.set(user, (watchers = new Map()));
        change.added.push(user);
      }
      watchers.set(connId, watcher);
    }
    if (next.size > 0) this.byConn.set(connId, { watcher, users: next });
    else this.byConn.delete(connId);
    return change;
  }

  /** The connection closed: its list is gone. */
  release(connId: ConnId): UnionChange {
    const change: UnionChange = { added: [], removed: [] };
    const mine = this.byConn.get(connId);
    if (!mine) return change;
    this.byConn.delete(connId);
    for (const user of mine.users) this.unlink(connId, user, change);
    return change;
  }

  private unlink(connId: ConnId, user: UserId, change: UnionChange): void {
    const watchers = this.byUser.get(user);
    if (!watchers?.delete(connId) || watchers.size > 0) return;
    this.byUser.delete(user);
    change.removed.push(user);
  }
}

const NONE: ReadonlyMap<ConnId, never> = new Map<ConnId, never>();
