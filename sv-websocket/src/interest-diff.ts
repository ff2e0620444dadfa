/**
 * What discovery has yet to be told about the node's watch set: the users who joined and who left
 * the union since it was last told, net. A user who leaves and comes back before the next frame
 * goes out (or the reverse) cancels out, so a connection that replaces its list in a hurry sends
 * discovery nothing for the users it kept.
 */
import type { UserId } from '@chat/shared/types';
import type { UnionChange } from './watch-lists.ts';

export class InterestDiff {
  private readonly watch = new Set<UserId>();
  private readonly unwatch = new Set<UserId>();

  get empty(): boolean {
    return this.watch.size === 0 && this.unwatch.size === 0;
  }

  apply(change: UnionChange): void {
    for (const user of change.added) if (!this.unwatch.delete(user)) this.watch.add(user);
    for (const user of change.removed) if (!this.watch.delete(user)) this.unwatch.add(user);
  }

  /** What to send now; the diff starts empty again. */
  take(): { watch: UserId[]; unwatch: UserId[] } {
    const out = { watch: [...this.watch], unwatch: [...this.unwatch] };
    this.clear();
    return out;
  }

  /** Discovery is told the whole set instead (a new feed connection). */
  clear(): void {
    this.watch.clear();
    this.unwatch.clear();
  }
}

/** `users` in frames of at most `size`. */
export function chunked<T>(users: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < users.length; i += size) out.push(users.slice(i, i + size));
  return out;
}
