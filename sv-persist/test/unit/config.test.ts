/** sv-persist's configuration: MAX_ROOM_MEMBERS, its default and its bounds. */
import assert from 'node:assert/strict';
import { DEFAULT_MAX_ROOM_MEMBERS } from '@chat/shared/protocol';
import { loadConfig } from '../../src/config.ts';

describe('sv-persist config', () => {
  it('MAX_ROOM_MEMBERS: the protocol default, a variable or a flag', () => {
    assert.equal(loadConfig({}, []).maxRoomMembers, DEFAULT_MAX_ROOM_MEMBERS);
    assert.equal(loadConfig({ MAX_ROOM_MEMBERS: '50' }, []).maxRoomMembers, 50);
    assert.equal(loadConfig({ MAX_ROOM_MEMBERS: '50' }, ['--max-room-members', '70']).maxRoomMembers, 70);
  });

  it('refuses a MAX_ROOM_MEMBERS out of bounds, naming it', () => {
    for (const value of ['0', '-3', '2.5', 'many', '1000001']) {
      assert.throws(() => loadConfig({ MAX_ROOM_MEMBERS: value }, []), (err: Error & { code?: string }) =>
        err.code === 'CHAT_ERR_CONFIG' && /MAX_ROOM_MEMBERS/.test(err.message), value);
    }
  });
});
