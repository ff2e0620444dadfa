/** The node's presence: what it tells discovery, and which connections get which states. */
import assert from 'node:assert/strict';
import type { FeedRequest } from '@chat/shared/internal-api';
import type { PresenceFrame, WirePresence } from '@chat/shared/protocol';
import { PresenceWatch } from '../../src/presence-watch.ts';
import { settle } from '../helpers/session-fakes.ts';

const online = (user: string): WirePresence => ({ user, online: true, last_seen: null });
const offline = (user: string, at: number): WirePresence => ({ user, online: false, last_seen: at });

/** A connection's sink that records what it was written. */
function sink() {
  const got: PresenceFrame[] = [];
  return { got, write: (f: string) => void got.push(JSON.parse(f) as PresenceFrame) };
}

describe('PresenceWatch', () => {
  let watch: PresenceWatch;
  let sent: FeedRequest[];
  beforeEach(() => {
    watch = new PresenceWatch();
    sent = [];
    watch.feedOpened({ send: (f) => void sent.push(f) });
  });

  it('tells discovery the union once per turn, and answers a watcher when discovery answers', async () => {
    const a = sink();
    const b = sink();
    watch.replace('c1', a.write, ['bob', 'carol']);
    watch.replace('c2', b.write, ['bob']);
    assert.deepEqual(sent, [], 'nothing before the end of the turn');
    await settle();
    assert.deepEqual(sent, [{ watch: ['bob', 'carol'] }]);
    assert.deepEqual(a.got, [], 'no state known yet: nothing to answer');
    watch.received([online('bob'), offline('carol', 5)]);
    assert.deepEqual(a.got, [{ type: 'presence', ...online('bob') }, { type: 'presence', ...offline('carol', 5) }]);
    assert.deepEqual(b.got, [{ type: 'presence', ...online('bob') }]);
    assert.equal(watch.changesReceived, 2);
  });

  it('answers a new watcher of a known user at once, and writes only changes', async () => {
    const a = sink();
    watch.replace('c1', a.write, ['bob']);
    await settle();
    watch.received([online('bob')]);
    const b = sink();
    watch.replace('c2', b.write, ['bob']);
    assert.deepEqual(b.got, [{ type: 'presence', ...online('bob') }], 'answered from what the node knows');
    await settle();
    assert.deepEqual(sent, [{ watch: ['bob'] }], 'discovery is not asked again');
    watch.received([online('bob')]);
    assert.equal(a.got.length + b.got.length, 2, 'the same state again is no news');
    watch.received([offline('bob', 9)]);
    assert.deepEqual([a.got.at(-1), b.got.at(-1)], [{ type: 'presence', ...offline('bob', 9) }, { type: 'presence', ...offline('bob', 9) }]);
  });

  it('unwatches users no connection watches any more, and ignores states of users it does not watch', async () => {
    const a = sink();
    watch.replace('c1', a.write, ['bob', 'carol']);
    await settle();
    watch.received([online('bob'), online('carol')]);
    watch.replace('c1', a.write, ['carol']);
    watch.release('c9'); // never watched: nothing changes
    await settle();
    assert.deepEqual(sent.at(-1), { unwatch: ['bob'] });
    assert.equal(a.got.length, 3, 'the new list was answered: carol');
    watch.received([offline('bob', 3), offline('dave', 4)]);
    assert.equal(a.got.length, 3, 'nothing written for bob or dave');
    watch.release('c1');
    await settle();
    assert.deepEqual(sent.at(-1), { unwatch: ['carol'] });
    assert.equal(watch.watchedUsers, 0);
  });

  it('tells a new feed connection the whole union and passes on only the states that changed meanwhile', async () => {
    const a = sink();
    watch.replace('c1', a.write, ['bob', 'carol']);
    await settle();
    watch.received([online('bob'), online('carol')]);
    watch.feedClosed();
    const before = sent.length;
    watch.replace('c2', sink().write, ['dave']);
    await settle();
    assert.equal(sent.length, before, 'nothing is sent without a feed');
    watch.feedOpened({ send: (f) => void sent.push(f) });
    assert.deepEqual(sent.slice(before), [{ watch: ['bob', 'carol', 'dave'] }]);
    watch.received([online('bob'), offline('carol', 7), online('dave')]);
    assert.deepEqual(a.got.slice(2), [{ type: 'presence', ...offline('carol', 7) }]);
  });

  it('after a reset, unwatches the users who left before saying the union again', async () => {
    const a = sink();
    watch.replace('c1', a.write, ['bob', 'carol']);
    await settle();
    watch.replace('c1', a.write, ['bob']);
    watch.resubscribe();
    assert.deepEqual(sent.slice(1), [{ unwatch: ['carol'] }, { watch: ['bob'] }]);
    await settle();
    assert.equal(sent.length, 3, 'the diff went with the reset');
  });
});
