/**
 * Matches presence frames to the changes that caused them. The worker that churns a user records
 * when it closed or opened the connection; the watcher's worker records when the frame arrived.
 * A frame belongs to the latest change of its user to the same state at or before its arrival:
 * its latency is the time between them (one machine, one monotonic clock: clock.ts).
 */

/** Parallel arrays of (user index, online, time in monotonic ms): changes made or frames received. */
export interface PresenceEvents { users: number[]; online: boolean[]; t: number[] }

export const emptyEvents = (): PresenceEvents => ({ users: [], online: [], t: [] });

export function pushEvent(e: PresenceEvents, user: number, online: boolean, t: number): void {
  e.users.push(user);
  e.online.push(online);
  e.t.push(t);
}

export interface MatchResult {
  /** Frames matched to a change, with their latency in ms. */
  latenciesMs: number[];
  /** Of the matched frames, those saying the user went offline (the rest: came online). */
  matchedOffline: number;
  /** Frames of a state no recorded change (before their arrival) led to. */
  unmatched: number;
  /** Frames expected: per change, the watchers of the changed user the churn did not hold offline then. */
  expected: number;
}

/** Per user and state, the change times in ascending order. */
function index(changes: PresenceEvents): Map<number, { on: number[]; off: number[] }> {
  const byUser = new Map<number, { on: number[]; off: number[] }>();
  changes.users.forEach((u, k) => {
    let entry = byUser.get(u);
    if (!entry) byUser.set(u, entry = { on: [], off: [] });
    (changes.online[k] ? entry.on : entry.off).push(changes.t[k]!);
  });
  for (const e of byUser.values()) { e.on.sort((a, b) => a - b); e.off.sort((a, b) => a - b); }
  return byUser;
}

/** The last value of ascending `times` at or below `t`, or undefined. */
export function latestAtOrBefore(times: number[], t: number): number | undefined {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : times[lo - 1];
}

/** Whether `user` was connected at `t`: not between one of its closes and the reopen after it. */
function connectedAt(byUser: Map<number, { on: number[]; off: number[] }>, user: number, t: number): boolean {
  const entry = byUser.get(user);
  const closed = entry && latestAtOrBefore(entry.off, t);
  if (closed === undefined) return true;
  const reopened = latestAtOrBefore(entry!.on, t);
  return reopened !== undefined && reopened >= closed;
}

/** `watchers[u]`: the users who watch u (presence-plan.ts watcherLists). */
export function matchPresence(changes: PresenceEvents, arrivals: PresenceEvents, watchers: readonly (readonly number[])[]): MatchResult {
  const byUser = index(changes);
  const latenciesMs: number[] = [];
  let unmatched = 0;
  let matchedOffline = 0;
  arrivals.users.forEach((u, k) => {
    const entry = byUser.get(u);
    const cause = entry && latestAtOrBefore(arrivals.online[k] ? entry.on : entry.off, arrivals.t[k]!);
    if (cause === undefined) unmatched++;
    else {
      latenciesMs.push(arrivals.t[k]! - cause);
      if (!arrivals.online[k]) matchedOffline++;
    }
  });
  let expected = 0;
  changes.users.forEach((u, k) => {
    for (const w of watchers[u] ?? []) if (connectedAt(byUser, w, changes.t[k]!)) expected++;
  });
  return { latenciesMs, matchedOffline, unmatched, expected };
}
