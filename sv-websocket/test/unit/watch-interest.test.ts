/** The node's watch lists, their union, and the diff discovery is told (pure parts of presence). */
import assert from 'node:assert/strict';
import { chunked, InterestDiff } from '../../src/interest-diff.ts';
import { WatchLists } from '../../src/watch-lists.ts';

const sorted = (users: Iterable<string>) => [...users].sort();

describe('WatchLists', () => {
  it('tells which users join the union when a list replaces another, and which leave it', () => {
    const lists = new WatchLists<string>();
    assert.deepEqual(lists.replace('c1', 'w1', ['alice', 'bob', 'bob']), { added: ['alice', 'bob'], removed: [] });
    assert.deepEqual(lists.replace('c2', 'w2', ['bob', 'carol']), { added: ['carol'], removed: [] }, 'bob is in the union already');
    assert.deepEqual(lists.replace('c1', 'w1', ['carol', 'dave']), { added: ['dave'], removed: ['alice'] }, 'bob stays: c2 watches him');
    assert.deepEqual(sorted(lists.users()), ['bob', 'carol', 'dave']);
    assert.deepEqual(sorted(lists.watchersOf('carol')), ['w1', 'w2']);
    assert.deepEqual([...lists.watchersOf('alice')], []);
  });

  it('clears a list with an empty one, and releases a closed connection\'s users', () => {
    const lists = new WatchLists<string>();
    lists.replace('c1', 'w1', ['alice', 'bob']);
    lists.replace('c2', 'w2', ['bob']);
    assert.deepEqual(lists.replace('c1', 'w1', []), { added: [], removed: ['alice'] });
    assert.deepEqual(lists.release('c1'), { added: [], removed: [] }, 'nothing left to release');
    assert.deepEqual(lists.release('c2'), { added: [], removed: ['bob'] });
    assert.equal(lists.size, 0);
    assert.equal(lists.has('bob'), false);
  });
});

describe('InterestDiff', () => {
  it('sends each user who joined or left once, net of comings and goings since the last frame', () => {
    const diff = new InterestDiff();
    assert.equal(diff.empty, true);
    diff.apply({ added: ['alice', 'bob'], removed: [] });
    diff.apply({ added: [], removed: ['bob'] }); // joined and left before discovery heard: nothing to say
    assert.deepEqual(diff.take(), { watch: ['alice'], unwatch: [] });
    diff.apply({ added: [], removed: ['alice'] });
    diff.apply({ added: ['alice', 'carol'], removed: [] }); // left and came back: discovery still has her
    assert.deepEqual(diff.take(), { watch: ['carol'], unwatch: [] });
    diff.apply({ added: [], removed: ['carol'] });
    assert.deepEqual(diff.take(), { watch: [], unwatch: ['carol'] });
    assert.equal(diff.empty, true);
  });

  it('splits long lists into frames of a bounded size', () => {
    assert.deepEqual(chunked(['a', 'b', 'c', 'd', 'e'], 2), [['a', 'b'], ['c', 'd'], ['e']]);
    assert.deepEqual(chunked([], 2), []);
  });
});
