/**
 * The bundled /client page in a real browser (Debian's chromium driven by playwright-core):
 * two users on two nodes chat across the mesh, see each other's presence, typing, unread counts
 * and read ticks, and history survives a reload and a node's restart. The page runs on the
 * client library, which every node serves as JavaScript modules at /client/*.js. Screenshots
 * go to test-results/ (git-ignored) for a look at how the page draws.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startService } from '@chat/shared/testing/processes';
import { startMesh, uniqueUser, type Mesh } from '../helpers/mesh.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../../test-results/', import.meta.url));

describe('the /client test page in a browser', function () {
  this.timeout(60_000);
  let mesh: Mesh;
  let browser: Browser;

  before(async function () {
    this.timeout(120_000);
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install the Debian package chromium (or set CHROMIUM_PATH)`);
    mkdirSync(SHOTS, { recursive: true });
    mesh = await startMesh([{}, {}]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await mesh?.stop();
  });

  async function openPage(node: number, user: string, peer?: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
    await page.goto(`${mesh.nodes[node]!.url}/client?user=${user}${peer ? `&peer=${peer}` : ''}`);
    await page.waitForSelector('#status[data-state="online"]');
    return page;
  }
  const bodies = (page: Page) => page.$$eval('#messages .body', (els) => els.map((e) => e.textContent));
  const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}client-${name}.png` });

  it('serves the client library and every module it imports as JavaScript', async () => {
    const base = `${mesh.nodes[0]!.url}/client/`;
    const seen = new Set<string>();
    const fetchModule = async (name: string): Promise<void> => {
      if (seen.has(name)) return;
      seen.add(name);
      const res = await fetch(base + name);
      assert.equal(res.status, 200, name);
      assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8', name);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      const imports = [...(await res.text()).matchAll(/^(?:import|export) [^;]*? from '\.\/([\w-]+\.js)';$/gm)].map((m) => m[1]!);
      await Promise.all(imports.map(fetchModule));
    };
    await fetchModule('chat-client.js');
    assert.ok(seen.size > 3, `the library's modules: ${[...seen].join(', ')}`);
    assert.equal((await fetch(base + 'no-such-module.js')).status, 404);
  });

  it('chats across two nodes and keeps history across a reload', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await openPage(0, a, b);
    const bob = await openPage(1, b, a);
    assert.equal(await alice.textContent('#node'), 'node-0');
    assert.equal(await bob.textContent('#node'), 'node-1');

    await alice.fill('#text', 'hi bob <b>not bold</b>');
    await alice.click('#send');
    await alice.waitForSelector('#messages li[data-state="sent"]');
    await bob.waitForSelector('#messages li[data-state="received"]');
    assert.deepEqual(await bodies(bob), ['hi bob <b>not bold</b>']);
    assert.equal(await bob.$$eval('#messages b', (els) => els.length), 0, 'text is never rendered as HTML');

    await bob.fill('#text', 'hello alice');
    await bob.press('#text', 'Enter');
    await alice.waitForFunction(() => document.querySelectorAll('#messages li').length === 2);
    assert.deepEqual(await bodies(alice), ['hi bob <b>not bold</b>', 'hello alice']);

    await alice.reload();
    await alice.waitForSelector('#status[data-state="online"]');
    await alice.waitForFunction(() => document.querySelectorAll('#messages li').length === 2);
    assert.deepEqual(await bodies(alice), ['hi bob <b>not bold</b>', 'hello alice']);
    const convs = await alice.$$eval('#conversations [data-peer]', (els) => els.map((e) => (e as HTMLElement).dataset.peer));
    assert.deepEqual(convs, [b]);
  });

  it('shows presence, typing, unread counts and read ticks across two nodes', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await openPage(0, a, b);
    await alice.waitForSelector('#peer-presence[data-online="false"]');
    const bob = await openPage(1, b);
    const bobElsewhere = await openPage(0, b); // another tab of bob's, on the other node
    await alice.waitForSelector('#peer-presence[data-online="true"]');
    assert.equal(await alice.textContent('#peer-presence'), 'online');

    await alice.fill('#text', 'are you there?');
    await alice.press('#text', 'Enter');
    await alice.waitForSelector('#messages li.own[data-state="sent"]');
    assert.equal(await alice.textContent('#messages li.own .tick'), '✓ sent', 'acked, not read yet');
    const conv = `#conversations li[data-peer="${a}"]`;
    await bob.waitForSelector(`${conv} .badge`);
    assert.equal(await bob.textContent(`${conv} .badge`), '1');
    await bob.waitForSelector(`${conv} .dot[data-online="true"]`);

    // Typed at a person's pace: the node passes on one `typing` every 2 s, the one the send above went with included.
    await alice.type('#text', 'one more thing', { delay: 250 });
    await bob.waitForSelector(`${conv} .preview.typing`);
    await shot(bob, 'unread-typing');

    await bobElsewhere.waitForSelector(`${conv} .badge`);
    await bob.click(conv);
    await bob.waitForFunction(() => document.querySelectorAll('#messages li').length === 1);
    assert.equal(await bob.$(`${conv} .badge`), null, 'the badge goes when the conversation is open');
    await bobElsewhere.waitForSelector(`${conv}:not(.unread)`);
    assert.equal(await bobElsewhere.$(`${conv} .badge`), null, 'the reader\'s other tab clears its badge too');
    await alice.waitForSelector('#messages li.own[data-read="true"]');
    assert.equal(await alice.textContent('#messages li.own .tick'), '✓✓ read');

    await bob.type('#text', 'yes, here', { delay: 250 });
    await alice.waitForSelector('#peer-typing:not([hidden])');
    await shot(alice, 'read-typing');
    await bob.press('#text', 'Enter');
    await alice.waitForSelector('#peer-typing[hidden]', { state: 'attached' });
    assert.deepEqual(await bodies(alice), ['are you there?', 'yes, here']);
  });

  it('marks nothing read while the page is hidden, and marks the open conversation read when it shows', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await openPage(0, a, b);
    const bob = await openPage(1, b, a);
    // What a browser does when the tab goes to the background (or the window is minimized).
    const setVisibility = (page: Page, state: 'hidden' | 'visible') => page.evaluate((s) => {
      Object.defineProperty(document, 'visibilityState', { value: s, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, state);
    await setVisibility(bob, 'hidden');
    for (const text of ['first, unseen', 'second, unseen']) {
      await alice.fill('#text', text);
      await alice.press('#text', 'Enter');
      await bob.waitForFunction((t) => [...document.querySelectorAll('#messages .body')].some((e) => e.textContent === t), text);
    }
    // Had the first arrival marked it read, the mark would have reached sv-persist before the second message came back.
    const items = await (await fetch(`${mesh.nodes[0]!.url}/v1/conversations?user=${a}`)).json() as { items: { with?: string; peer_read_seq?: number }[] };
    assert.equal(items.items.find((i) => i.with === b)?.peer_read_seq, 0, 'bob read nothing while his page was hidden');
    assert.deepEqual(await alice.$$eval('#messages li.own', (els) => els.map((e) => (e as HTMLElement).dataset.read ?? 'false')), ['false', 'false']);

    await setVisibility(bob, 'visible');
    await alice.waitForFunction(() => [...document.querySelectorAll('#messages li.own')].every((e) => (e as HTMLElement).dataset.read === 'true'));
  });

  it('loads older history when scrolled to the top', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await openPage(0, a, b);
    const sent = Array.from({ length: 60 }, (_, i) => `m${i}`);
    await alice.evaluate(async (texts) => {
      for (const t of texts) {
        (document.getElementById('text') as HTMLTextAreaElement).value = t;
        (document.getElementById('send') as HTMLButtonElement).click();
      }
    }, sent);
    await alice.waitForFunction(() => document.querySelectorAll('#messages li[data-state="sent"]').length === 60);
    const fresh = await openPage(0, a, b);
    await fresh.waitForFunction(() => document.querySelectorAll('#messages li').length >= 50);
    await fresh.$eval('#messages', (box) => { box.scrollTop = 0; });
    await fresh.waitForFunction(() => document.querySelectorAll('#messages li').length === 60);
    assert.deepEqual(await bodies(fresh), sent);
  });

  it('creates a room, talks in it with senders\' names, and lets the owner remove a member and a member leave', async () => {
    const [a, b, c] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol')];
    const [alice, bob, carol] = [await openPage(0, a), await openPage(1, b), await openPage(1, c)];
    await alice.click('.new-room summary');
    await alice.fill('#room-title', 'Team <i>plans</i>');
    await alice.fill('#room-members', `${b}, ${c}`);
    await alice.click('#room-create');
    await alice.waitForSelector('#room-panel:not([hidden])');
    assert.equal(await alice.textContent('#chat-peer'), '# Team <i>plans</i>', 'the title is text');
    await alice.waitForFunction(() => /^3 members: /.test(document.getElementById('room-member-list')!.textContent ?? ''));
    assert.match((await alice.textContent('#room-member-list'))!, new RegExp(`${a} \\(owner\\)`));
    assert.equal(await alice.isVisible('#room-owner-tools'), true);

    const roomLi = 'li.conv.room[data-peer^="#"]';
    await bob.waitForSelector(roomLi);
    await bob.click(roomLi);
    await bob.waitForSelector('#room-panel:not([hidden])');
    await bob.waitForFunction(() => /^3 members/.test(document.getElementById('room-member-list')!.textContent ?? ''));
    assert.equal(await bob.isVisible('#room-owner-tools'), false, 'only the owner adds and removes');

    await alice.fill('#text', 'hi team');
    await alice.press('#text', 'Enter');
    await bob.waitForSelector('#messages li.theirs');
    assert.deepEqual([await bob.textContent('#messages li.theirs .from'), await bob.textContent('#messages li.theirs .body')], [a, 'hi team']);
    await carol.waitForSelector(`${roomLi} .badge`);
    assert.equal(await carol.textContent(`${roomLi} .badge`), '1');
    assert.equal(await carol.textContent(`${roomLi} .name`), '# Team <i>plans</i>');
    await bob.fill('#text', 'hello');
    await bob.press('#text', 'Enter');
    await alice.waitForSelector('#messages li.theirs');
    assert.equal(await alice.textContent('#messages li.theirs .from'), b);
    assert.equal(await alice.textContent('#messages li.own .from'), '', 'no name on one\'s own');
    await shot(alice, 'room');

    await alice.fill('#room-users', c);
    await alice.click('#room-remove');
    await carol.waitForSelector(roomLi, { state: 'detached' });
    await alice.waitForFunction(() => /^2 members/.test(document.getElementById('room-member-list')!.textContent ?? ''));
    await bob.click('#room-leave');
    await bob.waitForSelector('#room-panel', { state: 'hidden' });
    assert.equal(await bob.$(roomLi), null, 'the room left the list of the one who left');
    await alice.waitForFunction(() => /^1 member: /.test(document.getElementById('room-member-list')!.textContent ?? ''));
  });

  it('reconnects when its node comes back, sends what was typed meanwhile and shows what it missed', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await openPage(0, a, b);
    const bob = await openPage(1, b, a);
    await alice.fill('#text', 'before');
    await alice.press('#text', 'Enter');
    await bob.waitForSelector('#messages li[data-state="received"]');

    const old = mesh.nodes[1]!;
    await old.stop('SIGKILL');
    await bob.waitForSelector('#status[data-state="reconnecting"]');
    assert.match((await bob.textContent('#conn-banner')) ?? '', /reconnecting/);
    await alice.fill('#text', 'while you were away');
    await alice.press('#text', 'Enter');
    await alice.waitForFunction(() => document.querySelectorAll('#messages li[data-state="sent"]').length === 2);
    await bob.fill('#text', 'typed while offline');
    await bob.press('#text', 'Enter');
    assert.equal(await bob.getAttribute('#messages li.own', 'data-state'), 'sending');
    assert.equal(await bob.textContent('#messages li.own .tick'), 'sending…');
    await bob.fill('#text', 'a draft not sent yet');
    await shot(bob, 'reconnecting');

    mesh.nodes[1] = await startService('sv-websocket', { ...mesh.nodeEnv(1), PORT: String(old.port) });
    await bob.waitForSelector('#status[data-state="online"]', { timeout: 45_000 });
    await bob.waitForSelector('#messages li.own[data-state="sent"]');
    assert.equal(await bob.isHidden('#conn-banner'), true);
    assert.equal(await bob.inputValue('#text'), 'a draft not sent yet', 'the draft survives the outage');
    await bob.waitForFunction(() => document.querySelectorAll('#messages li').length === 3);
    assert.deepEqual(await bodies(bob), ['before', 'while you were away', 'typed while offline'], 'caught up, each message once, in seq order');
    await alice.waitForFunction(() => document.querySelectorAll('#messages li').length === 3);
    assert.deepEqual(await bodies(alice), ['before', 'while you were away', 'typed while offline']);
  });
});
