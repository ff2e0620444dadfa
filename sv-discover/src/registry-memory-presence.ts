/**
 * The memory registry's presence bookkeeping: which users an operation moved between online and
 * offline, and when each user was last seen (bounded). RedisRegistry does the same inside its
 * Lua scripts (registry-redis-scripts.ts).
 */
import type { PresenceState } from '@chat/shared/registry';
import type { UserId } from '@chat/shared/types';

/**
 * The users one registry operation touches, each with whether it was online before: at the end,
 * those whose state differs are its transitions. A user who comes and goes within one operation
 * (a connection added and removed in one update) has none.
 */
export class TransitionScope {
  private readonly before = new Map<UserId, boolean>();

  constructor(private readonly isOnline: (user: UserId) => boolean) {}

  /** Call before changing any entry of `user`. */
  touch(user: UserId): void {
    if (!this.before.has(user)) this.before.set(user, this.isOnline(user));
  }

  /** The touched users whose state changed, in the order first touched; offline ones last seen at `now`. */
  changes(now: number): PresenceState[] {
    const out: PresenceState[] = [];
    for (const [user, wasOnline] of this.before) {
      const online = this.isOnline(user);
      if (online !== wasOnline) out.push({ user, online, lastSeen: online ? null : now });
    }
    return out;
  }
}

/** When each user went offline, for the `maxUsers` who did so most recently. */
export class LastSeen {
  private readonly at = new Map<UserId, number>();

  constructor(private readonly maxUsers: number) {}

  get size(): number {
    return this.at.size;
  }

  get(user: UserId): number | null {
    return this.at.get(user) ?? null;
  }

  /** Apply transitions: an offline user is remembered (as the newest), an online one forgotten. */
  record(changes: readonly PresenceState[]): void {
    for (const { user, online, lastSeen } of changes) {
      this.at.delete(user);
      if (online || lastSeen === null) continue;
      this.at.set(user, lastSeen);
      // Map keeps insertion order: past the bound, the longest-offline user is forgotten.
      if (this.at.size > this.maxUsers) this.at.delete(this.at.keys().next().value!);
    }
  }
}
