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
  /** Frames expected: per change, the number of users watching the changed user. */
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

/** `watchers[u]`: how many users watch u (presence-plan.ts watcherCounts). */
export function matchPresence(changes: PresenceEvents, arrivals: PresenceEvents, watchers: ArrayLike<number>): MatchResult {
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
  const expected = changes.users.reduce((s, u) => s + (watchers[u] ?? 0), 0);
  return { latenciesMs, matchedOffline, unmatched, expected };
}
