/**
 * Which change-feed subscriber watches which users, indexed both ways: a transition goes to the
 * subscribers of its user only (never to every node), and a subscriber that leaves takes its
 * whole set with it.
 */
import type { UserId } from '@chat/shared/types';

export class InterestIndex<S> {
  private readonly bySubscriber = new Map<S, Set<UserId>>();
  private readonly byUser = new Map<UserId, Set<S>>();

  /** Distinct users any subscriber watches. */
  get users(): number {
    return this.byUser.size;
  }

  add(subscriber: S, users: readonly UserId[]): void {
    let mine = this.bySubscriber.get(subscriber);
    if (!mine) this.bySubscriber.set(subscriber, (mine = new Set()));
    for (const user of users) {
      mine.add(user);
      let theirs = this.byUser.get(user);
      if (!theirs) this.byUser.set(user, (theirs = new Set()));
      theirs.add(subscriber);
    }
  }

  remove(subscriber: S, users: Iterable<UserId>): void {
    const mine = this.bySubscriber.get(subscriber);
    if (!mine) return;
    for (const user of users) {
      if (!mine.delete(user)) continue;
      const theirs = this.byUser.get(user);
      theirs?.delete(subscriber);
      if (theirs?.size === 0) this.byUser.delete(user);
    }
    if (mine.size === 0) this.bySubscriber.delete(subscriber);
  }

  /** The subscriber left: forget everything it watched. */
  drop(subscriber: S): void {
    const mine = this.bySubscriber.get(subscriber);
    if (mine) this.remove(subscriber, [...mine]);
  }

  watches(subscriber: S, user: UserId): boolean {
    return this.bySubscriber.get(subscriber)?.has(user) ?? false;
  }

  /** How many users `subscriber` watches. */
  sizeOf(subscriber: S): number {
    return this.bySubscriber.get(subscriber)?.size ?? 0;
  }

  subscribersOf(user: UserId): ReadonlySet<S> {
    return this.byUser.get(user) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<never> = new Set();
