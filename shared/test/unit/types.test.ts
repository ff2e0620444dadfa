import assert from 'node:assert/strict';
import { conversationKey, dedupeKey } from '../../src/types.ts';

describe('dedupeKey', () => {
  it('is the same for the same (from, cid) and differs otherwise, whatever the cid holds', () => {
    assert.equal(dedupeKey('alice', 'c1'), dedupeKey('alice', 'c1'));
    const pairs: [string, string][] = [['alice', 'c1'], ['alice', 'c2'], ['bob', 'c1'], ['ali', 'cec1'], ['alice', 'c1\nx'], ['alice', '']];
    assert.equal(new Set(pairs.map(([from, cid]) => dedupeKey(from, cid))).size, pairs.length);
  });
});

describe('conversationKey', () => {
  it('is the same whichever of the two users asks', () => {
    assert.equal(conversationKey('alice', 'bob'), conversationKey('bob', 'alice'));
    assert.notEqual(conversationKey('alice', 'bob'), conversationKey('alice', 'carol'));
  });
});
