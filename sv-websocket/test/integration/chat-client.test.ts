/**
 * The client library (shared/client/chat-client.js) against real meshes, in Node with the `ws`
 * package: messages across nodes, a node SIGKILLed mid-conversation, a send refused while the
 * log is frozen, the bounded send queue, and refused credentials.
 */
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { ChatClient, ChatError } from '@chat/shared/client/chat-client.js';
import type { Ack } from '@chat/shared/protocol';
import { startMesh, uniqueUser, type Mesh } from '../helpers/mesh.ts';
import { expectStoredExactlyOnce, type AckedMessage } from '../helpers/stored.ts';
import { eventually } from '@chat/shared/testing/eventually';
import { metricValue } from '../helpers/faults.ts';
import { wholeConversation } from '../helpers/recording-client.ts';
import { recorded, type ChatClientOptions } from '../helpers/library-client.ts';

const JWT_SECRET = 'jwt-secret-for-tests-0123456789-abcdef';

type Options = ChatClientOptions;

const unique = <T>(xs: T[]) => new Set(xs).size === xs.length;

describe('client library: ChatClient against a mesh', function () {
  this.timeout(60_000);
  let mesh: Mesh;
  const open: ChatClient[] = [];
  const client = (opts: Options) => {
    const r = recorded(opts);
    open.push(r.client);
    return r;
  };
  const urls = () => mesh.nodes.slice(0, 2).map((n) => n.url);

  before(async function () {
    this.timeout(120_000);
    mesh = await startMesh([{}, {}, { AUTH_MODE: 'jwt', AUTH_SECRET: JWT_SECRET }]);
  });
  afterEach(() => { for (const c of open.splice(0)) c.close(); });
  after(async () => { await mesh?.stop(); });

  it('exchanges messages between two clients on two nodes, each passed on once', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')] as [string, string];
    const alice = client({ urls: urls(), user: a, start: 0 });
    const bob = client({ urls: urls(), user: b, start: 1 });
    await Promise.all([alice.client.connect(), bob.client.connect()]);
    assert.deepEqual([alice.client.node, bob.client.node], ['node-0', 'node-1']);

    const hi = await alice.client.send(b, 'hi bob');
    assert.ok(hi.cid.length <= 64 && hi.seq > 0);
    await eventually('bob got it', () => bob.messages.some((m) => m.id === hi.id));
    const hello = await bob.client.send(a, 'hello alice');
    await eventually('alice got the answer', () => alice.messages.some((m) => m.id === hello.id));

    assert.deepEqual(alice.acks.map((x) => x.id), [hi.id], 'one ack event per send');
    assert.deepEqual(bob.messages.map((m) => [m.from, m.body]), [[a, 'hi bob']], 'own sends are acks, not messages');
    const page = await alice.client.history(b, { limit: 10 });
    assert.deepEqual(page.messages.map((m) => m.id), [hi.id, hello.id]);
    assert.equal(page.more, false);
    assert.deepEqual((await bob.client.conversations(5)).map((c) => [c.with, c.last.id]), [[a, hello.id]]);
    assert.equal(alice.messages.length, 1, 'a history page does not pass the messages on again');
  });

  it('holds sends until it connects, at most maxQueue of them, and rejects beyond at once', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')] as [string, string];
    const alice = client({ urls: urls(), user: a, maxQueue: 3 });
    const sends = ['one', 'two', 'three'].map((body) => alice.client.send(b, body));
    assert.equal(alice.client.queued, 3);
    await assert.rejects(alice.client.send(b, 'four'), (err: ChatError) => err.code === 'queue_full');
    await assert.rejects(alice.client.send('not a user!', 'x'), (err: ChatError) => err.code === 'bad_request');
    assert.equal(alice.client.queued, 3, 'a refused send changes nothing');

    await alice.client.connect();
    const acks = await Promise.all(sends);
    assert.ok(unique(acks.map((x) => x.cid)), 'each send has a cid of its own');
    const stored = await wholeConversation(alice.client, b);
    assert.deepEqual(stored.map((m) => m.body), ['one', 'two', 'three'], 'sent in order');
    assert.deepEqual(stored.map((m) => m.id), acks.map((x) => x.id));
    assert.equal(alice.client.queued, 0);
  });

  it('stops at close 4401 and says so; a valid token connects', async () => {
    const jwtNode = [mesh.nodes[2]!.url];
    const refused = client({ urls: jwtNode, token: 'not-a-jwt' });
    await assert.rejects(refused.client.connect(), (err: ChatError) => err.code === 'unauthorized');
    assert.deepEqual(refused.states.map((s) => s.state), ['connecting', 'closed'], 'no reconnect is even scheduled');
    assert.equal(refused.states[1]!.code, 4401);
    assert.deepEqual(refused.errors.map((e) => e.code), ['unauthorized']);
    assert.equal(refused.client.state, 'closed');

    const sub = uniqueUser('jay');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('5m').sign(new TextEncoder().encode(JWT_SECRET));
    const jay = client({ urls: jwtNode, token });
    await jay.client.connect();
    assert.equal(jay.client.user, sub, 'the user is the token subject, from welcome');
  });
});

