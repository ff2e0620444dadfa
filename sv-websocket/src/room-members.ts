/**
 * The member lists of the rooms this node's connections talk in, fetched from sv-persist (which
 * owns membership) and kept by version. A send to a room checks its sender against the list and
 * fans out to it, so the list is read once per message and fetched only when missing.
 *
 * - One fetch per room at a time: concurrent sends to a room share it; fetches of many rooms go
 *   as one request (natural batching).
 * - Bounded: at most `maxRooms` lists, the least recently used dropped first.
 * - Kept right by the change feed: a room named with a newer version is dropped at once (`changed`),
 *   and a fetch that was in flight then is answered but not kept (it may predate the change);
 *   `clear` drops everything (the feed may have missed changes). A change this node made is kept
 *   at once from sv-persist's answer (`learn`).
 * - Lifetimes: while the feed is connected a list lives `pushedTtlMs`, a bound in case a change's
 *   notice never reached sv-discover; without the feed, `ttlMs` (short), and going off cuts every
 *   list down to it.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import type { RoomState } from '@chat/shared/internal-api';
import type { RoomId, UserId } from '@chat/shared/types';

/** A room as cached: its state and its members as a set, for the check each send makes. */
export interface CachedRoom {
  readonly state: RoomState;
  readonly members: ReadonlySet<UserId>;
}

interface Entry extends CachedRoom {
  expires: number;
}

export interface RoomMembersOptions {
  /** The current state of `rooms` (sv-persist); a room that does not exist is left out. */
  fetch: (rooms: RoomId[]) => Promise<RoomState[]>;
  /** Most rooms kept. */
  maxRooms: number;
  /** How long a list is kept while the change feed is connected. */
  pushedTtlMs: number;
  /** How long a list is kept while it is not. */
  ttlMs: number;
  /** Clock. @default Date.now */
  now?: () => number;
}

export class RoomMembers {
  /** In order of last use: the first is the least recently used. */
  private readonly entries = new Map<RoomId, Entry>();
  private readonly inFlight = new Map<RoomId, Promise<CachedRoom | undefined>>();
  private readonly fetches: NaturalBatcher<RoomId, RoomState | undefined>;
  private readonly now: () => number;
  private pushed = false;
  hits = 0;
  misses = 0;
  /** Lists dropped because a change named a newer version, or the feed was reset. */
  drops = 0;

  constructor(private readonly opts: RoomMembersOptions) {
    this.now = opts.now ?? Date.now;
    this.fetches = new NaturalBatcher<RoomId, RoomState | undefined>({
      name: 'room member lists', maxBatch: 1000, maxQueue: 10_000, concurrency: 2, gatherTurn: true,
      run: async (rooms) => {
        const found = new Map((await opts.fetch([...new Set(rooms)])).map((r) => [r.room, r]));
        return rooms.map((r) => found.get(r));
      },
    });
  }

  /** Rooms cached. */
  get size(): number {
    return this.entries.size;
  }

  /** The room, from the cache or fetched (undefined: no such room). Rejects when sv-persist does not answer. */
  get(room: RoomId): Promise<CachedRoom | undefined> {
    const hit = this.cached(room);
    if (hit) return Promise.resolve(hit);
    const known = this.inFlight.get(room);
    if (known) return known;
    this.misses++;
    const fetch: Promise<CachedRoom | undefined> = this.fetches.push(room).then((state) => {
      const current = this.inFlight.get(room) === fetch;
      if (current) this.inFlight.delete(room);
      if (state === undefined) return undefined;
      return current ? this.keep(state) : cachedRoom(state);
    }, (err: unknown) => {
      if (this.inFlight.get(room) === fetch) this.inFlight.delete(room);
      throw err;
    });
    this.inFlight.set(room, fetch);
    return fetch;
  }

  /** The room if cached and fresh, without fetching; counts as its use. */
  cached(room: RoomId): CachedRoom | undefined {
    const entry = this.entries.get(room);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(room);
      return undefined;
    }
    this.hits++;
    this.entries.delete(room);
    this.entries.set(room, entry);
    return entry;
  }

  /** A room's state as sv-persist answered a change this node made: kept, unless a newer one is. */
  learn(state: RoomState): CachedRoom {
    this.inFlight.delete(state.room);
    return this.keep(state);
  }

  /** The change feed says `room` is now at `version`: an older list goes, and a fetch in flight is not kept. */
  changed(room: RoomId, version: number): void {
    this.inFlight.delete(room);
    const entry = this.entries.get(room);
    if (entry && entry.state.version < version) {
      this.entries.delete(room);
      this.drops++;
    }
  }

  /** Changes may have been missed: drop every list. */
  clear(): void {
    this.drops += this.entries.size;
    this.entries.clear();
    this.inFlight.clear();
  }

  /** Whether the change feed is connected; going off cuts every list down to the short lifetime. */
  setPushed(on: boolean): void {
    if (this.pushed && !on) {
      const latest = this.now() + this.opts.ttlMs;
      for (const entry of this.entries.values()) entry.expires = Math.min(entry.expires, latest);
    }
    this.pushed = on;
  }

  private keep(state: RoomState): CachedRoom {
    const held = this.entries.get(state.room);
    if (held && held.state.version > state.version) return held;
    const entry: Entry = { ...cachedRoom(state), expires: this.now() + (this.pushed ? this.opts.pushedTtlMs : this.opts.ttlMs) };
    this.entries.delete(state.room);
    this.entries.set(state.room, entry);
    if (this.entries.size > this.opts.maxRooms) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}

function cachedRoom(state: RoomState): CachedRoom {
  return { state, members: new Set(state.members) };
}
