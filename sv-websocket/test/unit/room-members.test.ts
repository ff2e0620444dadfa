/** The node's cache of room member lists, on a scripted fetch (sv-persist's answers) and a clock the test moves. */
import assert from 'node:assert/strict';
import type { RoomState } from '@chat/shared/internal-api';
import { RoomMembers } from '../../src/room-members.ts';
import { Deferred } from '../helpers/session-fakes.ts';

const room = (id: string, version: number, members: string[] = ['alice', 'bob']): RoomState =>
  ({ room: id, title: id, owner: members[0] ?? 'alice', public: false, members, version });

/** sv-persist as a map of rooms; each fetch is recorded, and `hold` keeps the next one pending. */
function persist(rooms: RoomState[]) {
  const stored = new Map(rooms.map((r) => [r.room, r]));
  const fetched: string[][] = [];
  let held: Deferred<void> | undefined;
  return {
    stored, fetched,
    hold: () => (held = new Deferred<void>()),
    fetch: async (ids: string[]) => {
      fetched.push(ids);
      const wait = held;
      held = undefined;
      const answer = ids.flatMap((id) => stored.get(id) ?? []);
      if (wait) await wait.promise;
      return answer;
    },
  };
}

function cache(p: ReturnType<typeof persist>, opts: { maxRooms?: number; clock?: { now: number } } = {}) {
  const clock = opts.clock ?? { now: 0 };
  return new RoomMembers({ fetch: p.fetch, maxRooms: opts.maxRooms ?? 100, pushedTtlMs: 60_000, ttlMs: 1000, now: () => clock.now });
}

describe('RoomMembers', () => {
  it('fetches a room once for concurrent callers, batching rooms, then answers from the cache', async () => {
    const p = persist([room('r1', 1), room('r2', 1, ['carol'])]);
    const members = cache(p);
    const [a, b, c, none] = await Promise.all([members.get('r1'), members.get('r1'), members.get('r2'), members.get('nope')]);
    assert.deepEqual(p.fetched, [['r1', 'r2', 'nope']], 'one request for every room asked in one turn, each once');
    assert.equal(a, b, 'the callers share one answer');
    assert.deepEqual([a!.members.has('bob'), c!.members.has('bob'), none], [true, false, undefined]);
    await members.get('r1');
    assert.equal(p.fetched.length, 1, 'cached');
    await members.get('nope');
    assert.equal(p.fetched.length, 2, 'a room that does not exist is not cached');
  });

  it('drops a list when a change names a newer version, keeps it for an older or equal one', async () => {
    const p = persist([room('r1', 3)]);
    const members = cache(p);
    await members.get('r1');
    members.changed('r1', 3);
    members.changed('r1', 2);
    assert.ok(members.cached('r1'), 'not older');
    p.stored.set('r1', room('r1', 4, ['alice']));
    members.changed('r1', 4);
    assert.equal(members.cached('r1'), undefined);
    assert.deepEqual([...(await members.get('r1'))!.members], ['alice']);
    assert.equal(members.drops, 1);
  });

  it('answers a fetch in flight when a change comes, but does not keep it: the next caller fetches anew', async () => {
    const p = persist([room('r1', 1)]);
    const members = cache(p);
    const held = p.hold();
    const early = members.get('r1');
    await new Promise(setImmediate);
    p.stored.set('r1', room('r1', 2, ['alice']));
    members.changed('r1', 2);
    held.resolve();
    assert.equal((await early)!.state.version, 1, 'the early caller gets what was read before the change');
    assert.equal((await members.get('r1'))!.state.version, 2, 'a later caller does not get the old list');
    assert.equal(p.fetched.length, 2);
  });

  it('keeps a change this node made at once, and never goes back to an older version', async () => {
    const p = persist([room('r1', 1)]);
    const members = cache(p);
    members.learn(room('r1', 5, ['alice', 'carol']));
    assert.equal((await members.get('r1'))!.state.version, 5);
    members.learn(room('r1', 4));
    assert.equal(members.cached('r1')!.state.version, 5);
    assert.deepEqual(p.fetched, [], 'nothing fetched');
  });

  it('holds at most maxRooms, dropping the least recently used', async () => {
    const p = persist([room('r1', 1), room('r2', 1), room('r3', 1)]);
    const members = cache(p, { maxRooms: 2 });
    await members.get('r1');
    await members.get('r2');
    members.cached('r1');
    await members.get('r3');
    assert.deepEqual([members.size, !!members.cached('r1'), !!members.cached('r2'), !!members.cached('r3')], [2, true, false, true]);
  });

  it('drops everything on clear; lives long while the feed is connected, and briefly once it is not', async () => {
    const clock = { now: 0 };
    const p = persist([room('r1', 1), room('r2', 1)]);
    const members = cache(p, { clock });
    members.setPushed(true);
    await members.get('r1');
    clock.now = 30_000;
    assert.ok(members.cached('r1'), 'within the pushed lifetime');
    members.setPushed(false);
    clock.now = 30_999;
    assert.ok(members.cached('r1'), 'cut down to the short lifetime, not dropped');
    clock.now = 31_000;
    assert.equal(members.cached('r1'), undefined);
    await members.get('r2');
    clock.now = 32_000;
    assert.equal(members.cached('r2'), undefined, 'fetched while the feed is off: the short lifetime');
    members.setPushed(true);
    await Promise.all([members.get('r1'), members.get('r2')]);
    members.clear();
    assert.deepEqual([members.size, members.drops], [0, 2]);
  });

  it('rejects the callers of a fetch that failed, and fetches again next time', async () => {
    let fail = true;
    const members = new RoomMembers({
      fetch: async (ids) => { if (fail) throw new Error('sv-persist down'); return ids.map((id) => room(id, 1)); },
      maxRooms: 10, pushedTtlMs: 60_000, ttlMs: 1000,
    });
    await assert.rejects(members.get('r1'), /sv-persist down/);
    fail = false;
    assert.equal((await members.get('r1'))!.state.version, 1);
  });
});