/** A mesh for one describe block, and the library clients its tests open, all closed after it. */
function libraryMesh(nodes: Record<string, string>[], beforeStop?: (mesh: Mesh) => void) {
  let mesh: Mesh | undefined;
  const clients: ChatClient[] = [];
  before(async function () {
    this.timeout(120_000);
    mesh = await startMesh({ nodes });
  });
  after(async () => {
    if (mesh) beforeStop?.(mesh);
    for (const c of clients.splice(0)) c.close();
    await mesh?.stop();
  });
  return { get mesh() { return mesh!; }, clients };
}

describe('client library: a node SIGKILLed mid-conversation', function () {
  this.timeout(120_000);
  const suite = libraryMesh([{ LEASE_MS: '2000' }, { LEASE_MS: '2000' }]);

  it('moves to the other node, resends with the same cids, catches up; every send acked and stored once', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')] as [string, string];
    const urls = suite.mesh.nodes.map((n) => n.url);
    const alice = recorded({ urls, user: a, start: 0 });
    const bob = recorded({ urls, user: b, start: 1 });
    suite.clients.push(alice.client, bob.client);
    await Promise.all([alice.client.connect(), bob.client.connect()]);

    const acked: (AckedMessage & { to: string })[] = [];
    const ROUNDS = 12;
    let killed: Promise<void> | undefined;
    const talk = async (from: typeof alice, user: string, to: string) => {
      for (let round = 0; round < ROUNDS; round++) {
        // Five at a time, so several are unacked when the node dies.
        const acks = await Promise.all(Array.from({ length: 5 }, (_, k) => from.client.send(to, `${user} ${round}.${k}`)));
        acked.push(...acks.map((x) => ({ from: user, to, cid: x.cid, id: x.id, seq: x.seq })));
        if (round === 3 && user === a) killed = suite.mesh.nodes[0]!.stop('SIGKILL');
      }
    };
    await Promise.all([talk(alice, a, b), talk(bob, b, a)]);
    await killed;
    assert.equal(suite.mesh.nodes[0]!.child.signalCode, 'SIGKILL', 'the node really died');

    assert.equal(acked.length, 2 * ROUNDS * 5);
    assert.ok(unique(acked.map((x) => x.id)), 'ids are unique');
    for (const r of [alice, bob]) assert.ok(unique(r.acks.map((x) => x.cid)), 'one ack event per send');
    assert.equal(alice.acks.length + bob.acks.length, acked.length);
    const opens = alice.states.filter((s) => s.state === 'open').map((s) => s.node);
    assert.deepEqual([opens[0], opens.at(-1)], ['node-0', 'node-1'], 'alice moved to the other node');
    assert.ok(alice.states.some((s) => s.state === 'reconnecting'));
    await expectStoredExactlyOnce(suite.mesh.databaseUrl, acked);

    // alice, who reconnected, got every message of bob's once: live, or by catching up.
    const fromBob = acked.filter((x) => x.from === b).map((x) => x.id).sort();
    await eventually('alice has every message of bob', () => fromBob.every((id) => alice.messages.some((m) => m.id === id)));
    assert.deepEqual(alice.messages.map((m) => m.id).sort(), fromBob, 'each once, and nothing else');
    // bob stayed on node-1; messages acked by node-0 just before it died never reached him live,
    // but history has the whole conversation, each message once.
    const history = await wholeConversation(bob.client, a);
    assert.deepEqual(history.map((m) => m.id).sort(), acked.map((x) => x.id).sort());
  });
});

describe('client library: a send refused while the log is frozen', function () {
  this.timeout(90_000);
  const suite = libraryMesh([{ LOG_MAX_WAIT_MS: '300' }], (mesh) => { if (mesh.persist.child.exitCode === null) mesh.persist.child.kill('SIGCONT'); });

  it('retries the unavailable send with the same cid until it is acked, once', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')] as [string, string];
    const alice = recorded({ urls: [suite.mesh.nodes[0]!.url], user: a });
    suite.clients.push(alice.client);
    await alice.client.connect();
    const first = await alice.client.send(b, 'one');
    const node = suite.mesh.nodes[0]!;
    suite.mesh.persist.child.kill('SIGSTOP');
    let second: Promise<Ack>;
    let third: Promise<Ack>;
    try {
      second = alice.client.send(b, 'two'); // waits for the frozen log
      await eventually('the log 300 ms behind', async () => ((await metricValue(node.url, 'chat_log_backlog_seconds')) ?? 0) > 0.3);
      third = alice.client.send(b, 'three');
      await eventually('a send refused as unavailable, to be retried', () => alice.errors.some((e) => e.code === 'unavailable' && e.retrying === true));
    } finally {
      suite.mesh.persist.child.kill('SIGCONT');
    }
    const acks = [first, await second, await third];
    const retried = alice.errors.filter((e) => e.code === 'unavailable').map((e) => e.cid);
    assert.ok(retried.every((cid) => cid === acks[1]!.cid || cid === acks[2]!.cid), 'only the frozen sends were refused');
    assert.deepEqual(alice.acks.map((x) => x.cid).sort(), acks.map((x) => x.cid).sort(), 'one ack event per send');
    await expectStoredExactlyOnce(suite.mesh.databaseUrl, acks.map((x) => ({ from: a, cid: x.cid, id: x.id, seq: x.seq })));
  });
});
