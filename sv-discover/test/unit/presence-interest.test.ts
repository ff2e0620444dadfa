import assert from 'node:assert/strict';
import { InterestIndex } from '../../src/presence-interest.ts';

describe('InterestIndex', () => {
  it('finds the subscribers of a user, and only those', () => {
    const index = new InterestIndex<string>();
    index.add('n1', ['alice', 'bob']);
    index.add('n2', ['bob']);
    assert.deepEqual([...index.subscribersOf('bob')].sort(), ['n1', 'n2']);
    assert.deepEqual([...index.subscribersOf('alice')], ['n1']);
    assert.deepEqual([...index.subscribersOf('carol')], []);
    assert.equal(index.users, 2);
  });

  it('removes users of one subscriber without touching the others', () => {
    const index = new InterestIndex<string>();
    index.add('n1', ['alice', 'bob', 'bob']);
    index.add('n2', ['bob']);
    index.remove('n1', ['bob', 'nobody']);
    assert.deepEqual([...index.subscribersOf('bob')], ['n2']);
    assert.equal(index.watches('n1', 'bob'), false);
    assert.equal(index.sizeOf('n1'), 1);
    index.remove('n3', ['alice']);
    assert.deepEqual([...index.subscribersOf('alice')], ['n1']);
  });

  it('forgets everything a subscriber watched when it leaves', () => {
    const index = new InterestIndex<string>();
    index.add('n1', ['alice', 'bob']);
    index.add('n2', ['bob']);
    index.drop('n1');
    assert.equal(index.sizeOf('n1'), 0);
    assert.deepEqual([...index.subscribersOf('alice')], []);
    assert.deepEqual([...index.subscribersOf('bob')], ['n2']);
    assert.equal(index.users, 1, 'no empty sets left behind');
  });
});
